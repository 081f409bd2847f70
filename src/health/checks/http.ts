/**
 * http/https check with node:http(s) and a shared keep-alive agent per origin: status within
 * the expected ranges, optional body substring, custom method and headers, optional
 * tls_skip_verify. Only the first 64 KiB of the body are kept (the rest is drained so the
 * socket can be reused).
 */
import http from 'node:http';
import https from 'node:https';
import type { HttpAgents } from '../passive/http-agents.js';
import type { HttpCheckSpec } from '../types.js';
import { connectCode, down, errorCode, errorMessage, ok, type Checker, type Outcome, type PassiveListener } from './types.js';

const BODY_LIMIT = 64 * 1024;

interface Response {
  status: number;
  body: string;
  keepAlive: boolean;
  socket: import('node:net').Socket;
}

export class HttpChecker implements Checker {
  readonly spec: HttpCheckSpec;
  readonly #url: URL;
  readonly #agents: HttpAgents;
  readonly #agent: http.Agent;

  constructor(spec: HttpCheckSpec, agents: HttpAgents) {
    this.spec = spec;
    this.#url = new URL(spec.url);
    this.#agents = agents;
    this.#agent = agents.acquire(this.#url, spec.tlsSkipVerify);
  }

  async run(signal: AbortSignal): Promise<Outcome> {
    let res: Response;
    try {
      res = await this.#requestWithRetry(signal);
    } catch (err) {
      if (signal.aborted) return down('TIMEOUT', `http ${this.spec.method} ${this.spec.url} aborted`);
      const code = errorCode(err);
      const cls = code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' ? connectCode(err) : 'HTTP_ERROR';
      return down(cls, `http ${errorMessage(err)}`);
    }
    return this.#judge(res);
  }

  watch(listener: PassiveListener): () => void {
    return this.#agents.subscribe(this.#url, this.spec.tlsSkipVerify, listener);
  }

  /** Give the shared agent back (the engine calls this when the check is removed). */
  dispose(): void {
    this.#agents.release(this.#url, this.spec.tlsSkipVerify);
  }

  #judge(res: Response): Outcome {
    const inRange = this.spec.expectStatus.some(([lo, hi]) => res.status >= lo && res.status <= hi);
    if (!inRange) return down('HTTP_STATUS', `http status ${res.status} not in ${formatRanges(this.spec.expectStatus)}`);
    if (this.spec.bodyContains !== undefined && !res.body.includes(this.spec.bodyContains)) {
      return down('HTTP_BODY', `http body does not contain ${JSON.stringify(this.spec.bodyContains)}`);
    }
    if (res.keepAlive) this.#agents.observe(this.#url, this.spec.tlsSkipVerify, res.socket);
    return ok(`http status ${res.status}`);
  }

  /**
   * A keep-alive socket can be closed by the server just as we reuse it; Node then fails the
   * request with ECONNRESET. That says nothing about the server's health, so retry once on a
   * fresh connection (what Node's documentation recommends for idempotent requests).
   */
  async #requestWithRetry(signal: AbortSignal): Promise<Response> {
    try {
      return await this.#request(signal);
    } catch (err) {
      if (!signal.aborted && (err as { reusedSocket?: boolean }).reusedSocket === true && errorCode(err) === 'ECONNRESET') {
        return this.#request(signal);
      }
      throw err;
    }
  }

  #request(signal: AbortSignal): Promise<Response> {
    const mod = this.#url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(this.#url, { method: this.spec.method, headers: this.spec.headers, agent: this.#agent, signal, rejectUnauthorized: !this.spec.tlsSkipVerify });
      req.once('error', (err: Error & { reusedSocket?: boolean }) => {
        err.reusedSocket = req.reusedSocket;
        reject(err);
      });
      req.once('response', (res) => {
        // Taken now: once the response ends, a keep-alive socket is detached from it.
        const socket = res.socket;
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < BODY_LIMIT) {
            chunks.push(chunk);
            kept += chunk.length;
          }
        });
        res.once('error', reject);
        res.once('end', () => {
          const connection = String(res.headers.connection ?? '').toLowerCase();
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).subarray(0, BODY_LIMIT).toString('utf8'),
            keepAlive: res.httpVersion === '1.1' && connection !== 'close',
            socket,
          });
        });
      });
      req.end();
    });
  }
}

function formatRanges(ranges: Array<[number, number]>): string {
  return ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',');
}
