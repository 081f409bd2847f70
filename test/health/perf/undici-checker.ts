/**
 * The http check done with undici instead of our own client (checks/http-client.ts), for the
 * side-by-side cost comparison in docs/perf-health.md (`measure.ts --client undici`). Not used
 * by vipcast: it exists to decide whether the hand-written client is worth keeping.
 *
 * Same job as HttpChecker on the measured path: one keep-alive connection per target (an
 * undici Client, i.e. one socket, no pipelining), GET, status in 200-299, the body read and
 * dropped, the check's AbortSignal passed to undici, and the connection's 'disconnect' event
 * as the passive detector. undici is loaded from VIPCAST_UNDICI (a path to its index.js) so
 * that vipcast does not depend on it: undici 8 (what testcontainers pulls in) needs Node 22, so
 * the comparison uses undici 7 installed outside the repo (`npm install undici@7 --prefix DIR`).
 */
import type { Checker, Outcome, PassiveListener } from '../../../src/health/checks/types.js';
import type { HttpCheckSpec } from '../../../src/health/types.js';

/** The part of undici's API used here (its types are not installed in the repo). */
interface UndiciBody {
  dump(): Promise<void>;
}
interface UndiciClient {
  request(opts: { path: string; method: string; signal?: AbortSignal; headers?: Record<string, string> }): Promise<{ statusCode: number; body: UndiciBody }>;
  on(event: 'disconnect', fn: (origin: unknown, targets: unknown, err: Error) => void): void;
  close(): Promise<void>;
}
interface Undici {
  Client: new (origin: string, opts: Record<string, unknown>) => UndiciClient;
}

export async function loadUndici(path: string): Promise<Undici> {
  return (await import(path)) as Undici;
}

const OK: Outcome = { ok: true, code: 'OK', reason: 'http status 200' };

export class UndiciHttpChecker implements Checker {
  readonly spec: HttpCheckSpec;
  readonly #client: UndiciClient;
  readonly #path: string;
  readonly #listeners = new Set<PassiveListener>();

  constructor(spec: HttpCheckSpec, undici: Undici) {
    this.spec = spec;
    const url = new URL(spec.url);
    this.#path = `${url.pathname}${url.search}`;
    // The server keeps idle connections 60 s; so do we (undici's default is 4 s).
    this.#client = new undici.Client(url.origin, { keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000, pipelining: 1 });
    this.#client.on('disconnect', (_o, _t, err) => {
      for (const l of this.#listeners) l(`http connection closed: ${err.message}`);
    });
  }

  async run(signal: AbortSignal): Promise<Outcome> {
    try {
      const { statusCode, body } = await this.#client.request({ path: this.#path, method: this.spec.method, signal });
      await body.dump();
      if (statusCode < 200 || statusCode > 299) return { ok: false, code: 'HTTP_STATUS', reason: `http status ${statusCode}` };
      return statusCode === 200 ? OK : { ok: true, code: 'OK', reason: `http status ${statusCode}` };
    } catch (err) {
      if (signal.aborted) return { ok: false, code: 'TIMEOUT', reason: 'http aborted' };
      return { ok: false, code: 'HTTP_ERROR', reason: `http ${(err as Error).message}` };
    }
  }

  watch(listener: PassiveListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  dispose(): void {
    void this.#client.close();
  }
}
