/**
 * Keep-alive connection pools for http(s) checks (checks/http-client.ts), one per origin (and
 * TLS mode), shared by every VIP checking that origin, and the passive detector built on their
 * sockets (issue 7).
 *
 * Reusing the keep-alive socket saves a handshake per check and gives us a connection the kernel
 * closes the moment the server process dies. After a passing response on a keep-alive socket,
 * the socket is observed: a FIN ('end') or a reset ('error') while it sits idle in the pool
 * fires the origin's listeners. Our own destroy() emits only 'close', so it never fires.
 * Servers that close idle keep-alive connections (Node's default is 5 s) cause one extra
 * check that passes; the runner rate-limits passive runs to one per fast_interval per check.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';
import { HttpOrigin } from '../checks/http-client.js';
import type { PassiveListener } from '../checks/types.js';
import { TargetSignal } from './signal.js';

/** One origin's pool and detector; checks keep theirs, so a run does no key look-up. */
export interface OriginRef {
  readonly pool: HttpOrigin;
  readonly signal: TargetSignal;
  refs: number;
}
type Origin = OriginRef;

export class HttpAgents {
  readonly #origins = new Map<string, Origin>();
  readonly #observed = new WeakSet<Socket>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  static key(url: URL, tlsSkipVerify: boolean): string {
    return `${url.protocol}//${url.host}${url.protocol === 'https:' ? `|skip=${tlsSkipVerify}` : ''}`;
  }

  /** The shared pool for an origin; call release() with the same key when the check goes away. */
  acquire(url: URL, tlsSkipVerify: boolean): OriginRef {
    const key = HttpAgents.key(url, tlsSkipVerify);
    let origin = this.#origins.get(key);
    if (!origin) {
      // A small pool per origin, shared by every VIP checking it: checks that are spread in
      // time (jitter) reuse one connection (LIFO keeps using the most recent one); up to four
      // run at once when many VIPs check one origin in the same instant (with a single socket,
      // 50 VIPs per origin queued past their timeouts). Free sockets never time out on our side
      // (the server decides), so an idle close is always the peer's doing.
      const tls = url.protocol === 'https:';
      const port = url.port === '' ? (tls ? 443 : 80) : Number(url.port);
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      const pool = new HttpOrigin({ tls, host, port, rejectUnauthorized: !tlsSkipVerify, maxSockets: 4 });
      origin = { pool, signal: new TargetSignal(`http:${key}`, this.#logger), refs: 0 };
      this.#origins.set(key, origin);
    }
    origin.refs++;
    return origin;
  }

  release(url: URL, tlsSkipVerify: boolean): void {
    const key = HttpAgents.key(url, tlsSkipVerify);
    const origin = this.#origins.get(key);
    if (!origin) return;
    origin.refs--;
    if (origin.refs <= 0) {
      origin.signal.disarm();
      origin.pool.destroy();
      this.#origins.delete(key);
    }
  }

  subscribe(url: URL, tlsSkipVerify: boolean, listener: PassiveListener): () => void {
    const origin = this.#origins.get(HttpAgents.key(url, tlsSkipVerify));
    if (!origin) throw new Error('HttpAgents.subscribe before acquire');
    return origin.signal.subscribe(listener);
  }

  /** After a passing keep-alive response: watch its socket and arm the origin's detector. */
  observe(origin: OriginRef, socket: Socket): void {
    if (origin.signal.size === 0) return;
    origin.signal.arm();
    if (this.#observed.has(socket)) return;
    this.#observed.add(socket);
    const signal = origin.signal;
    socket.once('end', () => signal.fire('http keep-alive connection closed by peer'));
    // The pool has its own error listener; ours only reports.
    socket.on('error', (err: NodeJS.ErrnoException) => signal.fire(`http keep-alive connection ${err.code ?? err.message}`));
  }

  close(): void {
    for (const origin of this.#origins.values()) {
      origin.signal.disarm();
      origin.pool.destroy();
    }
    this.#origins.clear();
  }
}
