/**
 * SpeakerBackend behaviour beyond one session: several neighbors with their own families,
 * RFC 8950 extended next hop over an IPv6 session, transition reasons for a refused connection,
 * neighbor changes on reload, TCP-MD5 refusal, readiness.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PeerStatus } from '../../../src/backend/types.js';
import { SpeakerError } from '../../../src/speaker/backend.js';
import type { DecodedMessage, DecodedUpdate } from '../../../src/speaker/codec/index.js';
import { freePort, loopbackAddress } from '../../harness/net.js';
import { RawPeer, defaultCapabilities, isNotification, isUpdate, rawConnect } from '../../harness/peers/raw-peer.js';
import { waitFor } from '../../harness/wait.js';
import { desired, neighbor, speaker, vip } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const announced = (msgs: DecodedMessage[]): string[] =>
  msgs.filter(isUpdate).flatMap((u: DecodedUpdate) => [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])].map((p) => p.prefix));

describe('SpeakerBackend', () => {
  it('several neighbors at once, each getting only the families configured and negotiated', async () => {
    const a = await RawPeer.listen(loopbackAddress());
    const b = await RawPeer.listen(loopbackAddress());
    cleanups.push(() => a.close(), () => b.close());
    const s = speaker({
      nextHop: { ipv6: 'fd00::1' },
      neighbors: [
        neighbor({ address: a.host, port: a.port, remoteAs: 65010, families: ['ipv4'] }),
        neighbor({ address: b.host, port: b.port, remoteAs: 65020, families: ['ipv4', 'ipv6'] }),
      ],
    });
    cleanups.push(() => s.stop('test over'));
    await s.apply(desired(vip('192.0.2.1/32'), vip('2001:db8::1/128', {}, 'v6')));
    await s.start();
    const ca = await a.connection(0);
    const cb = await b.connection(0);
    const openA = await ca.handshake({ asn: 65010, routerId: '10.0.0.10' });
    // b's peer only speaks IPv4: the IPv6 VIP must not be sent to it although configured.
    await cb.handshake({ asn: 65020, routerId: '10.0.0.20', capabilities: [{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'four-octet-as', asn: 65020 }] });
    expect(openA.capabilities.filter((c) => c.kind === 'multiprotocol')).toEqual([{ kind: 'multiprotocol', afi: 1, safi: 1 }]);
    await waitFor(() => announced(ca.received).length === 1 && announced(cb.received).length === 1, { what: 'routes at both peers' });
    expect(announced(ca.received)).toEqual(['192.0.2.1/32']);
    expect(announced(cb.received)).toEqual(['192.0.2.1/32']);
    await waitFor(() => s.peers().every((p) => p.state === 'established'), { what: 'both established' });
    expect(s.readiness()).toEqual({ ready: true, reason: 'speaker running, 2/2 peers established' });
  });

  it('a malformed UPDATE from one peer resets that session only', async () => {
    const a = await RawPeer.listen(loopbackAddress());
    const b = await RawPeer.listen(loopbackAddress());
    cleanups.push(() => a.close(), () => b.close());
    const s = speaker({
      neighbors: [neighbor({ address: a.host, port: a.port, remoteAs: 65010 }), neighbor({ address: b.host, port: b.port, remoteAs: 65020 })],
    });
    cleanups.push(() => s.stop('test over'));
    await s.start();
    const ca = await a.connection(0);
    const cb = await b.connection(0);
    await ca.handshake({ asn: 65010, routerId: '10.0.0.10' });
    await cb.handshake({ asn: 65020, routerId: '10.0.0.20' });
    await waitFor(() => s.peers().every((p) => p.state === 'established'), { what: 'both established' });
    const bChanges: PeerStatus[] = [];
    s.onPeerChange((p) => p.address === b.host && bChanges.push(p));
    // An UPDATE whose attribute length runs past the message (RFC 4271 §6.3: 3/1).
    const bad = Buffer.alloc(23, 0);
    bad.fill(0xff, 0, 16);
    bad.writeUInt16BE(23, 16);
    bad[18] = 2;
    bad.writeUInt16BE(0, 19);
    bad.writeUInt16BE(100, 21);
    ca.send(bad);
    const n = await ca.next(isNotification);
    expect([n.code, n.subcode]).toEqual([3, 1]);
    const again = await a.connection(1);
    await again.handshake({ asn: 65010, routerId: '10.0.0.10' });
    await waitFor(() => s.peers().every((p) => p.state === 'established'), { what: 'a back up' });
    expect(bChanges.filter((c) => c.state !== 'established')).toEqual([]);
    expect(cb.closed).toBe(false);
  });

  it('RFC 8950: an IPv4 VIP over an IPv6 session gets our IPv6 address as next hop when negotiated', async () => {
    const peer = await RawPeer.listen('::1');
    cleanups.push(() => peer.close());
    const s = speaker({ neighbors: [neighbor({ address: '::1', port: peer.port, remoteAs: 65010 })] });
    cleanups.push(() => s.stop('test over'));
    await s.apply(desired(vip('192.0.2.2/32')));
    await s.start();
    const conn = await peer.connection(0);
    conn.codec = { ...conn.codec, extendedNextHopIpv4: true };
    const open = await conn.handshake({
      asn: 65010,
      routerId: '10.0.0.10',
      capabilities: [...defaultCapabilities(65010), { kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] }],
    });
    expect(open.capabilities).toContainEqual({ kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] });
    const u = await conn.next((m): m is DecodedUpdate => isUpdate(m) && (m.attributes.mpReach?.nlri.length ?? 0) > 0);
    expect(u.attributes.mpReach).toMatchObject({ afi: 1, nextHops: ['::1'], nlri: [{ family: 'ipv4', prefix: '192.0.2.2/32' }] });
  });

  it('without extended next hop the IPv4 VIP over an IPv6 session is held back', async () => {
    const peer = await RawPeer.listen('::1');
    cleanups.push(() => peer.close());
    const s = speaker({ neighbors: [neighbor({ address: '::1', port: peer.port, remoteAs: 65010 })] });
    cleanups.push(() => s.stop('test over'));
    await s.apply(desired(vip('192.0.2.3/32'), vip('2001:db8::3/128', {}, 'v6')));
    await s.start();
    const conn = await peer.connection(0);
    await conn.handshake({ asn: 65010, routerId: '10.0.0.10' });
    await waitFor(() => conn.received.filter(isUpdate).length >= 3, { what: 'route and two End-of-RIB' });
    expect(announced(conn.received)).toEqual(['2001:db8::3/128']);
  });

  it('reports "connect ECONNREFUSED" and keeps retrying with backoff', async () => {
    const addr = loopbackAddress();
    const port = await freePort(addr);
    const changes: PeerStatus[] = [];
    const s = speaker({ neighbors: [neighbor({ address: addr, port, remoteAs: 65010 })] });
    cleanups.push(() => s.stop('test over'));
    s.onPeerChange((p) => changes.push(p));
    await s.start();
    await waitFor(() => changes.filter((c) => c.reason === 'connect ECONNREFUSED').length >= 3, { timeoutMs: 20_000, what: 'three refused attempts' });
    const refused = changes.filter((c) => c.reason === 'connect ECONNREFUSED' && c.state === 'idle').map((c) => c.since.getTime());
    // Backoff: 200 ms base doubling, times a jitter in [0.75, 1): the waits are at least 150 ms,
    // then 300 ms (lower bounds only: a loaded machine may stretch them, never shorten them).
    expect(refused[1]! - refused[0]!).toBeGreaterThanOrEqual(145);
    expect(refused[2]! - refused[1]!).toBeGreaterThanOrEqual(295);
    expect(s.peers()[0]!.state).not.toBe('established');
  });

  it('a neighbor that connects to us while we wait out our backoff in Idle is taken at once', async () => {
    const local = loopbackAddress();
    const peerAddr = loopbackAddress();
    const closedPort = await freePort(peerAddr);
    const s = speaker(
      { neighbors: [neighbor({ address: peerAddr, port: closedPort, remoteAs: 65010 })], listen: { address: local, port: 0 } },
      { connectRetry: { baseMs: 30_000, maxMs: 60_000 } },
    );
    cleanups.push(() => s.stop('test over'));
    await s.start();
    await waitFor(() => s.peers()[0]!.state === 'idle' && s.peers()[0]!.reason === 'connect ECONNREFUSED', { what: 'idle after a refused connect' });
    const conn = await rawConnect(local, s.listenPort!, peerAddr);
    cleanups.push(() => Promise.resolve(conn.close()));
    await conn.handshake({ asn: 65010, routerId: '10.0.0.10' });
    await waitFor(() => s.peers()[0]!.state === 'established', { timeoutMs: 5_000, what: 'established well before the 22-30 s backoff' });
  });

  it('updateNeighbors: a removed neighbor gets Cease/Peer De-configured, a new one is connected', async () => {
    const a = await RawPeer.listen(loopbackAddress());
    const b = await RawPeer.listen(loopbackAddress());
    cleanups.push(() => a.close(), () => b.close());
    const na = neighbor({ address: a.host, port: a.port, remoteAs: 65010 });
    const s = speaker({ neighbors: [na] });
    cleanups.push(() => s.stop('test over'));
    await s.start();
    const ca = await a.connection(0);
    await ca.handshake({ asn: 65010, routerId: '10.0.0.10' });
    await s.updateNeighbors([neighbor({ address: b.host, port: b.port, remoteAs: 65020 })]);
    const n = await ca.next(isNotification);
    expect([n.code, n.subcode]).toEqual([6, 3]);
    const cb = await b.connection(0);
    await cb.handshake({ asn: 65020, routerId: '10.0.0.20' });
    await waitFor(() => s.peers().length === 1 && s.peers()[0]!.address === b.host && s.peers()[0]!.state === 'established', { what: 'new neighbor up' });
  });

  it('an unreadable TCP-MD5 password_file or a bad hold time fails start()', async () => {
    const s = speaker({ neighbors: [neighbor({ address: '127.0.0.9', remoteAs: 65010, passwordFile: '/nonexistent/vipcast-bgp-secret' })] });
    await expect(s.start()).rejects.toMatchObject({ code: 'BGP_MD5_PASSWORD_FILE' });
    expect(s.readiness().ready).toBe(false);
    const h = speaker({ neighbors: [neighbor({ address: '127.0.0.9', remoteAs: 65010, holdTimeSec: 2 })] });
    await expect(h.start()).rejects.toThrow(SpeakerError);
    await expect(h.start()).rejects.toMatchObject({ code: 'BGP_BAD_HOLD_TIME' });
  });

  it('a listen address in use fails start() with BGP_LISTEN_FAILED', async () => {
    const addr = loopbackAddress();
    const first = speaker({ neighbors: [], listen: { address: addr, port: 0 } });
    cleanups.push(() => first.stop('test over'));
    await first.start();
    const second = speaker({ neighbors: [], listen: { address: addr, port: first.listenPort! } });
    await expect(second.start()).rejects.toMatchObject({ code: 'BGP_LISTEN_FAILED' });
    expect(first.readiness()).toEqual({ ready: false, reason: 'no BGP neighbors configured' });
  });
});
