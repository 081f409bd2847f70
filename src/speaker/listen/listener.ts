/**
 * The passive side (bgp.listen): accepts TCP connections and hands each to the session of the
 * neighbor with that address. A connection from anyone else is answered with NOTIFICATION
 * Cease/Connection Rejected (RFC 4486 §4 subcode 5: "used by a speaker when it rejects an
 * incoming connection") and closed.
 *
 * TCP-MD5 (RFC 2385): the kernel checks a SYN's signature against the keys of the listening
 * socket, so each keyed neighbor's key is set there (setMd5Keys, before its session exists, and
 * again whenever neighbors change). A connection accepted from a keyed neighbor also gets the key
 * on its own socket: one whose SYN came in unsigned before the listener was keyed (the window
 * between listen(2) and setsockopt) then has its unsigned segments dropped, so it cannot become a
 * session. Where the listener could not be keyed, that neighbor's connections are dropped.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { SocketOptionError, setTcpMd5Key } from '../../net/socket-options.js';
import { CeaseSubcode, ceaseNotification, encodeMessage } from '../codec/index.js';
import { BgpConnection, unmapIpv4 } from '../session/connection.js';
import { Md5FailureLog } from '../session/md5.js';

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
  /** Wanted TCP-MD5 keys by neighbor address, and those actually set on the listening socket. */
  #md5Wanted: ReadonlyMap<string, Uint8Array> = new Map();
  readonly #md5Installed = new Map<string, Uint8Array>();
  readonly #md5Failures: Md5FailureLog;

  constructor(private readonly opts: ListenerOptions) {
    this.#md5Failures = new Md5FailureLog(opts.logger, 'listener');
  }

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
        this.#syncMd5();
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

  /**
   * The TCP-MD5 key of every neighbor that has one (by address). Keys are set on the listening
   * socket now (or when it starts listening), changed ones replaced, dropped ones deleted.
   */
  setMd5Keys(keys: ReadonlyMap<string, Uint8Array>): void {
    this.#md5Wanted = new Map(keys);
    if (this.#server?.listening) this.#syncMd5();
  }

  #syncMd5(): void {
    const server = this.#server;
    if (!server) return;
    for (const [address, key] of this.#md5Installed) {
      if (this.#md5Wanted.has(address)) continue;
      this.#md5Installed.delete(address);
      try {
        setTcpMd5Key(server, address, undefined);
      } catch (err) {
        if (!(err instanceof SocketOptionError)) throw err;
        // Left in place it only keeps unsigned SYNs from a no longer keyed address out.
        this.opts.logger.error({ code: 'BGP_TCP_MD5_DELETE_FAILED', peer: address, err: err.message, key_bytes: key.length }, `cannot remove the TCP-MD5 key of ${address} from the listener`);
      }
    }
    for (const [address, key] of this.#md5Wanted) {
      if (this.#md5Installed.get(address) === key) continue;
      this.#md5Installed.delete(address);
      try {
        setTcpMd5Key(server, address, key);
        this.#md5Installed.set(address, key);
        this.#md5Failures.forget(address);
      } catch (err) {
        if (!(err instanceof SocketOptionError)) throw err;
        this.#md5Failures.report(address, err);
      }
    }
  }

  /** False (and the socket destroyed) when `remote` needs TCP-MD5 and this connection cannot be sure of it. */
  #md5Admits(socket: Socket, remote: string): boolean {
    const key = this.#md5Wanted.get(remote);
    if (key === undefined) return true;
    try {
      if (this.#md5Installed.get(remote) !== key) throw new SocketOptionError('SOCKOPT_FAILED', 'the listening socket has no key for this neighbor');
      setTcpMd5Key(socket, remote, key);
      return true;
    } catch (err) {
      if (!(err instanceof SocketOptionError)) throw err;
      if (err.code !== 'SOCKOPT_NO_FD') this.#md5Failures.report(remote, err);
      socket.destroy();
      return false;
    }
  }

  #accept(socket: Socket): void {
    const remote = unmapIpv4(socket.remoteAddress ?? '');
    if (!this.#md5Admits(socket, remote)) return;
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
