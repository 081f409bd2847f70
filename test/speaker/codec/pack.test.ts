/** packUpdates, endOfRib, encodePathAttributes: what was packed decodes back to exactly the input. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CodecInputError,
  canonicalPrefix,
  MessageType,
  decodeMessage,
  encodePathAttributes,
  endOfRib,
  packUpdates,
  parseCommunity,
  parseExtendedCommunity,
  type CodecOptions,
  type DecodedUpdate,
  type OutboundRoute,
  type OutboundWithdrawal,
  type PathAttributes,
  type Prefix,
} from '../../../src/speaker/codec/index.js';
import { encodeNlri } from '../../../src/speaker/codec/prefix.js';
import { arbIpv4, arbIpv6, arbPrefix } from './arbitraries.js';

const PLAIN: CodecOptions = { fourOctetAs: true, extendedMessage: false, extendedNextHopIpv4: false };
const EXTENDED: CodecOptions = { fourOctetAs: true, extendedMessage: true, extendedNextHopIpv4: true };
const TWO_OCTET: CodecOptions = { fourOctetAs: false, extendedMessage: false, extendedNextHopIpv4: false };

/** Routes and withdrawals as read back from UPDATE messages. */
function unpack(messages: Buffer[], opts: CodecOptions): { routes: OutboundRoute[]; withdrawals: Prefix[] } {
  const routes: OutboundRoute[] = [];
  const withdrawals: Prefix[] = [];
  for (const buf of messages) {
    const m = decodeMessage(buf, opts) as DecodedUpdate;
    expect(m.type).toBe(MessageType.Update);
    expect(m.treatAsWithdraw).toBeUndefined();
    expect(m.discarded).toBeUndefined();
    withdrawals.push(...m.withdrawn, ...(m.attributes.mpUnreach?.withdrawn ?? []));
    const a = m.attributes;
    const route = (prefix: Prefix, nextHop: string, linkLocal?: string): OutboundRoute => ({
      prefix,
      origin: a.origin!,
      asPath: (a.asPath ?? []).flatMap((s) => s.asns),
      nextHop,
      ...(linkLocal ? { nextHopLinkLocal: linkLocal } : {}),
      ...(a.med !== undefined ? { med: a.med } : {}),
      ...(a.localPref !== undefined ? { localPref: a.localPref } : {}),
      communities: a.communities ?? [],
      largeCommunities: a.largeCommunities ?? [],
      extendedCommunities: a.extendedCommunities ?? [],
    });
    for (const p of m.nlri) routes.push(route(p, a.nextHop!));
    if (a.mpReach) for (const p of a.mpReach.nlri) routes.push(route(p, a.mpReach.nextHops[0]!, a.mpReach.nextHops[1]));
  }
  return { routes, withdrawals };
}

/** One line per route, fields in a fixed order. */
const key = (r: OutboundRoute) =>
  [
    r.prefix.family,
    r.prefix.prefix,
    r.origin,
    r.asPath.join(' '),
    r.nextHop,
    r.nextHopLinkLocal ?? '',
    r.med ?? '',
    r.localPref ?? '',
    r.communities.join(','),
    r.largeCommunities.map((c) => c.join(':')).join(','),
    r.extendedCommunities.map((c) => Buffer.from(c).toString('hex')).join(','),
  ].join('|');
/** Sorted and joined: one string comparison, so a failure does not diff 100,000 objects. */
const sorted = (routes: OutboundRoute[]) => routes.map(key).sort().join('\n');

function hostRoutes(n: number, base: number, attrs: Omit<OutboundRoute, 'prefix'>): OutboundRoute[] {
  const out: OutboundRoute[] = [];
  for (let i = 0; i < n; i++) {
    const v = base + i;
    out.push({ ...attrs, prefix: { family: 'ipv4', prefix: `${v >>> 24}.${(v >> 16) & 255}.${(v >> 8) & 255}.${v & 255}/32` } });
  }
  return out;
}

const GROUP_A: Omit<OutboundRoute, 'prefix'> = {
  origin: 'igp',
  asPath: [65001],
  nextHop: '192.0.2.1',
  med: 10,
  communities: [parseCommunity('65001:100'), parseCommunity('graceful-shutdown')],
  largeCommunities: [[65001, 1, 2]],
  extendedCommunities: [parseExtendedCommunity('rt:65001:7')],
};
const GROUP_B: Omit<OutboundRoute, 'prefix'> = { origin: 'igp', asPath: [65001, 65001, 65001], nextHop: '192.0.2.1', communities: [], largeCommunities: [], extendedCommunities: [] };

describe('packUpdates', () => {
  it('10,000 /32s in two attribute groups: as few UPDATEs as fit, each full but the last of its group', () => {
    const routes = [...hostRoutes(6000, 0x0a000000, GROUP_A), ...hostRoutes(4000, 0x0b000000, GROUP_B)];
    const messages = packUpdates(routes, [], PLAIN);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(4096);
    expect(sorted(unpack(messages, PLAIN).routes)).toBe(sorted(routes));
    // Grouping: a message never mixes groups, and the count is the minimum for 5-octet prefixes.
    const attrLen = (m: Buffer) => m.readUInt16BE(21);
    const groupA = messages.filter((m) => attrLen(m) === attrLen(messages[0]!));
    const groupB = messages.filter((m) => attrLen(m) !== attrLen(messages[0]!));
    const minimum = (n: number, m: Buffer) => Math.ceil(n / Math.floor((4096 - 23 - attrLen(m)) / 5));
    expect(groupA).toHaveLength(minimum(6000, groupA[0]!));
    expect(groupB).toHaveLength(minimum(4000, groupB[0]!));
    for (const m of groupA.slice(0, -1)) expect(m.length + 5).toBeGreaterThan(4096);
  });

  it('extended messages (RFC 8654) pack up to 65535 octets', () => {
    const routes = hostRoutes(30000, 0x0a000000, GROUP_B);
    const messages = packUpdates(routes, [], EXTENDED);
    expect(messages.length).toBe(3);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(65535);
    expect(sorted(unpack(messages, EXTENDED).routes)).toBe(sorted(routes));
  });

  it('IPv6 routes go in MP_REACH_NLRI, with the link-local next hop when given', () => {
    const routes: OutboundRoute[] = Array.from({ length: 2000 }, (_, i) => ({
      ...GROUP_A,
      prefix: canonicalPrefix(`2001:db8::${(i + 1).toString(16)}/128`),
      nextHop: '2001:db8::1',
      nextHopLinkLocal: 'fe80::1',
    }));
    const messages = packUpdates(routes, [], PLAIN);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) {
      expect(m.length).toBeLessThanOrEqual(4096);
      const u = decodeMessage(m, PLAIN) as DecodedUpdate;
      expect(u.nlri).toEqual([]);
      expect(u.attributes.mpReach?.nextHops).toEqual(['2001:db8::1', 'fe80::1']);
    }
    expect(sorted(unpack(messages, PLAIN).routes)).toBe(sorted(routes));
  });

  it('IPv4 with an IPv6 next hop: MP_REACH_NLRI AFI 1 where RFC 8950 was negotiated, refused otherwise', () => {
    const route: OutboundRoute = { ...GROUP_B, prefix: { family: 'ipv4', prefix: '192.0.2.10/32' }, nextHop: '2001:db8::1' };
    const [msg] = packUpdates([route], [], EXTENDED);
    expect((decodeMessage(msg!, EXTENDED) as DecodedUpdate).attributes.mpReach).toMatchObject({ afi: 1, safi: 1, nextHops: ['2001:db8::1'] });
    expect(() => packUpdates([route], [], PLAIN)).toThrow(CodecInputError);
    try {
      packUpdates([route], [], PLAIN);
    } catch (err) {
      expect((err as CodecInputError).code).toBe('BGP_ENCODE_NEXT_HOP_FAMILY');
    }
  });

  it('on a 2-octet session, a 4-octet AS in the path goes out as AS_TRANS + AS4_PATH and reads back whole', () => {
    const route: OutboundRoute = { ...GROUP_B, prefix: { family: 'ipv4', prefix: '192.0.2.10/32' }, asPath: [4200000001, 4200000001] };
    const [msg] = packUpdates([route], [], TWO_OCTET);
    const u = decodeMessage(msg!, TWO_OCTET) as DecodedUpdate;
    expect(u.attributes.asPath).toEqual([{ type: 'sequence', asns: [23456, 23456] }]);
    expect(u.attributes.as4Path).toEqual([{ type: 'sequence', asns: [4200000001, 4200000001] }]);
  });

  it('withdrawals: IPv4 in the withdrawn routes field, IPv6 in MP_UNREACH_NLRI, before announcements', () => {
    const w: OutboundWithdrawal[] = [
      ...hostRoutes(1500, 0x0c000000, GROUP_B).map((r) => ({ prefix: r.prefix })),
      ...Array.from({ length: 500 }, (_, i) => ({ prefix: canonicalPrefix(`2001:db8:1::${(i + 1).toString(16)}/128`) })),
    ];
    const messages = packUpdates(hostRoutes(3, 0x0a000000, GROUP_B), w, PLAIN);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(4096);
    const back = unpack(messages, PLAIN);
    expect(back.withdrawals.map((p) => p.prefix).sort().join(' ')).toBe(w.map((x) => x.prefix.prefix).sort().join(' '));
    const last = decodeMessage(messages.at(-1)!, PLAIN) as DecodedUpdate;
    expect(last.nlri).toHaveLength(3);
  });

  it('any mix of routes and withdrawals decodes back exactly (property)', () => {
    const attrs = fc.record({
      origin: fc.constantFrom('igp' as const, 'egp' as const, 'incomplete' as const),
      asPath: fc.array(fc.integer({ min: 1, max: 0xffffffff }), { maxLength: 4 }),
      med: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
      communities: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 3 }),
      largeCommunities: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { maxLength: 2 }),
      extendedCommunities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { maxLength: 2 }),
    });
    const route = fc.oneof(
      fc.record({ prefix: arbPrefix('ipv4'), nextHop: arbIpv4 }),
      fc.record({ prefix: arbPrefix('ipv6'), nextHop: arbIpv6 }),
      fc.record({ prefix: arbPrefix('ipv4'), nextHop: arbIpv6 }),
    );
    // A few attribute sets shared by many routes, as VIPs share their policy.
    const scenario = fc.tuple(fc.array(attrs, { minLength: 1, maxLength: 3 }), fc.array(fc.tuple(route, fc.nat()), { maxLength: 300 }), fc.array(fc.oneof(arbPrefix('ipv4'), arbPrefix('ipv6')), { maxLength: 300 }), fc.constantFrom(PLAIN, EXTENDED));
    fc.assert(
      fc.property(scenario, ([sets, picks, withdrawn, opts]) => {
        const routes: OutboundRoute[] = picks
          .filter(([r]) => opts.extendedNextHopIpv4 || r.prefix.family === 'ipv6' || !r.nextHop.includes(':'))
          .map(([r, k]) => {
            const { med, ...a } = sets[k % sets.length]!;
            return { ...a, ...(med !== undefined ? { med } : {}), ...r };
          });
        const messages = packUpdates(routes, withdrawn.map((prefix) => ({ prefix })), opts);
        const max = opts.extendedMessage ? 65535 : 4096;
        for (const m of messages) expect(m.length).toBeLessThanOrEqual(max);
        const back = unpack(messages, opts);
        expect(sorted(back.routes)).toBe(sorted(routes));
        expect(back.withdrawals.map((p) => p.prefix).sort().join(' ')).toBe(withdrawn.map((p) => p.prefix).sort().join(' '));
      }),
      { numRuns: 60 },
    );
  });
});

describe('endOfRib (RFC 4724 §2)', () => {
  it('IPv4: an UPDATE with nothing in it', () => {
    expect(endOfRib('ipv4').toString('hex')).toBe(`${'ff'.repeat(16)}0017020000` + '0000');
  });
  it('IPv6: an UPDATE with an empty MP_UNREACH_NLRI for AFI 2 SAFI 1', () => {
    expect(decodeMessage(endOfRib('ipv6'), PLAIN)).toEqual({ type: MessageType.Update, withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, nlri: [] });
  });
});

describe('encodePathAttributes / encodeNlri (GoBGP pattrs_binary, nlri_binary)', () => {
  /** Parses one attribute TLV as GoBGP's GetPathAttribute would: flags, type, length, value. */
  function tlv(b: Buffer): { code: number; len: number } {
    const ext = (b[0]! & 0x10) !== 0;
    const len = ext ? b.readUInt16BE(2) : b[2]!;
    expect(b.length).toBe((ext ? 4 : 3) + len);
    return { code: b[1]!, len };
  }
  const decodeBlock = (parts: Buffer[], opts: CodecOptions): PathAttributes => {
    const block = Buffer.concat(parts);
    const body = Buffer.concat([Buffer.from([0, 0, block.length >> 8, block.length & 0xff]), block]);
    const msg = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([0, 19 + body.length, 2]), body]);
    return (decodeMessage(msg, opts) as DecodedUpdate).attributes;
  };

  it('IPv4: one attribute per element, ascending, NEXT_HOP included', () => {
    const route: OutboundRoute = { ...GROUP_A, prefix: { family: 'ipv4', prefix: '192.0.2.10/32' } };
    const parts = encodePathAttributes(route, PLAIN);
    expect(parts.map((p) => tlv(p).code)).toEqual([1, 2, 3, 4, 8, 16, 32]);
    expect(decodeBlock(parts, PLAIN)).toMatchObject({ origin: 'igp', nextHop: '192.0.2.1', med: 10, communities: GROUP_A.communities });
    expect(encodeNlri(route.prefix).toString('hex')).toBe('20c000020a');
  });

  it('encodeNlri: each result owns its bytes (the scratch it is built in is reused)', () => {
    const a = encodeNlri({ family: 'ipv4', prefix: '192.0.2.10/32' });
    const b = encodeNlri({ family: 'ipv6', prefix: '2001:db8::/32' });
    const c = encodeNlri({ family: 'ipv4', prefix: '10.0.0.0/8' });
    expect([a, b, c].map((x) => x.toString('hex'))).toEqual(['20c000020a', '2020010db8', '080a']);
  });

  it('IPv6: MP_REACH_NLRI carries the next hop and the route itself', () => {
    const route: OutboundRoute = { ...GROUP_B, prefix: { family: 'ipv6', prefix: '2001:db8::10/128' }, nextHop: '2001:db8::1' };
    const parts = encodePathAttributes(route, PLAIN);
    expect(parts.map((p) => tlv(p).code)).toEqual([1, 2, 14]);
    expect(decodeBlock(parts, PLAIN).mpReach).toEqual({ afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [route.prefix] });
  });
});
