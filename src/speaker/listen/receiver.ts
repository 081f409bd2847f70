/**
 * Receive-only mode (`vipcast listen`): a BGP speaker that originates nothing and reports every
 * route each peer announces and withdraws. It accepts sessions from any address (with any AS:
 * it is a test and inspection tool, like the BGP test utility in the vc5 seed) and connects
 * actively to the peers it is given (whose AS is then checked).
 */
import type { Logger } from 'pino';
import type { NeighborSpec, PeerStatus } from '../../backend/types.js';
import { DEFAULT_CONNECT_RETRY, type BackoffConfig } from '../fsm/index.js';
import { Session } from '../session/session.js';
import { BgpListener } from './listener.js';
import { routeEvents, type RouteEvent } from './route-format.js';

export interface ReceiverPeer {
  address: string;
  port: number;
  remoteAs: number;
  /** Source address for the outgoing connection. */
  localAddress?: string;
}

export interface ReceiverOptions {
  localAs: number;
  routerId: string;
  /** Listen here; undefined: only connect to `peers`. */
  listen?: { address: string; port: number };
  peers: ReceiverPeer[];
  holdTimeSec: number;
  logger: Logger;
  onRoute(e: RouteEvent): void;
  onPeer?(p: PeerStatus): void;
  connectRetry?: BackoffConfig;
}

export class Receiver {
  readonly #sessions = new Map<string, Session>();
  #listener?: BgpListener;

  constructor(private readonly opts: ReceiverOptions) {}

  get port(): number | undefined {
    return this.#listener?.port;
  }

  async start(): Promise<void> {
    if (this.opts.listen) {
      this.#listener = new BgpListener({
        ...this.opts.listen,
        logger: this.opts.logger,
        route: (remote) => {
          const s = this.#sessions.get(remote) ?? this.#session({ address: remote, port: 179, remoteAs: 0 }, true);
          return (conn) => s.acceptIncoming(conn);
        },
      });
      await this.#listener.start();
    }
    for (const p of this.opts.peers) this.#session(p, false);
  }

  peers(): PeerStatus[] {
    return [...this.#sessions.values()].map((s) => s.status());
  }

  async stop(message = 'vipcast listen stopping'): Promise<void> {
    const listenerClosed = this.#listener?.close();
    await Promise.all([...this.#sessions.values()].map((s) => s.stop(message)));
    await listenerClosed;
  }

  #session(p: ReceiverPeer, dynamic: boolean): Session {
    const neighbor: NeighborSpec = {
      address: p.address,
      port: p.port,
      remoteAs: p.remoteAs,
      localAddress: p.localAddress,
      passive: dynamic,
      ebgpMultihop: 255,
      families: ['ipv4', 'ipv6'],
      holdTimeSec: this.opts.holdTimeSec,
    };
    const session = new Session(
      {
        neighbor,
        localAs: this.opts.localAs,
        routerId: this.opts.routerId,
        nextHop: {},
        acceptAnyAs: dynamic,
        gracefulRestartTimeSec: 0,
        connectRetry: this.opts.connectRetry ?? DEFAULT_CONNECT_RETRY,
        logger: this.opts.logger,
        now: Date.now,
        random: Math.random,
      },
      {
        change: (status) => this.opts.onPeer?.(status),
        update: (u, peer) => {
          for (const e of routeEvents(u, peer.address, peer.remoteAs)) this.opts.onRoute(e);
        },
      },
    );
    this.#sessions.set(p.address, session);
    session.start();
    return session;
  }
}
