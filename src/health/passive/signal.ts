/**
 * Fan-out of one target's passive events to every check that points at it. One connection per
 * target is shared by all VIPs checking it; this is where their listeners meet.
 *
 * "Armed" models one connection epoch: a successful check arms the target, the first close or
 * reset fires the listeners once and disarms it until the next successful check. So a dead
 * server produces exactly one passive event, not one per retry, and the follow-up re-checks
 * come from the runner's fast_interval schedule.
 */
import type { Logger } from '../../log/logger.js';
import type { PassiveListener } from '../checks/types.js';

export class TargetSignal {
  readonly #listeners = new Set<PassiveListener>();
  readonly #logger: Logger;
  readonly #target: string;
  #armed = false;

  constructor(target: string, logger: Logger) {
    this.#target = target;
    this.#logger = logger;
  }

  get size(): number {
    return this.#listeners.size;
  }

  get armed(): boolean {
    return this.#armed;
  }

  subscribe(listener: PassiveListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  arm(): void {
    this.#armed = true;
  }

  disarm(): void {
    this.#armed = false;
  }

  /** Fire once per armed epoch. */
  fire(why: string): void {
    if (!this.#armed) return;
    this.#armed = false;
    this.#logger.debug({ target: this.#target, why }, 'passive detector fired');
    for (const listener of [...this.#listeners]) {
      try {
        listener(why);
      } catch (err) {
        // A listener is the runner's own code; log loudly rather than let one VIP break others.
        this.#logger.error({ err, target: this.#target }, 'passive listener threw');
      }
    }
  }
}
