/** A health source driven by the test: set a VIP healthy or not, or freeze the loop. */
import type { HealthEngineLike, VipHealthLike } from '../../src/app/health-port.js';
import type { VipConfig } from '../../src/config/types.js';

export class ScriptedHealth implements HealthEngineLike {
  private readonly state = new Map<string, VipHealthLike>();
  private listener: (h: VipHealthLike) => void = () => {};
  private rounds?: NodeJS.Timeout;
  private lastRound = Date.now();
  frozen = false;
  stopped = false;

  constructor(vips: VipConfig[]) {
    this.update(vips);
  }
  start(): void {
    // A round every 50 ms unless frozen: what lastRoundAt means for the real engine.
    this.rounds = setInterval(() => {
      if (!this.frozen) this.lastRound = Date.now();
    }, 50);
  }
  stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.rounds);
    return Promise.resolve();
  }
  private readonly intervals = new Map<string, number>();
  update(vips: VipConfig[]): void {
    this.intervals.clear();
    for (const v of vips) this.intervals.set(v.name, v.policy.intervalMs);
    for (const v of vips) {
      if (!this.state.has(v.name)) this.state.set(v.name, { name: v.name, healthy: false, reason: 'starting', since: new Date(), lastDetector: 'initial' });
    }
    for (const name of [...this.state.keys()]) if (!vips.some((v) => v.name === name)) this.state.delete(name);
  }
  status(name: string): VipHealthLike | undefined {
    return this.state.get(name);
  }
  onTransition(listener: (h: VipHealthLike) => void): void {
    this.listener = listener;
  }
  lastRoundAt(): number {
    return this.lastRound;
  }
  /** The engine's rule: stalled once no round completed for 3 intervals (the shortest VIP's). */
  stalled(): string | undefined {
    const limit = 3 * Math.min(...this.intervals.values());
    const age = Date.now() - this.lastRound;
    return age > limit ? `no round completed for ${age} ms (limit ${limit} ms)` : undefined;
  }
  set(name: string, healthy: boolean, reason = healthy ? 'ok' : 'tcp: connect ECONNREFUSED'): void {
    const h = { name, healthy, reason, since: new Date(), lastDetector: 'periodic' as const };
    this.state.set(name, h);
    this.listener(h);
  }
}
