/**
 * The passive side (bgp.listen): accepts TCP connections and hands each to the session of the
 * neighbor with that address. A connection from anyone else is answered with NOTIFICATION
 * Cease/Connection Rejected (RFC 4486 §4 subcode 5: "used by a speaker when it rejects an
 * incoming connection") and closed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { CeaseSubcode, ceaseNotification, encodeMessage } from '../codec/index.js';
import { BgpConnection, unmapIpv4 } from '../session/connection.js';

export interface ListenerOptions {
  address: string;
  port: number;
  logger: Logger;
  /** Where a connection from `remoteAddress` goes; undefined rejects it. */
  route(remoteAddress: string): ((conn: BgpConnection) => void) | undefined;
}

const NO_CODEC = { fourOctetAs: false, extendedMessage: false, extendedNextHopIpv4: false };

export class BgpListener {
  #server?: Server;
  readonly #sockets = new Set<Socket>();

  constructor(private readonly opts: ListenerOptions) {}

  /** Listening port (useful with port 0). */
  get port(): number {
    const a = this.#server?.address();
    return typeof a === 'object' && a ? a.port : this.opts.port;
  }

  start(): Promise<void> {
    const server = createServer((socket) => this.#accept(socket));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) =>
        reject(Object.assign(new Error(`BGP_LISTEN_FAILED: cannot listen on ${this.opts.address}:${this.opts.port}: ${err.message}`, { cause: err }), { code: 'BGP_LISTEN_FAILED' })),
      );
      server.listen({ host: this.opts.address, port: this.opts.port }, () => {
        server.on('error', (err) => this.opts.logger.error({ code: 'BGP_LISTEN_ERROR', err }, 'BGP listener error'));
        resolve();
      });
    });
  }

  /**
   * Stop accepting. Resolves once every accepted connection has ended; connections handed to
   * sessions are theirs to close, so callers stop their sessions before awaiting this.
   */
  close(): Promise<void> {
    const server = this.#server;
    if (!server) return Promise.resolve();
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    const remote = unmapIpv4(socket.remoteAddress ?? '');
    const target = this.opts.route(remote);
    if (target) {
      target(new BgpConnection(socket, 'inbound'));
      return;
    }
    this.opts.logger.warn({ code: 'BGP_CONNECTION_REJECTED', remote }, `rejected BGP connection from ${remote}: not a configured neighbor`);
    this.#sockets.add(socket);
    socket.on('error', (err) => this.opts.logger.debug({ code: 'BGP_REJECT_WRITE_FAILED', remote, err: err.message }, 'rejected peer reset first'));
    socket.on('close', () => this.#sockets.delete(socket));
    socket.end(encodeMessage(ceaseNotification(CeaseSubcode.ConnectionRejected), NO_CODEC));
    setTimeout(() => socket.destroy(), 2_000).unref();
  }
}
