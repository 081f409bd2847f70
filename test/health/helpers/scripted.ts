/**
 * Scripted checkers for fake-clock tests: each answers from a controllable target, can hang
 * forever, and can emit passive events on demand.
 */
import type { CheckerFactory } from '../../../src/health/checks/index.js';
import { down, ok, type Checker, type Outcome, type PassiveListener } from '../../../src/health/checks/types.js';
import type { Clock } from '../../../src/health/clock.js';
import type { CheckSpec } from '../../../src/health/types.js';

export class Target {
  up = true;
  hang = false;
  /** Answer this long after the run starts, on `clock` (a fake clock: deterministic). */
  delayMs = 0;
  clock: Clock | undefined = undefined;
  runs = 0;
  readonly listeners = new Set<PassiveListener>();

  /** Simulate the persistent connection dropping. */
  drop(why = 'connection closed'): void {
    for (const l of [...this.listeners]) l(why);
  }
}

/** Targets are looked up by check label. */
export function scriptedFactory(targets: Map<string, Target>): CheckerFactory {
  return (spec: CheckSpec): Checker => {
    const target = targets.get(spec.label);
    if (!target) throw new Error(`no scripted target for ${spec.label}`);
    return {
      spec,
      run(): Promise<Outcome> {
        target.runs++;
        if (target.hang) return new Promise<Outcome>(() => undefined);
        const outcome = target.up ? ok() : down('CONNECT_REFUSED', 'refused');
        const clock = target.clock;
        if (target.delayMs > 0 && clock) return new Promise<Outcome>((resolve) => clock.setTimeout(() => resolve(outcome), target.delayMs));
        return Promise.resolve(outcome);
      },
      watch(listener: PassiveListener): () => void {
        target.listeners.add(listener);
        return () => target.listeners.delete(listener);
      },
    };
  };
}
