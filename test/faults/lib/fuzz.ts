/**
 * Message generators for the on-the-wire fuzz run: seeds are valid messages from our codec,
 * mutated the way real bugs and hostile peers mangle them (bit flips, random bytes, inserted or
 * deleted octets, truncation, length fields), plus pure noise. Deterministic for a seed, so a
 * failure is replayed with VIPCAST_FUZZ_SEED.
 */
import { encodeMessage, MessageType, type UpdateMessage } from '../../../src/speaker/codec/index.js';
import { CODEC, encodeOpen, frame } from './bad-peer.js';

/** mulberry32: small, fast, good enough to spread mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const v4 = (prefix: string) => ({ family: 'ipv4' as const, prefix });
const v6 = (prefix: string) => ({ family: 'ipv6' as const, prefix });

const SEED_UPDATES: UpdateMessage[] = [
  {
    type: MessageType.Update,
    withdrawn: [],
    attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65010] }], nextHop: '10.66.0.1' },
    nlri: [v4('203.0.113.0/24')],
  },
  {
    type: MessageType.Update,
    withdrawn: [v4('10.1.0.0/16'), v4('10.2.3.4/32')],
    attributes: {
      origin: 'incomplete',
      asPath: [
        { type: 'sequence', asns: [65010, 4200000001, 65010] },
        { type: 'set', asns: [1, 2, 3] },
      ],
      nextHop: '10.66.0.1',
      med: 5,
      atomicAggregate: true,
      aggregator: { asn: 65010, address: '10.66.0.1' },
      communities: [0xfde80064, 0xffff0000],
      largeCommunities: [[65010, 1, 2]],
      extendedCommunities: [Uint8Array.of(0, 2, 0xfd, 0xf2, 0, 0, 0, 1)],
      unknown: [{ flags: 0xc0, code: 250, value: Uint8Array.of(1, 2, 3, 4) }],
    },
    nlri: [v4('198.18.0.0/15'), v4('192.0.2.0/25')],
  },
  {
    type: MessageType.Update,
    withdrawn: [],
    attributes: {
      origin: 'igp',
      asPath: [{ type: 'sequence', asns: [65010] }],
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [v6('2001:db8:1::/48'), v6('2001:db8::10/128')] },
    },
    nlri: [],
  },
  {
    type: MessageType.Update,
    withdrawn: [],
    attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [v6('2001:db8:2::/64')] } },
    nlri: [],
  },
];

export const seedMessages = (): Buffer[] => [
  ...SEED_UPDATES.map((u) => encodeMessage(u, CODEC)),
  encodeMessage({ type: MessageType.RouteRefresh, afi: 1, safi: 1, subtype: 0 }, CODEC),
  encodeMessage({ type: MessageType.Keepalive }, CODEC),
  encodeMessage({ type: MessageType.Notification, code: 6, subcode: 2, data: Buffer.from('bye') }, CODEC),
];

export type FuzzKind = 'mutated-body' | 'noise-body' | 'random-type' | 'mutated-header';

export interface FuzzMessage {
  kind: FuzzKind;
  bytes: Buffer;
  /** The header's length field matches the bytes: vipcast can always decide. */
  framed: boolean;
  /** Type octet as sent. */
  type: number;
}

const int = (r: () => number, n: number): number => Math.floor(r() * n);

/** One body mutation; bounded work per call. */
function mutate(body: Buffer, r: () => number): Buffer {
  const b = Buffer.from(body);
  const op = int(r, 6);
  if (b.length === 0 || op === 0) return Buffer.concat([b, Buffer.from(Array.from({ length: 1 + int(r, 8) }, () => int(r, 256)))]);
  const at = int(r, b.length);
  switch (op) {
    case 1:
      b[at] = b[at]! ^ (1 << int(r, 8));
      return b;
    case 2:
      b[at] = int(r, 256);
      return b;
    case 3:
      return b.subarray(0, at);
    case 4:
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + int(r, 4))]);
    default: {
      // Length-like fields (the 2-octet withdrawn/attribute lengths, 1-octet attribute lengths)
      // are where decoders go wrong: write a plausible-but-wrong small number.
      b[at] = [0, 1, 2, 3, 4, 0xff, 0x80, 0x7f][int(r, 8)]!;
      return b;
    }
  }
}

function withBody(type: number, body: Buffer): Buffer | undefined {
  return 19 + body.length > 4096 ? undefined : frame(type, body);
}

/** One fuzz message. `seeds` are whole valid messages. */
export function fuzzMessage(seeds: Buffer[], r: () => number): FuzzMessage {
  const pick = int(r, 100);
  if (pick < 60) {
    const seed = seeds[int(r, seeds.length)]!;
    let body = seed.subarray(19);
    for (let k = 1 + int(r, 3); k > 0; k--) body = mutate(body, r);
    const bytes = withBody(seed[18]!, body) ?? seed;
    return { kind: 'mutated-body', bytes, framed: true, type: bytes[18]! };
  }
  if (pick < 80) {
    const body = Buffer.from(Array.from({ length: int(r, 120) }, () => int(r, 256)));
    return { kind: 'noise-body', bytes: frame(MessageType.Update, body), framed: true, type: MessageType.Update };
  }
  if (pick < 92) {
    const type = int(r, 256);
    const body = Buffer.from(Array.from({ length: int(r, 40) }, () => int(r, 256)));
    return { kind: 'random-type', bytes: frame(type, body), framed: true, type };
  }
  const seed = seeds[int(r, seeds.length)]!;
  const bytes = Buffer.from(seed);
  const at = int(r, 19);
  bytes[at] = int(r, 256);
  const framed = bytes.readUInt16BE(16) === bytes.length && bytes.subarray(0, 16).every((x) => x === 0xff);
  return { kind: 'mutated-header', bytes, framed, type: bytes[18]! };
}

/** A mutated OPEN, sent as the first message of a fresh connection. */
export function fuzzOpen(asn: number, r: () => number): Buffer {
  const open = encodeOpen({ asn, routerId: '10.66.0.1' });
  let body = open.subarray(19);
  for (let k = 1 + int(r, 2); k > 0; k--) body = mutate(body, r);
  return frame(MessageType.Open, body);
}
