/**
 * Adversarial BGP input against the built-in speaker (issue 6). A real `vipcast run` listens on
 * a loopback address with two neighbors: a real BIRD 2 (the router, holding the VIP) and our bad
 * peer (passive, so it connects to vipcast's listener). The bad peer sends malformed messages;
 * each test asserts the NOTIFICATION code/subcode read off the wire (RFC 4271 §6, RFC 7606),
 * and after every test that vipcast still runs, /healthz is 200, and BIRD's session never moved
 * (no extra UPDATE or withdraw) while it still holds the VIP.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import { hasBird, type Bird } from '../harness/bird.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { hasBuild, VipcastProcess } from '../harness/vipcast.js';
import { MessageType } from '../../src/speaker/codec/index.js';
import {
  attr,
  BadConn,
  connectFrom,
  encodeOpen,
  frame,
  goodAttrs,
  keepalive,
  NLRI_24,
  rawOpen,
  rawUpdate,
  routeRefresh,
} from './lib/bad-peer.js';
import { assertAlive, birdStats, CALM_HEALTH, startBird, TcpTarget, tempDir, waitAdmin, waitRoute, writeText, type BirdStats } from './lib/fixture.js';

const VIP = '198.51.100.61/32';
const BAD_AS = 65010;

describe.skipIf(!hasBird() || !hasBuild())('adversarial BGP input to the built-in speaker', () => {
  const ourAddr = loopbackAddress();
  const birdAddr = loopbackAddress();
  const badAddr = loopbackAddress();
  const strangerAddr = loopbackAddress();
  let bird: Bird;
  let dir: string;
  let target: TcpTarget;
  let vipcast: VipcastProcess;
  let adminPort: number;
  let listenPort: number;
  let baseline: BirdStats;
  const conns: BadConn[] = [];

  async function connect(from = badAddr): Promise<BadConn> {
    const c = await connectFrom(ourAddr, listenPort, from);
    conns.push(c);
    return c;
  }

  async function established(): Promise<BadConn> {
    const c = await connect();
    await c.handshake({ asn: BAD_AS, routerId: '10.66.0.1' });
    return c;
  }

  /** The connection ends with exactly this NOTIFICATION, then vipcast closes it. */
  async function expectNotification(c: BadConn, code: number, subcode: number): Promise<Buffer> {
    const n = await c.notification();
    expect([n.code, n.subcode]).toEqual([code, subcode]);
    await c.waitClosed();
    expect(c.garbage).toBe(0);
    return n.data;
  }

  /** RFC 7606 outcomes short of session reset: no NOTIFICATION and the session still answers. */
  async function expectSessionKept(c: BadConn): Promise<void> {
    await c.routeRefreshAnswered();
    expect(c.count(MessageType.Notification)).toBe(0);
    expect(c.closed).toBe(false);
  }

  beforeAll(async () => {
    dir = await tempDir('bgp');
    target = await TcpTarget.create();
    const b = await startBird('10.255.6.1', birdAddr, [{ name: 'vc', neighbor: ourAddr, neighborAs: 65001 }]);
    bird = b.bird;
    listenPort = await freePort(ourAddr);
    adminPort = await freePort();
    const config = await writeText(
        dir,
        'vipcast.yaml',
        `
bgp:
  local_as: 65001
  router_id: ${ourAddr}
  hold_time: 9s
  listen: { address: ${ourAddr}, port: ${listenPort} }
  neighbors:
    - { address: ${birdAddr}, port: ${b.port}, remote_as: 65000, local_address: ${ourAddr}, ebgp_multihop: 2 }
    - { address: ${badAddr}, remote_as: ${BAD_AS}, passive: true }
${CALM_HEALTH}
vips:
  - name: web
    prefix: ${VIP}
    checks: [{ type: tcp, address: "${target.address}" }]
admin: { listen: "127.0.0.1:${adminPort}" }
log: { level: warn }
`,
    );
    vipcast = new VipcastProcess(['run', '--config', config]);
    await waitAdmin(vipcast, adminPort);
    await waitRoute(bird, 'vc', VIP, true, 30_000);
    baseline = await birdStats(bird, 'vc');
  });

  afterEach(async () => {
    for (const c of conns.splice(0)) c.destroy();
    await assertAlive(vipcast, adminPort);
    // The router's session got no UPDATE or withdraw beyond the first (a flap would re-send the
    // route and count one): VIPs unaffected. BIRD's "since" column is not compared: it can move
    // by a few ms after Established without any session change.
    const now = await birdStats(bird, 'vc');
    expect(now.state).toBe('Established');
    expect(now.importUpdates).toBe(baseline.importUpdates);
    expect(now.importWithdraws).toBe(baseline.importWithdraws);
    await waitRoute(bird, 'vc', VIP, true, 1_000);
  });

  afterAll(async () => {
    for (const c of conns) c.destroy();
    await vipcast?.stop('SIGKILL');
    await bird?.stop();
    await target?.down();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('message header (RFC 4271 §6.1)', () => {
    it('bad marker: 1/1 Connection Not Synchronized', async () => {
      const c = await connect();
      c.send(frame(MessageType.Keepalive, undefined, { marker: 0xfe }));
      await expectNotification(c, 1, 1);
    });

    it('length above 4096 without the extended message capability: 1/2 with the length as data', async () => {
      const c = await connect();
      c.send(frame(MessageType.Update, Buffer.alloc(10), { length: 5000 }));
      expect((await expectNotification(c, 1, 2)).readUInt16BE(0)).toBe(5000);
    });

    it('length below 19 and a KEEPALIVE of 20 octets: 1/2', async () => {
      const a = await connect();
      a.send(frame(MessageType.Keepalive, undefined, { length: 18 }));
      expect((await expectNotification(a, 1, 2)).readUInt16BE(0)).toBe(18);
      const b = await connect();
      b.send(frame(MessageType.Keepalive, Buffer.alloc(1)));
      expect((await expectNotification(b, 1, 2)).readUInt16BE(0)).toBe(20);
    });

    it('unknown message type: 1/3 with the type as data', async () => {
      const c = await connect();
      c.send(frame(9));
      expect([...(await expectNotification(c, 1, 3))]).toEqual([9]);
    });

    it('truncated header, then FIN: connection closed, nothing sent but our OPEN', async () => {
      const c = await connect();
      c.send(Buffer.alloc(10, 0xff));
      c.end();
      await c.waitClosed();
      expect(c.received.map((m) => m.type)).toEqual([MessageType.Open]);
    });

    it('truncated body (header promises 40 octets, 25 arrive), then FIN: closed cleanly', async () => {
      const c = await connect();
      c.send(frame(MessageType.Open, Buffer.alloc(6), { length: 40 }));
      c.end();
      await c.waitClosed();
      expect(c.count(MessageType.Notification)).toBe(0);
    });
  });

  describe('OPEN (RFC 4271 §6.2, RFC 5492)', () => {
    it('version 3: 2/1 with our version (4) as data', async () => {
      const c = await connect();
      c.send(encodeOpen({ asn: BAD_AS, version: 3 }));
      expect((await expectNotification(c, 2, 1)).readUInt16BE(0)).toBe(4);
    });

    it.each([1, 2])('hold time %i: 2/6 Unacceptable Hold Time', async (hold) => {
      const c = await connect();
      c.send(encodeOpen({ asn: BAD_AS, holdTimeSec: hold }));
      await expectNotification(c, 2, 6);
    });

    it('a peer AS other than configured: 2/2 Bad Peer AS', async () => {
      const c = await connect();
      c.send(encodeOpen({ asn: 65099 }));
      await expectNotification(c, 2, 2);
    });

    it('AS 0 (RFC 7607): 2/2', async () => {
      const c = await connect();
      c.send(encodeOpen({ asn: 0 }));
      await expectNotification(c, 2, 2);
    });

    it('BGP identifier 0.0.0.0 (RFC 6286): 2/3', async () => {
      const c = await connect();
      c.send(encodeOpen({ asn: BAD_AS, routerId: '0.0.0.0' }));
      await expectNotification(c, 2, 3);
    });

    it('an optional parameter other than capabilities (type 1, deprecated authentication): 2/4', async () => {
      const c = await connect();
      c.send(rawOpen({ myAs: BAD_AS, params: Buffer.from([1, 2, 0xaa, 0xbb]) }));
      await expectNotification(c, 2, 4);
    });

    it('optional parameters length disagreeing with the message: 2/0', async () => {
      const c = await connect();
      const open = rawOpen({ myAs: BAD_AS, params: Buffer.from([2, 2, 2, 0]) });
      open[19 + 9] = 9; // claims 9 octets of parameters, 4 follow
      c.send(open);
      await expectNotification(c, 2, 0);
    });

    it('no common address family (peer offers IPv6 only, we need IPv4): 2/7 Unsupported Capability', async () => {
      const c = await connect();
      c.send(encodeOpen({ asn: BAD_AS, capabilities: [{ kind: 'multiprotocol', afi: 2, safi: 1 }, { kind: 'four-octet-as', asn: BAD_AS }] }));
      await expectNotification(c, 2, 7);
    });

    it('an unknown capability (code 200) is ignored (RFC 5492 §3): session established', async () => {
      const c = await connect();
      await c.handshake({
        asn: BAD_AS,
        capabilities: [{ kind: 'multiprotocol', afi: 1, safi: 1 }, { kind: 'route-refresh' }, { kind: 'four-octet-as', asn: BAD_AS }, { kind: 'unknown', code: 200, value: Uint8Array.of(1, 2, 3) }],
      });
      await expectSessionKept(c);
    });

    it('an UPDATE before the OPEN: 5/1 FSM Error, unexpected in OpenSent (RFC 6608)', async () => {
      const c = await connect();
      c.send(rawUpdate({ attrs: goodAttrs(BAD_AS), nlri: NLRI_24 }));
      await expectNotification(c, 5, 1);
    });

    it('a second OPEN once Established: 5/3 (RFC 6608)', async () => {
      const c = await established();
      c.send(encodeOpen({ asn: BAD_AS }));
      await expectNotification(c, 5, 3);
    });
  });

  describe('UPDATE, RFC 7606 classes', () => {
    it('a valid UPDATE from the peer keeps the session', async () => {
      const c = await established();
      c.send(rawUpdate({ attrs: goodAttrs(BAD_AS), nlri: NLRI_24 }));
      await expectSessionKept(c);
    });

    it('treat-as-withdraw: ORIGIN value 3 (§7.1)', async () => {
      const c = await established();
      const [, asPath, nh] = goodAttrs(BAD_AS);
      c.send(rawUpdate({ attrs: [attr(0x40, 1, [3]), asPath!, nh!], nlri: NLRI_24 }));
      await expectSessionKept(c);
    });

    it('treat-as-withdraw: ORIGIN with the Optional bit set (§3 c, attribute flags)', async () => {
      const c = await established();
      const [, asPath, nh] = goodAttrs(BAD_AS);
      c.send(rawUpdate({ attrs: [attr(0xc0, 1, [0]), asPath!, nh!], nlri: NLRI_24 }));
      await expectSessionKept(c);
    });

    it('treat-as-withdraw: malformed AS_PATH (segment type 7, and a segment overrunning) (§7.2)', async () => {
      const c = await established();
      const [origin, , nh] = goodAttrs(BAD_AS);
      c.send(rawUpdate({ attrs: [origin!, attr(0x40, 2, [7, 1, 0, 0, 0xfd, 0xf2]), nh!], nlri: NLRI_24 }));
      c.send(rawUpdate({ attrs: [origin!, attr(0x40, 2, [2, 5, 0, 0, 0xfd, 0xf2]), nh!], nlri: NLRI_24 }));
      await expectSessionKept(c);
    });

    it('treat-as-withdraw: missing NEXT_HOP with IPv4 NLRI (§3 d)', async () => {
      const c = await established();
      c.send(rawUpdate({ attrs: goodAttrs(BAD_AS).slice(0, 2), nlri: NLRI_24 }));
      await expectSessionKept(c);
    });

    it('treat-as-withdraw: an attribute overrunning the attribute field (§4), COMMUNITIES of 5 octets (§7.8)', async () => {
      const c = await established();
      c.send(rawUpdate({ attrs: [...goodAttrs(BAD_AS), attr(0xc0, 8, [1, 2, 3, 4, 5])], nlri: NLRI_24 }));
      const overrun = [...goodAttrs(BAD_AS), attr(0xc0, 8, [1, 2, 3, 4], 40)];
      c.send(rawUpdate({ attrs: overrun, nlri: NLRI_24 }));
      await expectSessionKept(c);
    });

    it('attribute discard: ATOMIC_AGGREGATE of 1 octet (§7.6), AGGREGATOR of 3 octets (§7.7), a repeated NEXT_HOP (§3 g)', async () => {
      const c = await established();
      c.send(rawUpdate({ attrs: [...goodAttrs(BAD_AS), attr(0x40, 6, [1])], nlri: NLRI_24 }));
      c.send(rawUpdate({ attrs: [...goodAttrs(BAD_AS), attr(0xc0, 7, [1, 2, 3])], nlri: NLRI_24 }));
      c.send(rawUpdate({ attrs: [...goodAttrs(BAD_AS), attr(0x40, 3, [10, 66, 0, 2])], nlri: NLRI_24 }));
      await expectSessionKept(c);
    });

    it('session reset: MP_UNREACH_NLRI twice (§3 g): 3/1', async () => {
      const c = await established();
      c.send(rawUpdate({ attrs: [attr(0x80, 15, [0, 2, 1]), attr(0x80, 15, [0, 2, 1])] }));
      await expectNotification(c, 3, 1);
    });

    it('session reset: a withdrawn-routes length beyond the message: 3/1', async () => {
      const c = await established();
      c.send(rawUpdate({ withdrawn: Buffer.from([24, 203, 0, 113]), withdrawnLength: 200 }));
      await expectNotification(c, 3, 1);
    });

    it('session reset: NLRI with prefix length 33 (§5.3): 3/10 Invalid Network Field', async () => {
      const c = await established();
      c.send(rawUpdate({ attrs: goodAttrs(BAD_AS), nlri: Buffer.from([33, 203, 0, 113, 1, 0]) }));
      await expectNotification(c, 3, 10);
    });

    it('session reset: an unrecognised well-known attribute (type 99, flags 0x40): 3/2', async () => {
      const c = await established();
      c.send(rawUpdate({ attrs: [...goodAttrs(BAD_AS), attr(0x40, 99, [1])], nlri: NLRI_24 }));
      await expectNotification(c, 3, 2);
    });

    it('a malformed MP_REACH_NLRI (next hop length running past the attribute): 3/x session reset', async () => {
      const c = await established();
      c.send(rawUpdate({ attrs: [...goodAttrs(BAD_AS).slice(0, 2), attr(0x80, 14, [0, 2, 1, 40, 0, 0])] }));
      const n = await c.notification();
      expect(n.code).toBe(3);
      await c.waitClosed();
    });

    it('ROUTE-REFRESH BoRR of 5 octets (RFC 7313 §5): 7/1', async () => {
      const c = await established();
      c.send(frame(MessageType.RouteRefresh, Buffer.from([0, 1, 1, 1, 0])));
      await expectNotification(c, 7, 1);
    });
  });

  describe('sessions and connections', () => {
    it('a connection from an unconfigured address: 6/5 Connection Rejected', async () => {
      const c = await connect(strangerAddr);
      await expectNotification(c, 6, 5);
    });

    it('100 connections from an unconfigured address at once: all rejected with 6/5', async () => {
      const many = await Promise.all(Array.from({ length: 100 }, () => connect(strangerAddr)));
      for (const c of many) await expectNotification(c, 6, 5);
    });

    it('a second connection while Established: 6/7 on the new one, the first stays (§6.8)', async () => {
      const first = await established();
      const second = await connect();
      await expectNotification(second, 6, 7);
      await expectSessionKept(first);
    });

    it('a silent peer: 4/0 Hold Timer Expired after the negotiated 3 s', async () => {
      const c = await connect();
      await c.handshake({ asn: BAD_AS, holdTimeSec: 3 });
      const t0 = Date.now();
      const n = await c.notification(10_000);
      const elapsed = Date.now() - t0;
      expect([n.code, n.subcode]).toEqual([4, 0]);
      expect(elapsed).toBeGreaterThan(2_000);
      expect(elapsed).toBeLessThan(6_000);
      console.info(`[faults] hold timer: NOTIFICATION 4/0 ${elapsed} ms after Established (hold time 3 s)`);
    });

    it('a NOTIFICATION from the peer: vipcast closes without answering', async () => {
      const c = await established();
      const before = c.received.length;
      c.send(frame(MessageType.Notification, Buffer.from([6, 2])));
      await c.waitClosed();
      expect(c.received.slice(before).filter((m) => m.type === (MessageType.Notification as number))).toEqual([]);
    });

    it('a flood: KEEPALIVEs and valid UPDATEs in one burst; the session stays and still answers', async () => {
      const c = await established();
      const count = 4_000;
      const burst: Buffer[] = [];
      for (let i = 0; i < count; i++) {
        burst.push(i % 2 === 0 ? keepalive() : rawUpdate({ attrs: goodAttrs(BAD_AS), nlri: Buffer.from([32, 10, 77, (i >> 8) & 255, i & 255]) }));
      }
      burst.push(routeRefresh(1, 1));
      const from = c.received.length;
      const t0 = Date.now();
      c.send(Buffer.concat(burst));
      await c.next(MessageType.Update, { from, timeoutMs: 20_000 });
      console.info(`[faults] flood: ${count} messages processed, ROUTE-REFRESH answered after ${Date.now() - t0} ms`);
      expect(c.count(MessageType.Notification)).toBe(0);
    });
  });
});
