/**
 * A misbehaving BGP peer for the fault suite (issue 6). It connects to vipcast's listener from a
 * configured (or deliberately unconfigured) loopback address and writes whatever bytes a test
 * gives it: valid messages built with our codec, or hand-made bad ones.
 *
 * What vipcast answers is read off the wire WITHOUT the codec's decoder: the framing and the
 * NOTIFICATION fields (RFC 4271 §4.1, §4.5) are parsed here by hand, so a bug in the decoder
 * cannot hide a wrong answer.
 */
import { connect, type Socket } from 'node:net';
import { encodeMessage, MessageType, type Capability, type CodecOptions, type OpenMessage } from '../../../src/speaker/codec/index.js';
import { waitFor } from '../../harness/wait.js';

/** Codec options of a plain RFC 4271 session plus 4-octet AS, what our OPEN negotiates. */
export const CODEC: CodecOptions = { fourOctetAs: true, extendedMessage: false, extendedNextHopIpv4: false };

/** One framed message as vipcast sent it. */
export interface WireMessage {
  type: number;
  body: Buffer;
  at: number;
}

export interface WireNotification {
  code: number;
  subcode: number;
  data: Buffer;
}

export class BadConn {
  readonly received: WireMessage[] = [];
  /** Bytes that did not frame as BGP (vipcast must never send any). */
  garbage = 0;
  closedAt?: number;
  #buf = Buffer.alloc(0);

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('close', () => (this.closedAt ??= Date.now()));
    socket.on('error', () => (this.closedAt ??= Date.now()));
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  #onData(d: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, d]);
    // Each round consumes at least 19 octets or stops: bounded by the buffer size.
    while (this.#buf.length >= 19) {
      const markerOk = this.#buf.subarray(0, 16).every((b) => b === 0xff);
      const len = this.#buf.readUInt16BE(16);
      if (!markerOk || len < 19) {
        this.garbage += this.#buf.length;
        this.#buf = Buffer.alloc(0);
        return;
      }
      if (this.#buf.length < len) return;
      this.received.push({ type: this.#buf[18]!, body: Buffer.from(this.#buf.subarray(19, len)), at: Date.now() });
      this.#buf = this.#buf.subarray(len);
    }
  }

  /**
   * Write bytes; false when they could not go out because the connection is already closed (by
   * vipcast, or by Node after vipcast's FIN), so that a test never blames vipcast for its answer
   * to bytes it never received.
   */
  send(bytes: Uint8Array | Uint8Array[]): boolean {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return false;
    for (const b of Array.isArray(bytes) ? bytes : [bytes]) this.socket.write(b);
    return true;
  }

  count(type: number): number {
    return this.received.filter((m) => m.type === type).length;
  }

  /** The first message of `type` at or after index `from`. */
  async next(type: number, opts: { from?: number; timeoutMs?: number } = {}): Promise<WireMessage> {
    try {
      // Short polls: the fuzz run does thousands of these waits.
      return await waitFor(() => this.received.slice(opts.from ?? 0).find((m) => m.type === type), { timeoutMs: opts.timeoutMs ?? 10_000, intervalMs: 2 });
    } catch (err) {
      const got = this.received.map((m) => m.type).join(',');
      throw new Error(`${(err as Error).message}: message type ${type} from vipcast (got types [${got}], closed=${this.closed})`, { cause: err });
    }
  }

  /** The NOTIFICATION vipcast sent, fields read off the wire. */
  async notification(timeoutMs = 10_000): Promise<WireNotification> {
    const m = await this.next(MessageType.Notification, { timeoutMs });
    return { code: m.body[0] ?? -1, subcode: m.body[1] ?? -1, data: m.body.subarray(2) };
  }

  waitClosed(timeoutMs = 10_000): Promise<true> {
    return waitFor(() => this.closed, { timeoutMs, intervalMs: 2, what: 'vipcast to close the connection' });
  }

  /**
   * OPEN exchange up to Established: wait for vipcast's OPEN, send ours and a KEEPALIVE, wait for
   * vipcast's KEEPALIVE (RFC 4271 §8.2.2 OpenSent -> OpenConfirm -> Established), then for the
   * IPv4 End-of-RIB that closes the initial advertisement (RFC 4724 §2), so that later UPDATEs
   * can only be answers to what the test sends.
   */
  async handshake(open: Partial<OpenMessage> & { asn: number }): Promise<void> {
    await this.next(MessageType.Open);
    this.send(encodeOpen(open));
    this.send(keepalive());
    await this.next(MessageType.Keepalive);
    await waitFor(() => this.received.some(isEndOfRibIpv4), { timeoutMs: 10_000, intervalMs: 2, what: 'End-of-RIB after the initial UPDATEs' });
  }

  /** Ask for the Adj-RIB-Out again (RFC 2918): a live session answers with UPDATEs. */
  async routeRefreshAnswered(timeoutMs = 5_000): Promise<WireMessage> {
    const from = this.received.length;
    this.send(routeRefresh(1, 1));
    return this.next(MessageType.Update, { from, timeoutMs });
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** RFC 4724 §2: the IPv4 unicast End-of-RIB is an UPDATE with nothing in it. */
export const isEndOfRibIpv4 = (m: WireMessage): boolean => m.type === (MessageType.Update as number) && m.body.equals(Buffer.alloc(4));

/** Connects to vipcast's listener from `localAddress`. */
export async function connectFrom(host: string, port: number, localAddress: string): Promise<BadConn> {
  const socket = connect({ host, port, localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  return new BadConn(socket);
}

// ---------------------------------------------------------------------------------------------
// Valid messages, from the codec

export function defaultCapabilities(asn: number): Capability[] {
  return [
    { kind: 'multiprotocol', afi: 1, safi: 1 },
    { kind: 'route-refresh' },
    { kind: 'four-octet-as', asn },
  ];
}

export function encodeOpen(o: Partial<OpenMessage> & { asn: number }): Buffer {
  const msg: OpenMessage = {
    type: MessageType.Open,
    version: o.version ?? 4,
    myAs: o.myAs ?? (o.asn > 0xffff ? 23456 : o.asn),
    holdTimeSec: o.holdTimeSec ?? 90,
    routerId: o.routerId ?? '10.66.0.1',
    capabilities: o.capabilities ?? defaultCapabilities(o.asn),
  };
  return encodeMessage(msg, CODEC);
}

export const keepalive = (): Buffer => encodeMessage({ type: MessageType.Keepalive }, CODEC);
export const routeRefresh = (afi: number, safi: number): Buffer =>
  encodeMessage({ type: MessageType.RouteRefresh, afi, safi, subtype: 0 }, CODEC);

// ---------------------------------------------------------------------------------------------
// Hand-made bytes

/** A header with any marker, length and type, followed by `body` (the length is NOT checked). */
export function frame(type: number, body: Uint8Array = new Uint8Array(0), o: { length?: number; marker?: number } = {}): Buffer {
  const out = Buffer.alloc(19 + body.length);
  out.fill(o.marker ?? 0xff, 0, 16);
  out.writeUInt16BE(o.length ?? 19 + body.length, 16);
  out[18] = type;
  out.set(body, 19);
  return out;
}

/** One path attribute TLV: flags, type code, 1-octet length (2 with Extended Length), value. */
export function attr(flags: number, code: number, value: number[] | Uint8Array, lengthOverride?: number): Buffer {
  const v = Buffer.from(value);
  const ext = (flags & 0x10) !== 0;
  const hdr = Buffer.alloc(ext ? 4 : 3);
  hdr[0] = flags;
  hdr[1] = code;
  if (ext) hdr.writeUInt16BE(lengthOverride ?? v.length, 2);
  else hdr[2] = lengthOverride ?? v.length;
  return Buffer.concat([hdr, v]);
}

/** An UPDATE message from raw fields (RFC 4271 §4.3), lengths computed unless overridden. */
export function rawUpdate(o: { withdrawn?: Uint8Array; attrs?: Uint8Array[]; nlri?: Uint8Array; withdrawnLength?: number; attrLength?: number }): Buffer {
  const withdrawn = Buffer.from(o.withdrawn ?? []);
  const attrs = Buffer.concat(o.attrs ?? []);
  const nlri = Buffer.from(o.nlri ?? []);
  const wl = Buffer.alloc(2);
  wl.writeUInt16BE(o.withdrawnLength ?? withdrawn.length);
  const al = Buffer.alloc(2);
  al.writeUInt16BE(o.attrLength ?? attrs.length);
  return frame(MessageType.Update, Buffer.concat([wl, withdrawn, al, attrs, nlri]));
}

/** Well-formed attributes of an eBGP route from AS `asn` (ORIGIN IGP, AS_PATH [asn], NEXT_HOP). */
export function goodAttrs(asn: number, nextHop = [10, 66, 0, 1]): Buffer[] {
  const asPath = Buffer.from([2, 1, (asn >>> 24) & 255, (asn >>> 16) & 255, (asn >>> 8) & 255, asn & 255]);
  return [attr(0x40, 1, [0]), attr(0x40, 2, asPath), attr(0x40, 3, nextHop)];
}

/** 203.0.113.0/24 as NLRI. */
export const NLRI_24 = Buffer.from([24, 203, 0, 113]);

/** An OPEN body with raw optional parameters (for parameter types the codec would not encode). */
export function rawOpen(o: { version?: number; myAs: number; holdTimeSec?: number; routerId?: number[]; params: Uint8Array }): Buffer {
  const head = Buffer.alloc(10);
  head[0] = o.version ?? 4;
  head.writeUInt16BE(o.myAs, 1);
  head.writeUInt16BE(o.holdTimeSec ?? 90, 3);
  head.set(o.routerId ?? [10, 66, 0, 1], 5);
  head[9] = o.params.length;
  return frame(MessageType.Open, Buffer.concat([head, o.params]));
}
