/**
 * A small BGP peer of our own over a raw TCP socket, for what real daemons will not do on
 * request: send a malformed UPDATE, go silent to let a hold timer expire, collide connections,
 * or show the exact bytes of a NOTIFICATION. It decodes what it receives with the codec but sends
 * whatever bytes the test gives it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  MessageType,
  decodeMessage,
  encodeMessage,
  readMessageLength,
  type Capability,
  type CodecOptions,
  type DecodedMessage,
  type OpenMessage,
} from '../../../src/speaker/codec/index.js';
import { waitFor } from '../wait.js';

export const CODEC_4OCTET: CodecOptions = { fourOctetAs: true, extendedMessage: false, extendedNextHopIpv4: false };

export interface RawOpenOptions {
  asn: number;
  routerId: string;
  holdTimeSec?: number;
  capabilities?: Capability[];
}

/** One connection, with every message received kept in order. */
export class RawConn {
  readonly received: DecodedMessage[] = [];
  /** Raw bytes of each message, parallel to `received`. */
  readonly raw: Buffer[] = [];
  /** Arrival time (performance.now()) of each message, parallel to `received`. */
  readonly arrivals: number[] = [];
  closed = false;
  #buf = Buffer.alloc(0);
  #pauseOn?: (m: DecodedMessage) => boolean;
  codec: CodecOptions = CODEC_4OCTET;

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => (this.closed = true));
  }

  #onData(d: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, d]);
    for (let i = 0; i < 1_000_000; i++) {
      const len = readMessageLength(this.#buf, { ...this.codec, extendedMessage: true });
      if (len === undefined || this.#buf.length < len) return;
      const bytes = this.#buf.subarray(0, len);
      this.raw.push(Buffer.from(bytes));
      this.arrivals.push(performance.now());
      const msg = decodeMessage(bytes, this.codec);
      this.received.push(msg);
      this.#buf = this.#buf.subarray(len);
      if (this.#pauseOn?.(msg)) {
        this.#pauseOn = undefined;
        this.socket.pause();
      }
    }
  }

  /**
   * Stop reading as soon as a received message matches (the rest of the chunk already read is
   * still decoded): the speaker's writes then back up in the kernel and in its socket buffer.
   */
  pauseOn(match: (m: DecodedMessage) => boolean): void {
    this.#pauseOn = match;
  }

  get paused(): boolean {
    return this.socket.isPaused();
  }

  /** Read again after pauseOn (and disarm it if it has not fired). */
  resume(): void {
    this.#pauseOn = undefined;
    this.socket.resume();
  }

  send(bytes: Buffer | Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The first message received after index `from` that matches. */
  async next<T extends DecodedMessage>(match: (m: DecodedMessage) => m is T, opts: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<T> {
    return waitFor(() => this.received.slice(opts.from ?? 0).find(match), { timeoutMs: opts.timeoutMs ?? 15_000, what: opts.what ?? 'a message' });
  }

  /** Wait for the speaker's OPEN, answer with ours and a KEEPALIVE, wait for its KEEPALIVE. */
  async handshake(o: RawOpenOptions): Promise<OpenMessage> {
    const open = await this.next(isOpen, { what: 'OPEN from the speaker' });
    const ours: OpenMessage = {
      type: MessageType.Open,
      version: 4,
      myAs: o.asn > 0xffff ? 23456 : o.asn,
      holdTimeSec: o.holdTimeSec ?? 90,
      routerId: o.routerId,
      capabilities: o.capabilities ?? defaultCapabilities(o.asn),
    };
    this.send(encodeMessage(ours, this.codec));
    this.send(encodeMessage({ type: MessageType.Keepalive }, this.codec));
    await this.next(isKeepalive, { what: 'KEEPALIVE from the speaker' });
    return open;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function defaultCapabilities(asn: number): Capability[] {
  return [
    { kind: 'multiprotocol', afi: 1, safi: 1 },
    { kind: 'multiprotocol', afi: 2, safi: 1 },
    { kind: 'route-refresh' },
    { kind: 'four-octet-as', asn },
  ];
}

export const isOpen = (m: DecodedMessage): m is OpenMessage => m.type === MessageType.Open;
export const isKeepalive = (m: DecodedMessage): m is Extract<DecodedMessage, { type: MessageType.Keepalive }> => m.type === MessageType.Keepalive;
export const isUpdate = (m: DecodedMessage): m is Extract<DecodedMessage, { type: MessageType.Update }> => m.type === MessageType.Update;
export const isNotification = (m: DecodedMessage): m is Extract<DecodedMessage, { type: MessageType.Notification }> =>
  m.type === MessageType.Notification;

/** A listening raw peer: the speaker connects to it. Every accepted connection is kept. */
export class RawPeer {
  readonly conns: RawConn[] = [];
  #server?: Server;
  host = '';
  port = 0;

  static async listen(host: string, port = 0): Promise<RawPeer> {
    const peer = new RawPeer();
    const server = createServer((s) => peer.conns.push(new RawConn(s)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address();
    peer.#server = server;
    peer.host = host;
    peer.port = typeof addr === 'object' && addr ? addr.port : port;
    return peer;
  }

  /** The n-th accepted connection (0-based), once it exists. */
  connection(n: number, timeoutMs = 15_000): Promise<RawConn> {
    return waitFor(() => this.conns[n], { timeoutMs, what: `connection #${n} from the speaker` });
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.close();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Connect to a speaker's listener from `localAddress`. */
export async function rawConnect(host: string, port: number, localAddress?: string): Promise<RawConn> {
  const socket = connect({ host, port, localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return new RawConn(socket);
}
