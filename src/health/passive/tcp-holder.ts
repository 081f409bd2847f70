/**
 * Held-open TCP connections for passive detection of tcp checks (issue 7).
 *
 * A tcp check connects afresh every run (a held connection alone would not notice a server
 * that closed its listener but keeps old connections open). After a passing run, the check
 * offers its connected socket here; if the target has listeners and no held socket, it is
 * kept. When the peer closes (FIN) or resets it, the kernel tells us at once and every check
 * of that target re-runs immediately. Our own destroy() never fires ('close' alone is ignored:
 * only 'end' and 'error' mean the peer went away).
 *
 * Servers that close idle connections right away would turn this into a reconnect loop, so a
 * target whose held sockets die young three times in a row gets an adoption backoff (1 s
 * doubling to 60 s). Not sooner: when a process dies, the re-check can still reach its
 * listening socket for a moment, and the connection held from that check is what reports the
 * death a second time.
 *
 * `connect_interval` (opt-in, docs/perf-health.md) trades part of that for cost: while a
 * connection is held open and the target's last fresh connect is younger than the interval, a
 * run passes on the held connection alone (holdsFresh). That proves the process and connection
 * are alive, not that the listener still accepts: a closed listener is seen at the next fresh
 * connect, at most connect_interval + interval later.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../log/logger.js';
import type { Clock } from '../clock.js';
import type { PassiveListener } from '../checks/types.js';
import { TargetSignal } from './signal.js';

const SHORT_LIVED_MS = 1_000;
/** Consecutive short-lived held connections tolerated before the backoff starts. */
const SHORT_LIVED_FREE = 3;
const MAX_BACKOFF_MS = 60_000;

interface Held {
  signal: TargetSignal;
  socket?: Socket;
  adoptedAt: number;
  /** When a check last connected afresh to the target (0: never). */
  connectedAt: number;
  shortLived: number;
  notBefore: number;
}

export class TcpHolder {
  readonly #targets = new Map<string, Held>();
  readonly #logger: Logger;
  readonly #clock: Clock;

  constructor(logger: Logger, clock: Clock) {
    this.#logger = logger;
    this.#clock = clock;
  }

  subscribe(host: string, port: number, listener: PassiveListener): () => void {
    const key = targetKey(host, port);
    let held = this.#targets.get(key);
    if (!held) {
      held = { signal: new TargetSignal(`tcp:${key}`, this.#logger), adoptedAt: 0, connectedAt: 0, shortLived: 0, notBefore: 0 };
      this.#targets.set(key, held);
    }
    const unsubscribe = held.signal.subscribe(listener);
    const entry = held;
    return () => {
      unsubscribe();
      if (entry.signal.size === 0) {
        entry.socket?.destroy();
        this.#targets.delete(key);
      }
    };
  }

  /** Offer a connected socket after a passing check. Returns true if it is now held (do not destroy it). */
  offer(host: string, port: number, socket: Socket): boolean {
    const held = this.#targets.get(targetKey(host, port));
    if (!held || held.signal.size === 0) return false;
    held.connectedAt = this.#clock.now();
    held.signal.arm();
    if (held.socket && !held.socket.destroyed) return false;
    if (this.#clock.now() < held.notBefore) {
      this.#logger.debug({ target: `${host}:${port}`, retryAt: held.notBefore }, 'tcp: not holding a connection yet (backoff after short-lived ones)');
      return false;
    }
    this.#adopt(held, socket);
    return true;
  }

  /**
   * Whether a check with connect_interval may pass without connecting: a connection to
   * host:port is held open and the last fresh connect to it is younger than maxAgeMs.
   */
  holdsFresh(host: string, port: number, maxAgeMs: number): boolean {
    const held = this.#targets.get(targetKey(host, port));
    const socket = held?.socket;
    if (!held || !socket || socket.destroyed || socket.readyState !== 'open') return false;
    return this.#clock.now() - held.connectedAt < maxAgeMs;
  }

  /** Number of held sockets (for tests and metrics). */
  heldCount(): number {
    let n = 0;
    for (const h of this.#targets.values()) if (h.socket && !h.socket.destroyed) n++;
    return n;
  }

  close(): void {
    for (const held of this.#targets.values()) {
      held.signal.disarm();
      held.socket?.destroy();
    }
    this.#targets.clear();
  }

  #adopt(held: Held, socket: Socket): void {
    held.socket = socket;
    held.adoptedAt = this.#clock.now();
    socket.setNoDelay(true);
    // Reading is what makes the kernel's FIN visible as 'end'; whatever the server sends is dropped.
    socket.on('data', () => undefined);
    socket.once('end', () => this.#lost(held, socket, 'tcp connection closed by peer'));
    socket.on('error', (err: NodeJS.ErrnoException) => this.#lost(held, socket, `tcp connection ${err.code ?? err.message}`));
    socket.resume();
  }

  #lost(held: Held, socket: Socket, why: string): void {
    if (held.socket !== socket) return;
    held.socket = undefined;
    socket.destroy();
    const now = this.#clock.now();
    held.shortLived = now - held.adoptedAt < SHORT_LIVED_MS ? held.shortLived + 1 : 0;
    const excess = held.shortLived - SHORT_LIVED_FREE;
    held.notBefore = excess > 0 ? now + Math.min(SHORT_LIVED_MS * 2 ** (excess - 1), MAX_BACKOFF_MS) : 0;
    this.#logger.debug({ why, livedMs: now - held.adoptedAt, shortLived: held.shortLived }, 'tcp: held connection lost');
    held.signal.fire(why);
  }
}

function targetKey(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
