/**
 * A stand-in for the kubelet's livenessProbe on the gobgp sidecar (deploy/kubernetes/base/
 * daemonset.yaml: httpGet /healthz on vipcast's admin port): every `periodMs` it GETs /healthz
 * with `timeoutMs`; after `failureThreshold` consecutive failures it calls `restart` (the
 * container restart: SIGTERM gobgpd, start a fresh one) and starts counting again.
 *
 * It is a simulation of the kubelet's probe logic at the process level, not the kubelet: no
 * initialDelaySeconds, no preStop hook, no terminationGracePeriodSeconds, no restart backoff.
 */
import { sleep } from '../../harness/wait.js';

export interface KubeletSimOptions {
  adminPort: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
  restart: () => Promise<void>;
}

export class KubeletSim {
  restarts = 0;
  /** Every probe: ms since start and whether it passed. */
  readonly probes: Array<{ at: number; ok: boolean }> = [];
  #running = false;
  #loop?: Promise<void>;
  #t0 = 0;

  constructor(readonly opts: KubeletSimOptions) {}

  start(): void {
    this.#running = true;
    this.#t0 = Date.now();
    this.#loop = this.#run();
  }

  async #probe(): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.opts.adminPort}/healthz`, { signal: AbortSignal.timeout(this.opts.timeoutMs) });
      await res.text();
      // The kubelet counts 200-399 as success.
      return res.status >= 200 && res.status < 400;
    } catch {
      return false;
    }
  }

  async #run(): Promise<void> {
    let failures = 0;
    // Bounded: at most 10 minutes of probing even if stop() is never called.
    for (let i = 0; this.#running && i < Math.ceil(600_000 / this.opts.periodMs); i++) {
      const started = Date.now();
      const ok = await this.#probe();
      this.probes.push({ at: started - this.#t0, ok });
      failures = ok ? 0 : failures + 1;
      if (failures >= this.opts.failureThreshold) {
        failures = 0;
        this.restarts++;
        await this.opts.restart();
      }
      await sleep(Math.max(0, this.opts.periodMs - (Date.now() - started)));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}
