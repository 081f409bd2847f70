/**
 * One TCP connection carrying BGP: frames the byte stream into whole messages (RFC 4271 §4.1
 * header length), decodes them with the session's negotiated codec options, and writes encoded
 * messages with a promise that settles when Node has handed the bytes to the kernel (the write
 * callback), which is what `apply()` waits for.
 *
 * The connection reports to exactly one owner through callbacks; once closed it reports nothing
 * more, so a late event from a replaced connection can never disturb the session.
 */
import type { Socket } from 'node:net';
import { decodeMessage } from '../codec/message.js';
import { readMessageLength } from '../codec/header.js';
import { NotificationError } from '../codec/errors.js';
import type { CodecOptions, DecodedMessage } from '../codec/types.js';

export type Direction = 'outbound' | 'inbound';

export interface ConnectionHandlers {
  /** A whole, decoded message. */
  message(msg: DecodedMessage): void;
  /** The peer sent bytes we must answer with this NOTIFICATION (framing or decoding). */
  malformed(err: NotificationError): void;
  /** TCP is gone (reset, closed by the peer, or a socket error); `reason` as for /v1/peers. */
  closed(reason: string): void;
}

/** How long a graceful close (FIN after our last bytes) may take before we destroy the socket. */
const CLOSE_TIMEOUT_MS = 3_000;
/** Coalesce encoded messages into writes of about this size: fewer syscalls for big tables. */
const WRITE_CHUNK = 64 * 1024;

let nextId = 1;

export class BgpConnection {
  readonly id = nextId++;
  /** Negotiated after the OPEN exchange; plain RFC 4271 rules before. */
  codec: CodecOptions = { fourOctetAs: false, extendedMessage: false, extendedNextHopIpv4: false };
  #buf: Buffer = Buffer.alloc(0);
  #handlers?: ConnectionHandlers;
  #closed = false;
  #closing?: Promise<void>;

  constructor(
    readonly socket: Socket,
    readonly direction: Direction,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => this.#finish(socketErrorReason(err)));
    socket.on('close', () => this.#finish('connection closed by peer'));
    socket.on('end', () => this.#finish('connection closed by peer'));
  }

  get remoteAddress(): string {
    return unmapIpv4(this.socket.remoteAddress ?? '');
  }
  get localAddress(): string {
    return unmapIpv4(this.socket.localAddress ?? '');
  }
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Start delivering; messages that arrived before are delivered now, in order. */
  attach(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
    this.#drain();
  }

  /** Write whole encoded messages; resolves when Node has written the last one to the kernel. */
  write(messages: Buffer[]): Promise<void> {
    if (this.#closed || this.socket.destroyed) {
      return Promise.reject(Object.assign(new Error('BGP_CONNECTION_CLOSED: connection closed'), { code: 'BGP_CONNECTION_CLOSED' }));
    }
    const chunks = coalesce(messages);
    return new Promise<void>((resolve, reject) => {
      for (let i = 0; i < chunks.length; i++) {
        const last = i === chunks.length - 1;
        this.socket.write(chunks[i]!, last ? (err) => (err ? reject(err) : resolve()) : undefined);
      }
      if (chunks.length === 0) resolve();
    });
  }

  /**
   * Close gracefully: queued bytes (a NOTIFICATION) go out before our FIN; destroy after a bound.
   * Further events are not reported: the owner decided this connection is over.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#handlers = undefined;
    if (this.#closing) return this.#closing;
    const socket = this.socket;
    this.#closing = new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      const timer = setTimeout(() => socket.destroy(), CLOSE_TIMEOUT_MS);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
    return this.#closing;
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    if (this.#handlers) this.#drain();
  }

  /** Deliver every whole message in the buffer; each iteration consumes at least 19 octets. */
  #drain(): void {
    while (!this.#closed && this.#handlers) {
      let length: number | undefined;
      let msg: DecodedMessage;
      try {
        length = readMessageLength(this.#buf, this.codec);
        if (length === undefined || this.#buf.length < length) return;
        msg = decodeMessage(this.#buf.subarray(0, length), this.codec);
      } catch (err) {
        if (err instanceof NotificationError) return this.#handlers.malformed(err);
        throw err;
      }
      this.#buf = this.#buf.subarray(length);
      this.#handlers.message(msg);
    }
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const h = this.#handlers;
    this.#handlers = undefined;
    this.socket.destroy();
    h?.closed(reason);
  }
}

function coalesce(messages: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let batch: Buffer[] = [];
  let size = 0;
  for (const m of messages) {
    batch.push(m);
    size += m.length;
    if (size >= WRITE_CHUNK) {
      out.push(Buffer.concat(batch, size));
      batch = [];
      size = 0;
    }
  }
  if (batch.length > 0) out.push(batch.length === 1 ? batch[0]! : Buffer.concat(batch, size));
  return out;
}

/** "connect ECONNREFUSED", "read ECONNRESET": the syscall and errno, stable enough for /v1/peers. */
export function socketErrorReason(err: NodeJS.ErrnoException): string {
  if (err.syscall && err.code) return `${err.syscall} ${err.code}`;
  return err.code ?? err.message;
}

/** A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; configs name them a.b.c.d. */
export function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
