/**
 * Fail points for fault testing, in the style of FreeBSD's fail(9) and etcd's gofail: named
 * places where a test makes a running vipcast misbehave on purpose, so that the fail-safes can
 * be exercised inside a live process instead of only by freezing it from outside (SIGSTOP).
 * Not for production. Read once, from the environment, when the health engine is built:
 *
 *   VIPCAST_FAILPOINTS = TERM { ";" TERM }
 *   TERM    = NAME "@" TRIGGER
 *   TRIGGER = DURATION [ "+" DURATION ]  fires DURATION after the engine starts; lasts the second
 *                                        duration (then releases), or until the engine stops
 *           | "file:" PATH               active while PATH exists (polled every 100 ms)
 *
 *   e.g. VIPCAST_FAILPOINTS=health-loop-hang@5s        VIPCAST_FAILPOINTS=health-loop-hang@2s+10s
 *        VIPCAST_FAILPOINTS=health-loop-hang@file:/run/vipcast-hang
 *
 * Names:
 * - `health-loop-hang`: the health loop stops completing rounds. Every timer of the VIP runners
 *   (rounds, deadlines, passive re-checks) and every check result and passive event is held
 *   instead of delivered, so checks are neither scheduled nor settled, exactly what a wedged
 *   checker or a scheduling bug would look like. The rest of the process (admin API, BGP
 *   sessions, the engine's liveness tick, the app's watchdog) keeps running. On release, held
 *   work is delivered in order, as after a SIGCONT. Stopping the engine releases it, so an
 *   ordered shutdown is not itself hung.
 *
 * Unset or empty: parseFailpoints returns [] and the engine wires nothing (zero cost). Any
 * malformed term is an error (code FAILPOINT_INVALID) naming the term: a fault test that
 * silently runs without its fault would prove nothing.
 */
import { existsSync } from 'node:fs';
import { parseDuration } from '../config/duration.js';
import type { Logger } from '../log/logger.js';
import type { CheckerFactory } from './checks/index.js';
import type { Checker } from './checks/types.js';
import type { Clock, TimerHandle } from './clock.js';

export const FAILPOINTS_ENV = 'VIPCAST_FAILPOINTS';
export const FAILPOINT_INVALID = 'FAILPOINT_INVALID';

export const FAILPOINT_NAMES = ['health-loop-hang'] as const;
export type FailpointName = (typeof FAILPOINT_NAMES)[number];

export type FailpointTrigger = { kind: 'after'; afterMs: number; forMs?: number } | { kind: 'file'; path: string };

export interface Failpoint {
  name: FailpointName;
  trigger: FailpointTrigger;
}

/** How often a `file:` trigger looks for its file. */
export const FILE_POLL_MS = 100;

export class FailpointError extends Error {
  readonly code = FAILPOINT_INVALID;
  constructor(message: string) {
    super(`${FAILPOINTS_ENV}: ${message} (fault testing only; syntax NAME@DURATION[+DURATION] or NAME@file:PATH, names: ${FAILPOINT_NAMES.join(', ')})`);
    this.name = 'FailpointError';
  }
}

/** Parses the variable's value; undefined or blank gives []. Throws FailpointError. */
export function parseFailpoints(text: string | undefined): Failpoint[] {
  if (text === undefined || text.trim() === '') return [];
  const seen = new Set<string>();
  return text
    .split(';')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((term) => {
      const fp = parseTerm(term);
      if (seen.has(fp.name)) throw new FailpointError(`"${fp.name}" given twice`);
      seen.add(fp.name);
      return fp;
    });
}

function parseTerm(term: string): Failpoint {
  const at = term.indexOf('@');
  if (at < 0) throw new FailpointError(`"${term}" has no trigger ("@5s" or "@file:PATH")`);
  const name = term.slice(0, at).trim();
  if (!(FAILPOINT_NAMES as readonly string[]).includes(name)) throw new FailpointError(`unknown fail point "${name}"`);
  const trigger = term.slice(at + 1).trim();
  if (trigger.startsWith('file:')) {
    const path = trigger.slice('file:'.length);
    if (!path.startsWith('/')) throw new FailpointError(`"${term}": the file trigger needs an absolute path`);
    return { name: name as FailpointName, trigger: { kind: 'file', path } };
  }
  const [after, forText, ...rest] = trigger.split('+');
  if (rest.length > 0) throw new FailpointError(`"${term}": at most one "+DURATION"`);
  const afterMs = durationOf(term, after ?? '');
  if (forText === undefined) return { name: name as FailpointName, trigger: { kind: 'after', afterMs } };
  const forMs = durationOf(term, forText);
  if (forMs === 0) throw new FailpointError(`"${term}": a zero duration would never fire`);
  return { name: name as FailpointName, trigger: { kind: 'after', afterMs, forMs } };
}

function durationOf(term: string, text: string): number {
  const d = parseDuration(text);
  if (!d.ok) throw new FailpointError(`"${term}": ${d.message}`);
  return d.ms;
}

type HeldTimer = { inner?: TimerHandle; cancelled: boolean };

/**
 * `health-loop-hang`: a gate between the VIP runners and the world. While hung, callbacks that
 * go through it (timers of the gated clock, check results, passive events) queue up; release
 * runs them in order.
 */
export class HangGate {
  #hung = false;
  #held: Array<() => void> = [];
  #timers: TimerHandle[] = [];
  #stopped = false;

  constructor(
    readonly failpoint: Failpoint,
    readonly logger: Logger,
  ) {}

  get hung(): boolean {
    return this.#hung;
  }

  /** Starts the trigger on the engine's real clock (which the gate never holds). */
  arm(clock: Clock): void {
    const t = this.failpoint.trigger;
    if (t.kind === 'after') {
      this.#timers.push(
        clock.setTimeout(() => {
          this.hang();
          if (t.forMs !== undefined) this.#timers.push(clock.setTimeout(() => this.release(), t.forMs));
        }, t.afterMs),
      );
      return;
    }
    const poll = (): void => {
      if (this.#stopped) return;
      if (existsSync(t.path)) this.hang();
      else this.release();
      // Only the latest poll timer can be pending: keep just that one.
      this.#timers = [clock.setTimeout(poll, FILE_POLL_MS)];
    };
    poll();
  }

  /** Engine stop: triggers off, held work delivered (so the runners can finish). */
  stop(clock: Clock): void {
    this.#stopped = true;
    for (const h of this.#timers) clock.clearTimeout(h);
    this.#timers = [];
    this.release();
  }

  hang(): void {
    if (this.#hung || this.#stopped) return;
    this.#hung = true;
    this.logger.warn({ failpoint: this.failpoint.name }, 'fail point fired: the health loop hangs (fault testing)');
  }

  release(): void {
    if (!this.#hung) return;
    this.#hung = false;
    this.logger.warn({ failpoint: this.failpoint.name, held: this.#held.length }, 'fail point released: the health loop resumes');
    while (this.#held.length > 0 && !this.#hung) {
      const fn = this.#held.shift()!;
      try {
        fn();
      } catch (err) {
        this.logger.error({ err }, 'held health-loop callback threw on release');
      }
    }
  }

  /** Runs `fn` now, or on release while hung. */
  pass(fn: () => void): void {
    if (this.#hung) this.#held.push(fn);
    else fn();
  }

  /** `base` whose timer callbacks go through the gate (a cancelled timer never runs). */
  clock(base: Clock): Clock {
    return {
      now: () => base.now(),
      setTimeout: (fn, ms) => {
        const timer: HeldTimer = { cancelled: false };
        timer.inner = base.setTimeout(() => {
          this.pass(() => {
            if (!timer.cancelled) fn();
          });
        }, ms);
        return timer;
      },
      clearTimeout: (handle) => {
        const timer = handle as HeldTimer;
        timer.cancelled = true;
        if (timer.inner !== undefined) base.clearTimeout(timer.inner);
      },
    };
  }

  /** `factory` whose checkers deliver results and passive events through the gate. */
  checkers(factory: CheckerFactory): CheckerFactory {
    return (spec, timeoutMs) => this.#gateChecker(factory(spec, timeoutMs));
  }

  /**
   * The checker with its result paths (run, start's done, watch's listener) through the gate.
   * A Proxy, so members this file does not know (added to Checker later) still reach the real
   * checker, bound to it (checkers keep #private state), instead of silently disappearing.
   */
  #gateChecker(inner: Checker): Checker {
    const overrides: Partial<Checker> = {
      run: (signal, timeoutMs) =>
        new Promise((resolve, reject) => {
          inner.run(signal, timeoutMs).then(
            (outcome) => this.pass(() => resolve(outcome)),
            (err: unknown) => this.pass(() => reject(err instanceof Error ? err : new Error(String(err)))),
          );
        }),
    };
    if (inner.start) overrides.start = (done, timeoutMs) => inner.start!((outcome) => this.pass(() => done(outcome)), timeoutMs);
    if (inner.watch) overrides.watch = (listener) => inner.watch!((why) => this.pass(() => listener(why)));
    return new Proxy(inner, {
      get: (target, key) => {
        if (Object.hasOwn(overrides, key)) return (overrides as Record<string | symbol, unknown>)[key];
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}

/** The gate for `health-loop-hang` if `failpoints` asks for it. */
export function hangGate(failpoints: Failpoint[], logger: Logger): HangGate | undefined {
  const fp = failpoints.find((f) => f.name === 'health-loop-hang');
  return fp ? new HangGate(fp, logger) : undefined;
}
