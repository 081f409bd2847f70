/**
 * What each neighbor's sockets get (TTL plan), the log when the host cannot set it (warn once
 * per neighbor; GTSM fails closed), GTSM on real loopback sockets, and the config field.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, Socket, type Server } from 'node:net';
import { once } from 'node:events';
import type { NeighborSpec } from '../../../src/backend/types.js';
import { SocketOptionError, getHopLimit, getMinHopLimit } from '../../../src/net/socket-options.js';
import { NeighborTtl, ttlPlan, type HopLimitApi } from '../../../src/speaker/session/ttl.js';
import { issuesOf, load } from '../../config/helpers.js';
import { captureLog } from '../../harness/log-capture.js';
import { loopbackAddress } from '../../harness/net.js';
import { neighbor } from '../session/helpers.js';

const n = (extra: Partial<NeighborSpec> = {}): NeighborSpec => neighbor({ address: '10.0.0.254', remoteAs: 65000, ...extra });

const unavailable = new SocketOptionError('SOCKOPT_UNAVAILABLE', 'the koffi module (C FFI) cannot be loaded');
const failing = (err: SocketOptionError): HopLimitApi => ({
  available: () => (err.code === 'SOCKOPT_UNAVAILABLE' ? err : true),
  connect: () => {
    throw err;
  },
  setHopLimit: () => {
    throw err;
  },
  setMinHopLimit: () => {
    throw err;
  },
});
const fakeSocket = {} as Socket;

describe('ttlPlan', () => {
  it('eBGP: 1 directly connected, ebgp_multihop otherwise; iBGP: the system default', () => {
    expect(ttlPlan(n(), false)).toEqual({ ttl: 1 });
    expect(ttlPlan(n({ ebgpMultihop: 3 }), false)).toEqual({ ttl: 3 });
    expect(ttlPlan(n({ ebgpMultihop: 3 }), true)).toEqual({});
  });
  it('GTSM (RFC 5082 §3): send 255, accept 256 - hops, for eBGP and iBGP', () => {
    expect(ttlPlan(n({ ttlSecurity: true }), false)).toEqual({ ttl: 255, minTtl: 255 });
    expect(ttlPlan(n({ ttlSecurity: true, ebgpMultihop: 2 }), false)).toEqual({ ttl: 255, minTtl: 254 });
    expect(ttlPlan(n({ ttlSecurity: true }), true)).toEqual({ ttl: 255, minTtl: 255 });
  });
});

describe('NeighborTtl logging where setsockopt is unavailable', () => {
  it('warns BGP_TTL_UNSUPPORTED once per neighbor, and the connection goes on', () => {
    const { log, lines } = captureLog();
    const ttl = new NeighborTtl(n(), log, failing(unavailable));
    ttl.check(false);
    for (let i = 0; i < 3; i++) expect(ttl.apply(fakeSocket, false)).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, code: 'BGP_TTL_UNSUPPORTED', ttl: 1 });
    // Another neighbor says it again: once per neighbor, not once per process.
    new NeighborTtl(n({ address: '10.0.0.253' }), log, failing(unavailable)).check(false);
    expect(lines).toHaveLength(2);
  });

  it('connect() falls back to a plain connection, reported in the same single warning', async () => {
    const { log, lines } = captureLog();
    const srv = createServer((s) => s.destroy());
    const host = loopbackAddress();
    srv.listen(0, host);
    await once(srv, 'listening');
    const ttl = new NeighborTtl(n(), log, failing(unavailable));
    ttl.check(false);
    const socket = ttl.connect({ host, port: (srv.address() as { port: number }).port }, false);
    await once(socket, 'connect');
    socket.destroy();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    expect(lines.map((l) => l.code)).toEqual(['BGP_TTL_UNSUPPORTED']);
  });

  it('says nothing for iBGP, which keeps the default TTL', () => {
    const { log, lines } = captureLog();
    const ttl = new NeighborTtl(n({ remoteAs: 65001 }), log, failing(unavailable));
    ttl.check(true);
    expect(ttl.apply(fakeSocket, true)).toBe(true);
    expect(lines).toEqual([]);
  });

  it('a failing setsockopt is BGP_TTL_FAILED, once', () => {
    const { log, lines } = captureLog();
    const ttl = new NeighborTtl(n(), log, failing(new SocketOptionError('SOCKOPT_FAILED', 'setsockopt hopLimit 1 (ipv4) failed: EINVAL')));
    ttl.check(false);
    expect(ttl.apply(fakeSocket, false)).toBe(true);
    expect(ttl.apply(fakeSocket, false)).toBe(true);
    expect(lines.map((l) => [l.level, l.code])).toEqual([[40, 'BGP_TTL_FAILED']]);
  });

  it('ttl_security fails closed: an error once, and apply() tells the session to drop the connection', () => {
    const { log, lines } = captureLog();
    const ttl = new NeighborTtl(n({ ttlSecurity: true }), log, failing(unavailable));
    ttl.check(false);
    expect(ttl.apply(fakeSocket, false)).toBe(false);
    expect(ttl.apply(fakeSocket, false)).toBe(false);
    expect(lines.map((l) => [l.level, l.code])).toEqual([[50, 'BGP_TTL_SECURITY_FAILED']]);
  });
});

describe('NeighborTtl on real loopback sockets', () => {
  const open: Array<Socket | Server> = [];
  afterEach(async () => {
    const all = open.splice(0);
    for (const s of all) if (s instanceof Socket) s.destroy();
    for (const s of all) if (!(s instanceof Socket)) await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  async function connected(): Promise<Socket> {
    const host = loopbackAddress();
    const srv = createServer((s) => open.push(s));
    open.push(srv);
    srv.listen(0, host);
    await once(srv, 'listening');
    const client = connect({ host, port: (srv.address() as { port: number }).port });
    open.push(client);
    await once(client, 'connect');
    return client;
  }

  it('sets TTL 1 for direct eBGP, ebgp_multihop for multihop, nothing for iBGP', async () => {
    const { log } = captureLog();
    const direct = await connected();
    expect(new NeighborTtl(n(), log).apply(direct, false)).toBe(true);
    expect(getHopLimit(direct)).toBe(1);
    const multihop = await connected();
    new NeighborTtl(n({ ebgpMultihop: 4 }), log).apply(multihop, false);
    expect(getHopLimit(multihop)).toBe(4);
    const ibgp = await connected();
    const before = getHopLimit(ibgp);
    new NeighborTtl(n({ ebgpMultihop: 4 }), log).apply(ibgp, true);
    expect(getHopLimit(ibgp)).toBe(before);
  });

  it('ttl_security sets TTL 255 and the minimum TTL', async () => {
    const { log, lines } = captureLog();
    const s = await connected();
    expect(new NeighborTtl(n({ ttlSecurity: true, ebgpMultihop: 2 }), log).apply(s, false)).toBe(true);
    expect(getHopLimit(s)).toBe(255);
    expect(getMinHopLimit(s)).toBe(254);
    expect(lines).toEqual([]);
  });
});

describe('config: neighbors[].ttl_security', () => {
  const text = (extra: string, neighborLine: string): string => `bgp:
  local_as: 65001
  router_id: 10.0.0.1
${extra}  neighbors:
    - address: 10.0.0.254
      remote_as: 65000
${neighborLine}vips:
  - name: web
    prefix: 192.0.2.10
    checks:
      - type: tcp
        address: 127.0.0.1:8080
`;
  it('is off unless written, and reaches the NeighborSpec when set', () => {
    expect(load(text('', '')).config.bgp.neighbors[0]!.ttlSecurity).toBeUndefined();
    expect(load(text('', '      ttl_security: true\n')).config.bgp.neighbors[0]!.ttlSecurity).toBe(true);
  });
  it('is a conflict with the GoBGP backend, which vipcast does not configure for GTSM', () => {
    const issues = issuesOf(text('  gobgp_address: 127.0.0.1:50051\n', '      ttl_security: true\n'));
    expect(issues.map((i) => [i.path, i.code])).toEqual([['bgp.neighbors[0].ttl_security', 'conflict']]);
  });
});
