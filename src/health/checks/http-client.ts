/**
 * A minimal keep-alive HTTP/1.1 client for health checks: one small pool of connections per
 * origin (at most `maxSockets`, idle ones reused last-in first-out), a request serialised once
 * per check (a Buffer written as is), and the response read by ResponseParser. It replaces
 * node:http's Agent + ClientRequest, whose per-request machinery (two streams, header
 * objects, abort-signal plumbing, agent bookkeeping) was most of a check's CPU; see
 * docs/perf-health.md for the measurements.
 *
 * Behaviour kept from the node:http version: a request that fails on a reused keep-alive
 * connection before any response byte arrived is retried once on a fresh connection (the
 * server may close an idle connection just as we reuse it); errors are Node's socket errors
 * (ECONNREFUSED, ECONNRESET, TLS certificate errors) so the checker classifies them as before.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ResponseParser, type ParsedResponse } from './http-parse.js';

export interface OriginOptions {
  tls: boolean;
  /** Host to connect to, without IPv6 brackets. */
  host: string;
  port: number;
  rejectUnauthorized: boolean;
  maxSockets: number;
}

/** One request, serialised once and reused for every run of a check. */
export interface PreparedRequest {
  bytes: Buffer;
  head: boolean;
  bodyLimit: number;
}

export interface HttpResponse extends ParsedResponse {
  socket: net.Socket;
}

/** What Exchange.cancel() fails the request with unless told otherwise. */
export const ABORT_ERROR: Error = Object.freeze(new Error('aborted'));

/** Called once per request: an error, or the response and the socket it came on. */
export type ResponseCallback = (err: Error | undefined, res: ParsedResponse | undefined, socket: net.Socket | undefined) => void;

/** One request in flight; `cancel` (the check's timeout) fails it and closes its connection. */
export class Exchange {
  readonly req: PreparedRequest;
  readonly #origin: HttpOrigin;
  readonly cb: ResponseCallback;
  retried = false;
  done = false;
  /** The connection carrying it, while it does. */
  conn: Conn | undefined = undefined;

  constructor(origin: HttpOrigin, req: PreparedRequest, cb: ResponseCallback) {
    this.#origin = origin;
    this.req = req;
    this.cb = cb;
  }

  cancel(err: Error = ABORT_ERROR): void {
    this.#origin.cancel(this, err);
  }
}

class Conn {
  /** Set right after construction (the socket's read callback needs the Conn first). */
  socket!: net.Socket;
  exchange: Exchange | undefined;
  parser: ResponseParser | undefined;
  requests = 0;
  closed = false;
}

/** Reads of every plain-TCP check connection land here, one at a time (see #connect). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Errors of a reused connection the server had already closed (before any response byte). */
const RETRYABLE = new Set(['ECONNRESET', 'EPIPE']);

export function hangUp(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

export class HttpOrigin {
  readonly #opts: OriginOptions;
  readonly #idle: Conn[] = [];
  readonly #waiting: Exchange[] = [];
  #open = 0;
  #destroyed = false;

  constructor(opts: OriginOptions) {
    this.#opts = opts;
  }

  /**
   * Send `req`; `cb` gets the response (or the error) exactly once, never synchronously from
   * here. The exchange's `cancel` (for the check's timeout) destroys the connection in use, or
   * drops the request from the queue, and fails it with the error given.
   */
  send(req: PreparedRequest, cb: ResponseCallback): Exchange {
    const exchange = new Exchange(this, req, cb);
    this.#dispatch(exchange, false);
    return exchange;
  }

  /** send() as a promise (tests). */
  request(req: PreparedRequest): { response: Promise<HttpResponse>; cancel: (err: Error) => void } {
    let exchange!: Exchange;
    const response = new Promise<HttpResponse>((resolve, reject) => {
      exchange = this.send(req, (err, res, socket) => (err || !res || !socket ? reject(err ?? hangUp()) : resolve({ ...res, socket })));
    });
    return { response, cancel: (err) => exchange.cancel(err) };
  }

  /** Open connections (idle and busy), for tests. */
  get size(): number {
    return this.#open;
  }

  destroy(): void {
    this.#destroyed = true;
    // Deferred: a callback never runs from inside the caller's own call.
    for (const ex of this.#waiting.splice(0)) process.nextTick(() => this.#fail(ex, hangUp()));
    for (const conn of this.#idle.splice(0)) conn.socket.destroy();
  }

  #dispatch(ex: Exchange, fresh: boolean): void {
    if (this.#destroyed) {
      process.nextTick(() => this.#fail(ex, hangUp()));
      return;
    }
    if (!fresh) {
      const idle = this.#idle.pop();
      if (idle) return this.#send(idle, ex);
    }
    if (this.#open < this.#opts.maxSockets) return this.#send(this.#connect(), ex);
    if (fresh && this.#idle.length > 0) return this.#send(this.#idle.pop()!, ex);
    this.#waiting.push(ex);
  }

  #send(conn: Conn, ex: Exchange): void {
    conn.exchange = ex;
    ex.conn = conn;
    // One parser per connection, reset per request.
    if (conn.parser) conn.parser.reset(ex.req.head, ex.req.bodyLimit);
    else conn.parser = new ResponseParser(ex.req.head, ex.req.bodyLimit);
    conn.requests++;
    // Written before 'connect' on a new socket: net buffers it until the connection is up.
    conn.socket.write(ex.req.bytes);
  }

  #connect(): Conn {
    const { host, port } = this.#opts;
    const conn = new Conn();
    // Plain TCP reads straight into one shared buffer (net's `onread`): no Buffer, stream push
    // and 'data' event per response, which were a good part of a check's CPU and most of its
    // garbage (docs/perf-health.md). The parser copies what it keeps. 'end', 'error' and
    // 'close' are emitted as usual.
    const socket = this.#opts.tls
      ? tls.connect({ host, port, rejectUnauthorized: this.#opts.rejectUnauthorized, ...(net.isIP(host) ? {} : { servername: host }) })
      : net.connect({ host, port, onread: { buffer: READ_BUFFER, callback: (n: number) => this.#onRead(conn, n) } });
    socket.setNoDelay(true);
    conn.socket = socket;
    this.#open++;
    if (this.#opts.tls) socket.on('data', (data: Buffer) => this.#onData(conn, data));
    socket.on('end', () => this.#onClose(conn, undefined));
    socket.on('error', (err: Error) => this.#onClose(conn, err));
    socket.on('close', () => this.#onClose(conn, undefined));
    return conn;
  }

  /** net hands back READ_BUFFER itself: its first `n` bytes are this read (no view made per read). */
  #onRead(conn: Conn, n: number): boolean {
    this.#onData(conn, READ_BUFFER, n);
    return true;
  }

  #onData(conn: Conn, data: Buffer, length = data.length): void {
    const ex = conn.exchange;
    if (!ex || !conn.parser) {
      // Bytes nobody asked for: the connection's framing is lost.
      conn.socket.destroy();
      return;
    }
    let res: ParsedResponse | undefined;
    try {
      res = conn.parser.push(data, length);
    } catch (err) {
      conn.socket.destroy();
      this.#onClose(conn, err as Error);
      return;
    }
    if (res) this.#complete(conn, ex, res);
  }

  #complete(conn: Conn, ex: Exchange, res: ParsedResponse): void {
    conn.exchange = undefined;
    ex.conn = undefined;
    if (!ex.done) {
      ex.done = true;
      ex.cb(undefined, res, conn.socket);
    }
    if (!res.keepAlive || this.#destroyed) {
      conn.socket.destroy();
      this.#onClose(conn, undefined);
      return;
    }
    const next = this.#waiting.shift();
    if (next) this.#send(conn, next);
    else this.#idle.push(conn);
  }

  #onClose(conn: Conn, err: Error | undefined): void {
    if (conn.closed) return;
    conn.closed = true;
    this.#open--;
    if (!conn.socket.destroyed) conn.socket.destroy();
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    const ex = conn.exchange;
    const parser = conn.parser;
    conn.exchange = undefined;
    conn.parser = undefined;
    if (ex) ex.conn = undefined;
    if (ex && !ex.done) {
      const res = err ? undefined : parser?.end();
      if (res) {
        ex.done = true;
        ex.cb(undefined, res, conn.socket);
      } else if (conn.requests > 1 && !ex.retried && !parser?.started && (err === undefined || RETRYABLE.has((err as NodeJS.ErrnoException).code ?? ''))) {
        // The server closed an idle keep-alive connection just as we reused it.
        ex.retried = true;
        this.#dispatch(ex, true);
        return;
      } else {
        this.#fail(ex, err ?? hangUp());
      }
    }
    // A slot is free: start a queued request on a new connection.
    const next = this.#waiting.shift();
    if (next) this.#dispatch(next, false);
  }

  /** Exchange.cancel(). */
  cancel(ex: Exchange, err: Error): void {
    if (ex.done) return;
    const w = this.#waiting.indexOf(ex);
    if (w >= 0) this.#waiting.splice(w, 1);
    // Fail first, then close the connection carrying it (in an unknown state now): its
    // 'close' then finds the exchange done and only frees the slot.
    this.#fail(ex, err);
    ex.conn?.socket.destroy();
  }

  #fail(ex: Exchange, err: Error): void {
    if (ex.done) return;
    ex.done = true;
    ex.cb(err, undefined, undefined);
  }
}
