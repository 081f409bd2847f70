import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MAX_DURATION_MS, formatDuration, parseDuration } from '../../src/config/duration.js';

describe('parseDuration', () => {
  test.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5s', 1500],
    ['0.1s', 100],
    ['0s', 0],
    [' 2s ', 2000],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  test.each(['2', '2.5', '', 's', '2 s', '2sec', '-1s', '1s1m', '1s1s', '0.0001s', '1d', '8760h'])('rejects %j', (text) => {
    expect(parseDuration(text).ok).toBe(false);
  });

  test('a bare number is refused with a hint naming units', () => {
    const r = parseDuration('30');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/unit/);
  });
});

describe('formatDuration', () => {
  test.each([
    [0, '0s'],
    [500, '500ms'],
    [90_000, '1m30s'],
    [3_600_001, '1h1ms'],
  ])('%d ms = %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test('round trip: parse(format(ms)) = ms for every whole ms up to a week', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toEqual({ ok: true, ms });
      }),
      { numRuns: 2000 },
    );
  });

  test('round trip: format(parse(text)) is canonical and parses to the same value', () => {
    // Hours capped so the total stays within the one-week limit.
    const part = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 100 }), fc.constant('h')),
      fc.tuple(fc.integer({ min: 0, max: 999 }), fc.constantFrom('m', 's', 'ms')),
    );
    const text = fc.array(part, { minLength: 1, maxLength: 4 }).map((parts) => {
      const order = ['h', 'm', 's', 'ms'];
      const seen = new Set<string>();
      return parts
        .filter(([, u]) => (seen.has(u) ? false : (seen.add(u), true)))
        .sort((a, b) => order.indexOf(a[1]) - order.indexOf(b[1]))
        .map(([n, u]) => `${n}${u}`)
        .join('');
    });
    fc.assert(
      fc.property(text, (t) => {
        const r = parseDuration(t);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const again = parseDuration(formatDuration(r.ms));
        expect(again).toEqual({ ok: true, ms: r.ms });
      }),
    );
  });
});
