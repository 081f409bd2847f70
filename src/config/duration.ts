/**
 * Durations as written in vipcast.yaml: "500ms", "2s", "1m", "1h", or compounds like "1m30s"
 * (largest unit first, as Go's time.ParseDuration prints them). A unit is always required:
 * a bare number is ambiguous (seconds for hold_time in BIRD, milliseconds elsewhere), and
 * guessing wrong by a factor of 1000 turns a 2 s check into a 33-minute one.
 */

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
/** Units in the order a compound must use them (largest first). */
const UNIT_ORDER: readonly Unit[] = ['h', 'm', 's', 'ms'];

const COMPONENT = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;

/** Largest duration accepted anywhere (a week): beyond it setTimeout and hold timers make no sense. */
export const MAX_DURATION_MS = 7 * 24 * 3_600_000;

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

/** Parses a duration string into whole milliseconds. */
export function parseDuration(text: string): DurationResult {
  const s = text.trim();
  if (s === '') return { ok: false, message: 'empty duration' };
  if (/^\d+(\.\d+)?$/.test(s)) {
    return { ok: false, message: `duration "${s}" needs a unit, e.g. "${s}s" or "${s}ms"` };
  }
  let total = 0;
  let pos = 0;
  let lastUnit = -1;
  while (pos < s.length) {
    COMPONENT.lastIndex = pos;
    const m = COMPONENT.exec(s);
    if (!m) return { ok: false, message: `invalid duration "${s}" (use e.g. 500ms, 2s, 1m, 1h, 1m30s)` };
    const unit = m[2] as Unit;
    const order = UNIT_ORDER.indexOf(unit);
    if (order <= lastUnit) return { ok: false, message: `invalid duration "${s}": units must go from largest to smallest, each once` };
    lastUnit = order;
    total += Number(m[1]) * UNIT_MS[unit];
    pos = COMPONENT.lastIndex;
  }
  // Fractions are allowed ("1.5s") but must land on a whole millisecond: timers have no finer grain.
  const ms = Math.round(total * 1000) / 1000;
  if (!Number.isInteger(ms)) return { ok: false, message: `duration "${s}" is not a whole number of milliseconds` };
  if (ms > MAX_DURATION_MS) return { ok: false, message: `duration "${s}" is longer than a week` };
  return { ok: true, ms };
}

/** Formats milliseconds in the compound form parseDuration reads back ("1m30s", "500ms", "0s"). */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new RangeError(`formatDuration: ${ms} is not a non-negative integer`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of UNIT_ORDER) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * UNIT_MS[unit];
  }
  return out;
}
