/**
 * http/https check over a shared keep-alive connection pool per origin (http-client.ts):
 * status within the expected ranges, optional body substring, custom method and headers,
 * optional tls_skip_verify. Only the first 64 KiB of the body are kept (the rest is read and
 * dropped so the connection can be reused). The request is serialised once, here: every run
 * writes the same bytes.
 */
import type { Socket } from 'node:net';
import type { HttpAgents, OriginRef } from '../passive/http-agents.js';
import type { HttpCheckSpec } from '../types.js';
import { ABORT_ERROR, type PreparedRequest } from './http-client.js';
import type { ParsedResponse } from './http-parse.js';
import { connectCode, down, errorCode, errorMessage, ok, runViaStart, type Checker, type Outcome, type PassiveListener, type RunningCheck } from './types.js';

const BODY_LIMIT = 64 * 1024;

export class HttpChecker implements Checker {
  readonly spec: HttpCheckSpec;
  readonly #url: URL;
  readonly #agents: HttpAgents;
  readonly #origin: OriginRef;
  /** The serialised request, or why it cannot be sent (reported on every run, as node:http did). */
  readonly #request: PreparedRequest | string;
  readonly #okReasons = new Map<number, Outcome>();

  constructor(spec: HttpCheckSpec, agents: HttpAgents) {
    this.spec = spec;
    this.#url = new URL(spec.url);
    this.#agents = agents;
    this.#origin = agents.acquire(this.#url, spec.tlsSkipVerify);
    this.#request = prepare(spec, this.#url);
  }

  run(signal: AbortSignal): Promise<Outcome> {
    return runViaStart((done) => this.start(done), signal, () => this.#aborted());
  }

  /** The runner's callback form: no promise or abort signal per run (see Checker.start). */
  start(done: (outcome: Outcome) => void): RunningCheck {
    if (typeof this.#request === 'string') {
      done(down('HTTP_ERROR', `http ${this.#request}`));
      return NOT_RUNNING;
    }
    // The exchange is the running check: its cancel() fails it with ABORTED.
    return this.#origin.pool.send(this.#request, (err, res, socket) => {
      if (err === ABORTED) done(this.#aborted());
      else if (err || !res || !socket) done(classify(err));
      else done(this.#judge(res, socket));
    });
  }

  watch(listener: PassiveListener): () => void {
    return this.#agents.subscribe(this.#url, this.spec.tlsSkipVerify, listener);
  }

  /** Give the shared pool back (the engine calls this when the check is removed). */
  dispose(): void {
    this.#agents.release(this.#url, this.spec.tlsSkipVerify);
  }

  #aborted(): Outcome {
    return down('TIMEOUT', `http ${this.spec.method} ${this.spec.url} aborted`);
  }

  #judge(res: ParsedResponse, socket: Socket): Outcome {
    if (!inRanges(res.status, this.spec.expectStatus)) return down('HTTP_STATUS', `http status ${res.status} not in ${formatRanges(this.spec.expectStatus)}`);
    if (this.spec.bodyContains !== undefined && !res.body.includes(this.spec.bodyContains)) {
      return down('HTTP_BODY', `http body does not contain ${JSON.stringify(this.spec.bodyContains)}`);
    }
    if (res.keepAlive) this.#agents.observe(this.#origin, socket);
    // Outcomes are read-only once made: one per status, not one per run.
    let outcome = this.#okReasons.get(res.status);
    if (!outcome) {
      outcome = ok(`http status ${res.status}`);
      this.#okReasons.set(res.status, outcome);
    }
    return outcome;
  }
}

/**
 * The request line and headers as bytes. Host comes from the URL (default port omitted)
 * unless configured; keep-alive is explicit. Header names and values must not contain CR, LF
 * or NUL (RFC 9110 §5.5): such a spec is reported down with the reason, never sent.
 */
function prepare(spec: HttpCheckSpec, url: URL): PreparedRequest | string {
  const lines = [`${spec.method} ${url.pathname}${url.search} HTTP/1.1`];
  const names = new Set(Object.keys(spec.headers).map((n) => n.toLowerCase()));
  if (!names.has('host')) lines.push(`Host: ${url.host}`);
  for (const [name, value] of Object.entries(spec.headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return `invalid header name ${JSON.stringify(name)}`;
    if (/[\r\n\0]/.test(value)) return `invalid character in header ${JSON.stringify(name)}`;
    lines.push(`${name}: ${value}`);
  }
  if (!names.has('connection')) lines.push('Connection: keep-alive');
  return { bytes: Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head: spec.method === 'HEAD', bodyLimit: spec.bodyContains === undefined ? 0 : BODY_LIMIT };
}

const NOT_RUNNING: RunningCheck = { cancel: () => undefined };
/** What a cancelled exchange fails with (Exchange.cancel's default): the check timed out. */
const ABORTED = ABORT_ERROR;

function classify(err: Error | undefined): Outcome {
  const code = errorCode(err);
  const cls = code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' ? connectCode(err) : 'HTTP_ERROR';
  return down(cls, `http ${errorMessage(err ?? new Error('no response'))}`);
}

function inRanges(status: number, ranges: Array<[number, number]>): boolean {
  for (const [lo, hi] of ranges) if (status >= lo && status <= hi) return true;
  return false;
}

function formatRanges(ranges: Array<[number, number]>): string {
  return ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',');
}
