// Pure parts of the GoBGP backend: path encoding and recognition, the diff, neighbor messages, peer states, errors.
import { describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { VIPCAST_PATH_ID, attributesKey, desiredPath, isOwnPath, ownPaths, type OwnPath, type SharedAttributes } from '../../src/gobgp/paths.js';
import { diffPaths, isEmptyDiff } from '../../src/gobgp/reconcile.js';
import { CONNECT_RETRY_SEC, neighborToPeer, peerDiffers, PeerTracker } from '../../src/gobgp/peers.js';
import { rpcError } from '../../src/gobgp/errors.js';
import { canonicalPrefix } from '../../src/speaker/codec/index.js';
import type { ApiDestination } from '../../src/gobgp/api/types.js';
import type { PeerStatus } from '../../src/backend/types.js';
import { neighbor, vip } from './fixtures.js';

const ctx = { localAs: 65001, nextHop: { ipv6: '2001:db8::1' } };

/** A ListPath answer holding `p` as GoBGP returns it (attributes in another order, as GoBGP may). */
function listed(p: OwnPath, over: Partial<NonNullable<ApiDestination['paths']>[number]> = {}): ApiDestination {
  return { prefix: p.prefix, paths: [{ ...p.path, pattrs_binary: [...(p.path.pattrs_binary ?? [])].reverse(), neighbor_ip: '<nil>', ...over }] };
}

describe('paths', () => {
  it('marks our paths with the vipcast identifier and encodes every attribute', () => {
    const p = desiredPath(vip('192.0.2.10/32', { med: 5, localPref: 50, asPathPrepend: 2, communities: ['65001:1', 'no-export'], largeCommunities: ['65001:2:3'], extendedCommunities: ['rt:65001:4'] }), ctx);
    expect(p.path.identifier).toBe(VIPCAST_PATH_ID);
    expect(p.prefix).toBe('192.0.2.10/32');
    expect(Buffer.from(p.path.nlri_binary!).toString('hex')).toBe('20c000020a');
    // ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES, EXTENDED, LARGE: one TLV each.
    expect(p.path.pattrs_binary!.map((t) => t[1])).toEqual([1, 2, 3, 4, 5, 8, 16, 32]);
    expect(p.key()).toContain('sequence:65001 65001');
    expect(p.key()).toContain('0.0.0.0');
  });

  it('IPv6 paths carry the next hop in MP_REACH_NLRI', () => {
    const p = desiredPath(vip('2001:db8::10/128'), ctx);
    expect(p.path.family).toEqual({ afi: 2, safi: 1 });
    expect(p.path.pattrs_binary!.map((t) => t[1])).toEqual([1, 2, 14]);
    expect(p.key()).toContain('2001:db8::1');
  });

  it('a listed path with the same attributes in another order has the same key', () => {
    const p = desiredPath(vip('192.0.2.10/32', { med: 5, communities: ['65001:2', '65001:1'] }), ctx);
    const [own] = ownPaths('ipv4', [listed(p)]);
    expect(own?.prefix).toBe(p.prefix);
    expect(own?.key()).toBe(p.key());
    expect(own?.raw).toBe(p.raw);
    expect(isEmptyDiff(diffPaths(new Map([[p.prefix, p]]), [own!]))).toBe(true);
  });

  it("recognises only local paths with our identifier: not operators' (identifier 0), not a peer's", () => {
    const p = desiredPath(vip('192.0.2.10/32'), ctx);
    expect(ownPaths('ipv4', [listed(p, { identifier: 0 })])).toEqual([]);
    expect(ownPaths('ipv4', [listed(p, { neighbor_ip: '10.0.0.254', source_asn: 65000 })])).toEqual([]);
    expect(isOwnPath({ identifier: VIPCAST_PATH_ID, neighbor_ip: '' })).toBe(true);
    expect(isOwnPath({ identifier: VIPCAST_PATH_ID, neighbor_ip: '::' })).toBe(true);
  });

  it('shared encoding of equal attributes gives the same paths as encoding each alone', () => {
    const shared: SharedAttributes = new Map();
    const attrs = { med: 5, communities: ['65001:1'] };
    for (const prefix of ['192.0.2.1/32', '192.0.2.2/32', '2001:db8::1/128', '2001:db8::2/128']) {
      const alone = desiredPath(vip(prefix, attrs), ctx);
      const viaShared = desiredPath(vip(prefix, attrs), ctx, shared);
      expect(viaShared.raw).toBe(alone.raw);
      expect(viaShared.key()).toBe(alone.key());
      expect(viaShared.path.nlri_binary).toEqual(alone.path.nlri_binary);
    }
    // One IPv4 entry; IPv6 attributes carry the prefix in MP_REACH_NLRI and are never shared.
    expect(shared.size).toBe(1);
  });

  it('rejects invalid attribute text with an error naming it', () => {
    expect(() => desiredPath(vip('192.0.2.10/32', { communities: ['65001:70000'] }), ctx)).toThrow(/65001:70000/);
  });

  it('keys are equal exactly when the attributes mean the same (property)', () => {
    const attrsArb = fc.record({
      med: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
      localPref: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
      asPathPrepend: fc.integer({ min: 0, max: 5 }),
      communities: fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 })).map(([a, b]) => `${a}:${b}`), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(attrsArb, attrsArb, (a, b) => {
        const pa = desiredPath(vip('192.0.2.1/32', a), ctx);
        const pb = desiredPath(vip('192.0.2.1/32', b), ctx);
        const same = a.med === b.med && a.localPref === b.localPref && a.asPathPrepend === b.asPathPrepend && [...a.communities].sort().join() === [...b.communities].sort().join();
        expect(pa.key() === pb.key()).toBe(same);
        // Reordered TLVs (as a daemon may return them) keep the key.
        const prefix = canonicalPrefix('192.0.2.1/32');
        expect(attributesKey(prefix, pa.path.nlri_binary!, [...pa.path.pattrs_binary!].reverse())).toBe(pa.key());
      }),
      { numRuns: 200 },
    );
  });
});

describe('diffPaths', () => {
  const a = desiredPath(vip('192.0.2.1/32'), ctx);
  const b = desiredPath(vip('192.0.2.2/32'), ctx);
  const b2 = desiredPath(vip('192.0.2.2/32', { med: 7 }), ctx);
  const c = desiredPath(vip('192.0.2.3/32'), ctx);

  it('adds missing, withdraws stale, replaces changed, leaves equal alone', () => {
    const d = diffPaths(
      new Map([
        [a.prefix, a],
        [b2.prefix, b2],
      ]),
      [b, c],
    );
    expect(d.add.map((p) => p.prefix).sort()).toEqual([a.prefix, b.prefix]);
    expect(d.add.find((p) => p.prefix === b.prefix)?.key()).toBe(b2.key());
    expect(d.withdraw.map((p) => p.prefix)).toEqual([c.prefix]);
    expect(isEmptyDiff(diffPaths(new Map([[a.prefix, a]]), [a]))).toBe(true);
  });

  it('an empty desired set withdraws everything of ours', () => {
    expect(diffPaths(new Map(), [a, b]).withdraw).toHaveLength(2);
  });
});

describe('neighbors', () => {
  const spec = neighbor('10.0.0.254', 1179, '10.0.0.1', { ebgpMultihop: 2, holdTimeSec: 9, description: 'tor', families: ['ipv4'] });

  it('maps a NeighborSpec to a Peer message', () => {
    const p = neighborToPeer(spec, 's3cret');
    expect(p.conf).toMatchObject({ neighbor_address: '10.0.0.254', peer_asn: 65000, description: 'tor', auth_password: 's3cret' });
    expect(p.ebgp_multihop).toEqual({ enabled: true, multihop_ttl: 2 });
    expect(p.timers?.config).toMatchObject({ hold_time: 9, keepalive_interval: 3 });
    expect(p.transport).toMatchObject({ local_address: '10.0.0.1', remote_port: 1179, passive_mode: false });
    expect(p.afi_safis).toEqual([{ config: { family: { afi: 1, safi: 1 }, enabled: true } }]);
  });

  it('compares only what vipcast configures', () => {
    const want = neighborToPeer(spec, undefined);
    const have = { ...want, state: { session_state: 6 }, timers: { config: { ...want.timers!.config, idle_hold_time_after_reset: 30 } }, transport: { ...want.transport, local_port: 40000 } };
    expect(peerDiffers(have, want)).toBeUndefined();
    expect(peerDiffers(have, neighborToPeer({ ...spec, holdTimeSec: 30 }, undefined))).toMatch(/hold_time: 9 -> 30/);
    expect(peerDiffers(have, neighborToPeer({ ...spec, families: ['ipv4', 'ipv6'] }, undefined))).toMatch(/families/);
  });

  it('connect_retry is set on new peers but is no reason to UpdatePeer (3.10 would reset the session)', () => {
    const want = neighborToPeer(spec, undefined);
    expect(want.timers?.config?.connect_retry).toBe(CONNECT_RETRY_SEC);
    const older = { ...want, timers: { config: { ...want.timers!.config, connect_retry: 5 } } };
    expect(peerDiffers(older, want)).toBeUndefined();
  });

  it('a local address the daemon picked is not a difference when none is configured', () => {
    const want = neighborToPeer({ ...spec, localAddress: undefined }, undefined);
    const have = { ...want, transport: { ...want.transport, local_address: '10.0.0.7' } };
    expect(peerDiffers(have, want)).toBeUndefined();
    // A configured one still is.
    expect(peerDiffers(have, neighborToPeer(spec, undefined))).toMatch(/local_address: 10.0.0.7 -> 10.0.0.1/);
  });
});

describe('PeerTracker', () => {
  it('reports RFC 4271 state names, since and reason, and only real changes', () => {
    const t = new PeerTracker([neighbor('10.0.0.254', 179, '10.0.0.1')]);
    const seen: PeerStatus[] = [];
    t.onChange((p) => seen.push(p));
    const peer = (state: number, extra = {}) => ({ conf: { neighbor_address: '10.0.0.254' }, state: { session_state: state, ...extra } });
    t.update(peer(3), true, new Date(1000));
    t.update(peer(3), false, new Date(2000));
    t.update(peer(6), false, new Date(3000));
    t.update(peer(1, { disconnect_reason: 2 }), false, new Date(4000));
    expect(seen.map((p) => p.state)).toEqual(['active', 'established', 'idle']);
    expect(seen[2]).toMatchObject({ since: new Date(4000), reason: 'hold timer expired', remoteAs: 65000 });
    t.allDown('gobgpd unreachable', new Date(5000));
    expect(t.list()[0]).toMatchObject({ state: 'idle', reason: 'gobgpd unreachable' });
  });
});

describe('errors', () => {
  it('name the RPC, carry the daemon message and classify unavailability', () => {
    const e = rpcError('AddPeer', { code: status.UNKNOWN, details: "can't overwrite the existing peer" });
    expect(e.message).toBe("GoBGP AddPeer failed: UNKNOWN: can't overwrite the existing peer");
    expect(e.code).toBe('GOBGP_RPC_FAILED');
    expect(e.details).toMatchObject({ rpc: 'AddPeer', grpcCode: status.UNKNOWN });
    expect(rpcError('GetBgp', { code: status.UNAVAILABLE, details: 'connect ECONNREFUSED' }).code).toBe('GOBGP_UNAVAILABLE');
  });
});
