/**
 * The practical limit for bulk advertisement: a minimal BGP speaker that pre-encodes packed
 * UPDATEs (as many /32s per 4096-byte message as fit, RFC 4271 §4.3) and writes them straight
 * to the socket. It is the baseline, so it is deliberately independent of vipcast's codec:
 * a bug shared by both would otherwise hide in the ratio.
 *
 * Only what the benchmark needs: OPEN with multiprotocol ipv4-unicast (RFC 4760) and 4-octet
 * AS (RFC 6793) capabilities, KEEPALIVE, UPDATE with ORIGIN, AS_PATH, NEXT_HOP and NLRI.
 */
import { createConnection, type Socket } from 'node:net';

const MAX_MESSAGE = 4096;
const HEADER = 19;

function message(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(HEADER, 0xff);
  header.writeUInt16BE(HEADER + body.length, 16);
  header.writeUInt8(type, 18);
  return Buffer.concat([header, body]);
}

function ipv4(addr: string): Buffer {
  return Buffer.from(addr.split('.').map(Number));
}

export function encodeOpen(localAs: number, routerId: string, holdTime: number): Buffer {
  const caps = Buffer.concat([
    Buffer.from([1, 4, 0, 1, 0, 1]), // multiprotocol: AFI 1 (IPv4), SAFI 1 (unicast)
    Buffer.from([65, 4]), // 4-octet AS number
    u32(localAs),
  ]);
  const param = Buffer.concat([Buffer.from([2, caps.length]), caps]);
  const body = Buffer.alloc(10);
  body.writeUInt8(4, 0);
  body.writeUInt16BE(localAs > 0xffff ? 23456 : localAs, 1);
  body.writeUInt16BE(holdTime, 3);
  ipv4(routerId).copy(body, 5);
  body.writeUInt8(param.length, 9);
  return message(1, Buffer.concat([body, param]));
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export const KEEPALIVE = message(4, Buffer.alloc(0));

/** /32 NLRI entries: length byte 32 and four address bytes. */
function hostNlri(prefixes: readonly string[]): Buffer[] {
  return prefixes.map((p) => Buffer.concat([Buffer.from([32]), ipv4(p.split('/')[0]!)]));
}

/** Packed announcements of `prefixes` (all /32) with one shared attribute set. */
export function encodeAnnouncements(prefixes: readonly string[], localAs: number, nextHop: string): Buffer[] {
  const attrs = Buffer.concat([
    Buffer.from([0x40, 1, 1, 0]), // ORIGIN IGP
    Buffer.from([0x40, 2, 6, 2, 1]), // AS_PATH: one AS_SEQUENCE of one 4-octet AS
    u32(localAs),
    Buffer.from([0x40, 3, 4]), // NEXT_HOP
    ipv4(nextHop),
  ]);
  const room = MAX_MESSAGE - HEADER - 4 - attrs.length;
  return pack(hostNlri(prefixes), room, (nlri) => {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(0, 0); // no withdrawn routes
    head.writeUInt16BE(attrs.length, 2);
    return message(2, Buffer.concat([head, attrs, nlri]));
  });
}

/** Packed withdrawals of `prefixes` (all /32). */
export function encodeWithdrawals(prefixes: readonly string[]): Buffer[] {
  const room = MAX_MESSAGE - HEADER - 4;
  return pack(hostNlri(prefixes), room, (withdrawn) => {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(withdrawn.length);
    return message(2, Buffer.concat([len, withdrawn, Buffer.from([0, 0])]));
  });
}

function pack(entries: Buffer[], room: number, build: (payload: Buffer) => Buffer): Buffer[] {
  const out: Buffer[] = [];
  let batch: Buffer[] = [];
  let size = 0;
  for (const e of entries) {
    if (size + e.length > room) {
      out.push(build(Buffer.concat(batch)));
      batch = [];
      size = 0;
    }
    batch.push(e);
    size += e.length;
  }
  if (batch.length > 0) out.push(build(Buffer.concat(batch)));
  return out;
}

/**
 * A raw session: connects, exchanges OPEN/KEEPALIVE, answers keepalives. `established`
 * resolves when the peer's KEEPALIVE confirms our OPEN (RFC 4271 §8, OpenConfirm -> Established).
 */
export class RawSession {
  readonly established: Promise<void>;
  private sock: Socket;
  private keepalive?: NodeJS.Timeout;

  constructor(opts: { host: string; port: number; localAddress: string; localAs: number; routerId: string }) {
    this.sock = createConnection({ host: opts.host, port: opts.port, localAddress: opts.localAddress });
    this.sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    this.established = new Promise((resolve, reject) => {
      this.sock.once('connect', () => this.sock.write(encodeOpen(opts.localAs, opts.routerId, 90)));
      this.sock.on('error', reject);
      this.sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        // Bounded by the bytes received: each pass consumes one whole message.
        while (buf.length >= HEADER && buf.length >= buf.readUInt16BE(16)) {
          const len = buf.readUInt16BE(16);
          const type = buf.readUInt8(18);
          if (type === 1) this.sock.write(KEEPALIVE);
          else if (type === 4) resolve();
          else if (type === 3) reject(new Error(`NOTIFICATION from peer: ${buf.subarray(19, len).toString('hex')}`));
          buf = buf.subarray(len);
        }
      });
    });
    this.keepalive = setInterval(() => this.sock.write(KEEPALIVE), 30_000);
    this.keepalive.unref();
  }

  /** Writes all messages; resolves when the kernel has taken them (the socket drained). */
  async write(messages: Buffer[]): Promise<void> {
    const all = Buffer.concat(messages);
    await new Promise<void>((resolve, reject) => this.sock.write(all, (err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    clearInterval(this.keepalive);
    this.sock.destroy();
  }
}

/** N distinct /32 VIPs in 10.0.0.0/8 (first one 10.0.0.1). */
export function hostPrefixes(n: number, base = 0): string[] {
  const out: string[] = [];
  for (let i = 1; i <= n; i++) {
    const x = base + i;
    out.push(`10.${(x >> 16) & 255}.${(x >> 8) & 255}.${x & 255}/32`);
  }
  return out;
}
