/**
 * OPEN capabilities (RFC 5492), as a table indexed by capability code: each row decodes the value
 * octets into a Capability and encodes it back. Codes we do not know are kept raw (`unknown`), as
 * RFC 5492 §3 asks a speaker to ignore capabilities it does not understand. A known capability
 * with a malformed value is answered with OPEN Message Error/Unspecific (RFC 4271 §6.2: "recognized
 * but malformed").
 */
import { copyBytes } from './bytes.js';
import { NotificationError } from './errors.js';
import type { Capability } from './types.js';

type Kind = Capability['kind'];
type Of<K extends Kind> = Extract<Capability, { kind: K }>;

interface CapabilityCodec<K extends Kind> {
  code: number;
  name: string;
  kind: K;
  decode(v: Uint8Array): Of<K>;
  encode(c: Of<K>): Uint8Array;
}

function malformed(name: string, v: Uint8Array): NotificationError {
  return new NotificationError('BGP_OPEN_UNSPECIFIC', `malformed ${name} capability (${v.length} octets)`);
}

const u16 = (v: Uint8Array, i: number): number => ((v[i] ?? 0) << 8) | (v[i + 1] ?? 0);
const u32 = (v: Uint8Array, i: number): number => (u16(v, i) * 65536 + u16(v, i + 2)) >>> 0;

function expectLength(name: string, v: Uint8Array, n: number): void {
  if (v.length !== n) throw malformed(name, v);
}

const multiprotocol: CapabilityCodec<'multiprotocol'> = {
  code: 1,
  name: 'multiprotocol', // RFC 4760 §8: AFI, reserved, SAFI
  kind: 'multiprotocol',
  decode(v) {
    expectLength(this.name, v, 4);
    return { kind: 'multiprotocol', afi: u16(v, 0), safi: v[3] ?? 0 };
  },
  encode: (c) => Uint8Array.of(c.afi >> 8, c.afi & 0xff, 0, c.safi),
};

function flagOnly<K extends 'route-refresh' | 'extended-message' | 'enhanced-route-refresh'>(code: number, kind: K): CapabilityCodec<K> {
  return {
    code,
    name: kind,
    kind,
    decode(v) {
      expectLength(kind, v, 0);
      return { kind } as Of<K>;
    },
    encode: () => new Uint8Array(0),
  };
}

const extendedNextHop: CapabilityCodec<'extended-next-hop'> = {
  code: 5,
  name: 'extended-next-hop', // RFC 8950 §3: (NLRI AFI 2, NLRI SAFI 2, next hop AFI 2)*
  kind: 'extended-next-hop',
  decode(v) {
    if (v.length === 0 || v.length % 6 !== 0) throw malformed(this.name, v);
    const entries = [];
    for (let i = 0; i < v.length; i += 6) entries.push({ afi: u16(v, i), safi: u16(v, i + 2), nextHopAfi: u16(v, i + 4) });
    return { kind: 'extended-next-hop', entries };
  },
  encode(c) {
    const out = new Uint8Array(c.entries.length * 6);
    c.entries.forEach((e, k) => {
      const i = k * 6;
      out.set([e.afi >> 8, e.afi & 0xff, e.safi >> 8, e.safi & 0xff, e.nextHopAfi >> 8, e.nextHopAfi & 0xff], i);
    });
    return out;
  },
};

// RFC 4724 §3 flags nibble: Restart State (R, 0x8), and Notification (N, 0x4) from RFC 8538 §2.
const GR_RESTARTING = 0x8;
const GR_NOTIFICATION = 0x4;
const GR_FORWARDING = 0x80;

const gracefulRestart: CapabilityCodec<'graceful-restart'> = {
  code: 64,
  name: 'graceful-restart',
  kind: 'graceful-restart',
  decode(v) {
    if (v.length < 2 || (v.length - 2) % 4 !== 0) throw malformed(this.name, v);
    const flags = (v[0] ?? 0) >> 4;
    const families = [];
    for (let i = 2; i < v.length; i += 4) {
      families.push({ afi: u16(v, i), safi: v[i + 2] ?? 0, forwardingPreserved: ((v[i + 3] ?? 0) & GR_FORWARDING) !== 0 });
    }
    const cap: Of<'graceful-restart'> = {
      kind: 'graceful-restart',
      restarting: (flags & GR_RESTARTING) !== 0,
      restartTimeSec: u16(v, 0) & 0x0fff,
      families,
    };
    if (flags & GR_NOTIFICATION) cap.notification = true;
    return cap;
  },
  encode(c) {
    const out = new Uint8Array(2 + 4 * c.families.length);
    const flags = (c.restarting ? GR_RESTARTING : 0) | (c.notification ? GR_NOTIFICATION : 0);
    const time = Math.min(c.restartTimeSec, 0x0fff);
    out[0] = (flags << 4) | (time >> 8);
    out[1] = time & 0xff;
    c.families.forEach((f, k) => out.set([f.afi >> 8, f.afi & 0xff, f.safi, f.forwardingPreserved ? GR_FORWARDING : 0], 2 + 4 * k));
    return out;
  },
};

const fourOctetAs: CapabilityCodec<'four-octet-as'> = {
  code: 65,
  name: 'four-octet-as', // RFC 6793 §3
  kind: 'four-octet-as',
  decode(v) {
    expectLength(this.name, v, 4);
    return { kind: 'four-octet-as', asn: u32(v, 0) };
  },
  encode: (c) => Uint8Array.of(c.asn >>> 24, (c.asn >>> 16) & 0xff, (c.asn >>> 8) & 0xff, c.asn & 0xff),
};

/** The capability table, by code. Adding a capability is adding a row. */
const ROWS = [
  multiprotocol,
  flagOnly(2, 'route-refresh'), // RFC 2918
  extendedNextHop,
  flagOnly(6, 'extended-message'), // RFC 8654
  gracefulRestart,
  fourOctetAs,
  flagOnly(70, 'enhanced-route-refresh'), // RFC 7313
] as Array<CapabilityCodec<Kind>>;

const BY_CODE = new Map<number, CapabilityCodec<Kind>>(ROWS.map((r) => [r.code, r]));
const BY_KIND = new Map<Kind, CapabilityCodec<Kind>>(ROWS.map((r) => [r.kind, r]));

export function decodeCapability(code: number, value: Uint8Array): Capability {
  const row = BY_CODE.get(code);
  return row ? row.decode(value) : { kind: 'unknown', code, value: copyBytes(value) };
}

/** Code and value octets of one capability. */
export function encodeCapability(cap: Capability): { code: number; value: Uint8Array } {
  if (cap.kind === 'unknown') return { code: cap.code, value: cap.value };
  const row = BY_KIND.get(cap.kind);
  if (!row) throw new Error(`no codec for capability ${cap.kind}`);
  return { code: row.code, value: row.encode(cap) };
}

/** Capability TLVs (code, length, value) back to back, e.g. for Unsupported Capability data (RFC 5492 §5). */
export function encodeCapabilityTlvs(caps: Capability[]): Uint8Array {
  const parts = caps.map(encodeCapability);
  const out = new Uint8Array(parts.reduce((n, p) => n + 2 + p.value.length, 0));
  let i = 0;
  for (const p of parts) {
    if (p.value.length > 255) throw new Error(`capability ${p.code} value longer than 255 octets`);
    out[i++] = p.code;
    out[i++] = p.value.length;
    out.set(p.value, i);
    i += p.value.length;
  }
  return out;
}

/** Parses capability TLVs in v; an overrun is a malformed Capabilities parameter. */
export function decodeCapabilityTlvs(v: Uint8Array): Capability[] {
  const caps: Capability[] = [];
  let i = 0;
  while (i < v.length) {
    if (i + 2 > v.length) throw new NotificationError('BGP_OPEN_UNSPECIFIC', 'truncated capability header');
    const code = v[i] ?? 0;
    const len = v[i + 1] ?? 0;
    if (i + 2 + len > v.length) throw new NotificationError('BGP_OPEN_UNSPECIFIC', `capability ${code} runs past its parameter`);
    caps.push(decodeCapability(code, v.subarray(i + 2, i + 2 + len)));
    i += 2 + len;
  }
  return caps;
}
