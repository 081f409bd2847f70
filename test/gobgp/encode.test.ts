/**
 * The lazy encoding of the desired set (src/gobgp/encode.ts) and the per-route shortcuts of
 * desiredPath (NLRI from the parsed bytes): the same paths as encoding from scratch, whatever
 * order the chunks, keys() and paths() are asked in; unchanged routes reuse the previous
 * complete pass's objects; changed attributes do not.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalPrefix, encodeNlri, formatIpv4, formatIpv6 } from '../../src/speaker/codec/index.js';
import { PathEncoder } from '../../src/gobgp/encode.js';
import { desiredPath } from '../../src/gobgp/paths.js';
import type { VipRoute } from '../../src/backend/types.js';
import { desired, vip } from './fixtures.js';

const ctx = { localAs: 65001, nextHop: { ipv4: '192.0.2.254', ipv6: '2001:db8::1' } };
const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');

const prefixArb = fc.oneof(
  fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 })).map(([b, l]) => `${formatIpv4(b)}/${l}`),
  fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 })).map(([b, l]) => `${formatIpv6(b)}/${l}`),
);

describe('desiredPath', () => {
  it('the NLRI and prefix text are those of the codec for any prefix, host bits cleared (property)', () => {
    fc.assert(
      fc.property(prefixArb, (text) => {
        const p = desiredPath(vip(text), ctx);
        const c = canonicalPrefix(text);
        expect(p.prefix).toBe(c.prefix);
        expect(hex(p.path.nlri_binary)).toBe(hex(encodeNlri(c)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('EncodePass', () => {
  const routes: VipRoute[] = [
    ...Array.from({ length: 50 }, (_, i) => vip(`10.0.${i >> 8}.${i & 255}/32`, { communities: ['65001:1'] })),
    ...Array.from({ length: 10 }, (_, i) => vip(`2001:db8::${i + 1}/128`, { med: i })),
  ];
  const scratch = (r: VipRoute) => desiredPath(r, ctx);

  it('chunks, keys() and paths() give what encoding each route from scratch gives, in any order', () => {
    const enc = new PathEncoder(ctx);
    const pass = enc.begin(desired(...routes));
    expect(pass.size).toBe(60);
    expect(pass.keys()).toEqual(new Set(routes.map((r) => r.prefix)));
    const first = pass.chunk(30, 45);
    const all = pass.paths();
    expect(pass.chunk(30, 45)).toEqual(first.map((p) => all.get(p.prefix)));
    expect([...all.keys()]).toEqual(routes.map((r) => r.prefix));
    for (const r of routes) {
      const p = all.get(r.prefix)!;
      const want = scratch(r);
      expect(p.raw).toBe(want.raw);
      expect(hex(p.path.nlri_binary)).toBe(hex(want.path.nlri_binary));
      expect(p.path.identifier).toBe(want.path.identifier);
    }
    expect(pass.chunk(55, 1_000)).toHaveLength(5);
  });

  it('a complete pass becomes the cache: unchanged routes reuse its objects, changed attributes are encoded anew', () => {
    const enc = new PathEncoder(ctx);
    const one = enc.begin(desired(...routes)).paths();
    const changed = { ...routes[3]!, attributes: { ...routes[3]!.attributes, med: 99 } };
    const copies = routes.map((r) => ({ ...r, attributes: { ...r.attributes } })); // equal values, other objects
    copies[3] = changed;
    const two = enc.begin(desired(...copies)).paths();
    for (const r of routes) {
      if (r.prefix === changed.prefix) expect(two.get(r.prefix)).not.toBe(one.get(r.prefix));
      else expect(two.get(r.prefix)).toBe(one.get(r.prefix));
    }
    expect(two.get(changed.prefix)!.key()).toContain('|99|');
  });

  it('an unfinished pass leaves the cache as it was', () => {
    const enc = new PathEncoder(ctx);
    const one = enc.begin(desired(...routes)).paths();
    enc.begin(desired(...routes.map((r) => ({ ...r, attributes: { ...r.attributes, med: 7 } })))).chunk(0, 10);
    const again = enc.begin(desired(...routes)).paths();
    for (const r of routes) expect(again.get(r.prefix)).toBe(one.get(r.prefix));
  });

  it('rejects an invalid community, large or extended community, or next hop at begin()', () => {
    const enc = new PathEncoder(ctx);
    const ok = routes.slice(0, 5);
    expect(() => enc.begin(desired(...ok, vip('10.9.0.1/32', { communities: ['x:1'] })))).toThrow(/x:1/);
    expect(() => enc.begin(desired(...ok, vip('10.9.0.1/32', { largeCommunities: ['1:2'] })))).toThrow(/1:2/);
    expect(() => enc.begin(desired(...ok, vip('10.9.0.1/32', { extendedCommunities: ['rt:nope'] })))).toThrow(/rt:nope/);
    expect(() => enc.begin(desired(...ok, vip('10.9.0.1/32', { nextHop: '2001:db8::9' })))).toThrow(/next hop/i);
    expect(() => enc.begin(desired(...ok, vip('10.9.0.1/32', { nextHop: '300.1.1.1' })))).toThrow();
  });
});
