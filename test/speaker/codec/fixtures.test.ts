/**
 * Real messages captured from BIRD 2, FRR, gobgpd and ExaBGP (test/fixtures/bgp, see
 * capture/capture.sh for what each daemon was configured to send). Every fixture must decode;
 * the expected values below come from those configurations, not from our decoder's output.
 */
import { describe, expect, it } from 'vitest';
import {
  AS_TRANS,
  MessageType,
  decodeMessage,
  effectiveAsPath,
  encodeMessage,
  endOfRib,
  negotiateCodecOptions,
  parseCommunity,
  parseExtendedCommunity,
  shutdownCommunicationOf,
  type CodecOptions,
  type DecodedMessage,
  type DecodedUpdate,
  type NotificationMessage,
  type OpenMessage,
} from '../../../src/speaker/codec/index.js';
import { fixtureFiles, loadFixtures, parseOptions, type Fixture } from './fixtures.js';

const all = loadFixtures();
/** Captured sessions; crashers/ (fuzz findings) are replayed by fuzz.test.ts. */
const fixtures = all.filter((f) => f.session !== 'crashers');
const byName = new Map(all.map((f) => [f.name, f]));

/** The options both sides of a captured session negotiated, from the two captured OPENs. */
function sessionOptions(session: string): CodecOptions {
  const anything: CodecOptions = { fourOctetAs: false, extendedMessage: false, extendedNextHopIpv4: false };
  const opens = fixtures.filter((f) => f.session === session && f.bytes[18] === 1).map((f) => decodeMessage(f.bytes, anything) as OpenMessage);
  expect(opens.map((o) => o.routerId).sort()).toHaveLength(2);
  return negotiateCodecOptions(opens[0]!.capabilities, opens[1]!.capabilities);
}

const decoded = new Map<string, DecodedMessage>();
function decode(name: string): DecodedMessage {
  const f = byName.get(name);
  if (!f) throw new Error(`no fixture ${name}`);
  let m = decoded.get(name);
  if (!m) {
    m = decodeMessage(f.bytes, f.meta.options ? parseOptions(f.meta.options) : sessionOptions(f.session));
    decoded.set(name, m);
  }
  return m;
}
const update = (name: string): DecodedUpdate => {
  const m = decode(name);
  expect(m.type).toBe(MessageType.Update);
  return m as DecodedUpdate;
};
const v4 = (...p: string[]) => p.map((prefix) => ({ family: 'ipv4', prefix }));
const v6 = (...p: string[]) => p.map((prefix) => ({ family: 'ipv6', prefix }));
const comms = (...c: string[]) => c.map(parseCommunity);
const ext = (...c: string[]) => c.map((t) => new Uint8Array(parseExtendedCommunity(t)));

/**
 * Fixtures our encoder does not reproduce byte for byte, and why. Everything else must
 * re-encode to the captured bytes exactly.
 */
const NOT_CANONICAL: Record<string, string> = {
  'bird-gobgpd/01-open-from-bird.hex': 'all capabilities in one optional parameter (we send one per capability)',
  'bird-gobgpd/16-open-from-gobgpd.hex': 'all capabilities in one optional parameter',
  'bird-frr/08-open-from-bird.hex': 'all capabilities in one optional parameter',
  'bird-exabgp/06-open-from-bird.hex': 'all capabilities in one optional parameter',
  'bird-exabgp/03-update-from-exabgp.hex': 'AS4_PATH (17) before NEXT_HOP (3): not ascending',
  'bird-gobgpd/18-update-from-gobgpd.hex': 'NEXT_HOP last: not ascending',
  'bird-frr/03-update-from-frr.hex': 'AS_PATH with the Extended Length bit below 256 octets',
  'bird-frr/04-update-from-frr.hex': 'MP_REACH_NLRI first',
  ...Object.fromEntries(
    ['03', '04', '05', '06', '07', '09', '10', '14'].map((n) => [
      fixtures.find((f) => f.name.startsWith(`bird-gobgpd/${n}-update-from-bird`))?.name ?? n,
      'MP_REACH/MP_UNREACH first, with the Extended Length bit',
    ]),
  ),
};

describe('fixtures folder', () => {
  it('holds captured messages from every daemon, and every file is decoded (count asserted)', () => {
    const files = fixtureFiles();
    expect(files.length).toBeGreaterThanOrEqual(40);
    expect(all).toHaveLength(files.length);
    expect(new Set(fixtures.map((f) => f.from))).toEqual(new Set(['bird', 'gobgpd', 'exabgp', 'frr']));
    let count = 0;
    for (const f of all) {
      expect(f.bytes.length, f.name).toBeGreaterThanOrEqual(19);
      expect(f.meta.from ?? f.meta.options, f.name).toBeDefined();
      decode(f.name);
      count++;
    }
    expect(count).toBe(files.length);
    expect(decoded.size).toBe(files.length);
  });

  it('covers every message type', () => {
    const types = new Set(fixtures.map((f) => f.bytes[18]));
    expect([...types].sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('every fixture', () => {
  it.each(fixtures.map((f) => [f.name, f] as [string, Fixture]))('%s decodes cleanly and re-encodes', (name, f) => {
    const opts = sessionOptions(f.session);
    const m = decode(name);
    if (m.type === MessageType.Update) {
      // Real daemons sent well-formed UPDATEs: no RFC 7606 finding.
      expect(m.treatAsWithdraw).toBeUndefined();
      expect(m.discarded).toBeUndefined();
    }
    const again = encodeMessage(m, opts);
    expect(decodeMessage(again, opts)).toEqual(m);
    if (NOT_CANONICAL[name] === undefined) expect(again.toString('hex')).toBe(f.bytes.toString('hex'));
    else expect(again.toString('hex')).not.toBe(f.bytes.toString('hex'));
  });
});

describe('captured sessions negotiate what their configurations say', () => {
  it('BIRD and gobgpd: 4-octet AS, IPv4 over IPv6 next hop offered by both', () => {
    expect(sessionOptions('bird-gobgpd')).toEqual({ fourOctetAs: true, extendedMessage: false, extendedNextHopIpv4: true });
  });
  it('BIRD with `enable as4 off` and ExaBGP: a 2-octet session', () => {
    expect(sessionOptions('bird-exabgp').fourOctetAs).toBe(false);
  });
  it('BIRD and FRR: 4-octet AS; FRR offers extended messages, BIRD does not', () => {
    expect(sessionOptions('bird-frr')).toMatchObject({ fourOctetAs: true, extendedMessage: false });
  });
});

describe('OPEN fixtures', () => {
  it('gobgpd in AS 4200000002 sends AS_TRANS and the 4-octet AS capability (RFC 6793)', () => {
    const open = decode('bird-gobgpd/16-open-from-gobgpd.hex') as OpenMessage;
    expect(open).toMatchObject({ version: 4, myAs: AS_TRANS, holdTimeSec: 90, routerId: '127.77.0.2' });
    expect(open.capabilities).toContainEqual({ kind: 'four-octet-as', asn: 4200000002 });
    expect(open.capabilities).toContainEqual({ kind: 'multiprotocol', afi: 2, safi: 1 });
    expect(open.capabilities).toContainEqual({ kind: 'unknown', code: 73, value: expect.any(Uint8Array) }); // FQDN, kept raw
  });
  it('BIRD with graceful restart on: restart time 120 for both families', () => {
    const open = decode('bird-gobgpd/01-open-from-bird.hex') as OpenMessage;
    expect(open.capabilities).toContainEqual({
      kind: 'graceful-restart',
      restarting: false,
      restartTimeSec: 120,
      families: [
        { afi: 1, safi: 1, forwardingPreserved: false },
        { afi: 2, safi: 1, forwardingPreserved: false },
      ],
    });
    expect(open.capabilities).toContainEqual({ kind: 'extended-next-hop', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] });
  });
  it('FRR (datacenter defaults): hold time 9, extended messages, GR with the N bit (RFC 8538)', () => {
    const open = decode('bird-frr/01-open-from-frr.hex') as OpenMessage;
    expect(open).toMatchObject({ myAs: 65004, holdTimeSec: 9, routerId: '127.77.0.4' });
    expect(open.capabilities).toContainEqual({ kind: 'extended-message' });
    expect(open.capabilities).toContainEqual(expect.objectContaining({ kind: 'graceful-restart', notification: true }));
  });
  it('ExaBGP with asn4 disabled: no 4-octet AS capability', () => {
    const open = decode('bird-exabgp/01-open-from-exabgp.hex') as OpenMessage;
    expect(open.myAs).toBe(65003);
    expect(open.capabilities.some((c) => c.kind === 'four-octet-as')).toBe(false);
  });
});

describe('UPDATE fixtures', () => {
  it('BIRD: IPv4 over MP_REACH (extended next hop negotiated) with communities, large, extended, MED', () => {
    const u = update('bird-gobgpd/05-update-from-bird.hex');
    expect(u.nlri).toEqual([]);
    expect(u.attributes).toMatchObject({
      origin: 'igp',
      asPath: [{ type: 'sequence', asns: [65001] }],
      med: 50,
      communities: comms('65001:100', 'graceful-shutdown'),
      largeCommunities: [[65001, 1, 2]],
      extendedCommunities: ext('rt:65001:100', 'soo:192.0.2.1:7'),
      mpReach: { afi: 1, safi: 1, nextHops: ['127.77.0.1'], nlri: v4('192.0.2.10/32') },
    });
  });
  it('BIRD: IPv6 host route with the configured IPv6 next hop', () => {
    const u = update('bird-gobgpd/10-update-from-bird.hex');
    expect(u.attributes.mpReach).toEqual({ afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: v6('2001:db8:10::10/128') });
    expect(u.attributes.communities).toEqual(comms('65001:100', '65535:0'));
  });
  it('BIRD: a prepended 4-octet AS on a 4-octet session', () => {
    expect(update('bird-gobgpd/06-update-from-bird.hex').attributes.asPath).toEqual([{ type: 'sequence', asns: [65001, 65001, 4200000005] }]);
  });
  it('BIRD: IPv6 withdrawals in MP_UNREACH_NLRI, End-of-RIB markers equal ours', () => {
    expect(update('bird-gobgpd/14-update-from-bird.hex').attributes.mpUnreach).toEqual({ afi: 2, safi: 1, withdrawn: v6('2001:db8:10::/48', '2001:db8:10::10/128') });
    expect(endOfRib('ipv4').toString('hex')).toBe(byName.get('bird-gobgpd/08-update-from-bird.hex')!.bytes.toString('hex'));
    expect(endOfRib('ipv6').toString('hex')).toBe(byName.get('bird-gobgpd/11-update-from-bird.hex')!.bytes.toString('hex'));
    expect(endOfRib('ipv6').toString('hex')).toBe(byName.get('bird-frr/06-update-from-frr.hex')!.bytes.toString('hex'));
  });
  it('gobgpd: 4-octet AS path, no-export, large community, MED', () => {
    const u = update('bird-gobgpd/18-update-from-gobgpd.hex');
    expect(u.nlri).toEqual(v4('203.0.113.0/24'));
    expect(u.attributes).toMatchObject({
      nextHop: '127.77.0.2',
      med: 10,
      asPath: [{ type: 'sequence', asns: [4200000002, 64512, 4200000009] }],
      communities: comms('4200:1', 'no-export'),
      largeCommunities: [[4200000002, 1, 1]],
    });
  });
  it('gobgpd: origin incomplete and a route target; LOCAL_PREF not sent over eBGP', () => {
    const u = update('bird-gobgpd/19-update-from-gobgpd.hex');
    expect(u.attributes).toMatchObject({ origin: 'incomplete', extendedCommunities: ext('rt:65002:7') });
    expect(u.attributes.localPref).toBeUndefined();
  });
  it('gobgpd: IPv6 announce and withdraw, IPv4 withdraw', () => {
    expect(update('bird-gobgpd/20-update-from-gobgpd.hex').attributes).toMatchObject({
      communities: comms('graceful-shutdown'),
      largeCommunities: [[4200000002, 6, 6]],
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::2'], nlri: v6('2001:db8:20::/48') },
    });
    expect(update('bird-gobgpd/21-update-from-gobgpd.hex').withdrawn).toEqual(v4('203.0.113.7/32'));
    expect(update('bird-gobgpd/22-update-from-gobgpd.hex').attributes.mpUnreach).toEqual({ afi: 2, safi: 1, withdrawn: v6('2001:db8:20::/48') });
  });
  it('ExaBGP on a 2-octet session: AS_TRANS in AS_PATH, the true path in AS4_PATH (RFC 6793 §4.2.3)', () => {
    const u = update('bird-exabgp/03-update-from-exabgp.hex');
    expect(u.attributes.asPath).toEqual([{ type: 'sequence', asns: [65003, AS_TRANS] }]);
    expect(u.attributes.as4Path).toEqual([{ type: 'sequence', asns: [65003, 4200000009] }]);
    expect(effectiveAsPath(u.attributes)).toEqual([{ type: 'sequence', asns: [65003, 4200000009] }]);
    expect(u.attributes).toMatchObject({ med: 7, communities: comms('65003:1', 'no-advertise') });
  });
  it('ExaBGP: ATOMIC_AGGREGATE and a 2-octet AGGREGATOR', () => {
    expect(update('bird-exabgp/04-update-from-exabgp.hex').attributes).toMatchObject({
      origin: 'egp',
      atomicAggregate: true,
      aggregator: { asn: 65003, address: '127.77.0.3' },
    });
  });
  it('BIRD towards a 2-octet peer: AS_TRANS plus AS4_PATH for 4200000005', () => {
    const u = update('bird-exabgp/10-update-from-bird.hex');
    expect(u.attributes.asPath).toEqual([{ type: 'sequence', asns: [65001, 65001, AS_TRANS] }]);
    expect(effectiveAsPath(u.attributes)).toEqual([{ type: 'sequence', asns: [65001, 65001, 4200000005] }]);
  });
  it('FRR: route-map communities (graceful-shutdown), large, extended, MED; IPv6 over an IPv4-mapped next hop', () => {
    expect(update('bird-frr/03-update-from-frr.hex')).toMatchObject({
      nlri: v4('10.44.0.0/16', '10.44.4.4/32'),
      attributes: { med: 40, communities: comms('65004:40', 'graceful-shutdown'), largeCommunities: [[65004, 4, 4]], extendedCommunities: ext('rt:65004:44') },
    });
    expect(update('bird-frr/04-update-from-frr.hex').attributes.mpReach).toEqual({ afi: 2, safi: 1, nextHops: ['::ffff:127.77.0.4'], nlri: v6('2001:db8:44::/48') });
  });
});

describe('NOTIFICATION and ROUTE-REFRESH fixtures', () => {
  const cease = (name: string) => decode(name) as NotificationMessage;
  it('Cease/Administrative Shutdown with RFC 9003 messages from BIRD and FRR', () => {
    expect(cease('bird-gobgpd/15-notification-from-bird.hex')).toMatchObject({ code: 6, subcode: 2 });
    expect(shutdownCommunicationOf(cease('bird-gobgpd/15-notification-from-bird.hex'))).toBe('bird maintenance: back soon');
    expect(shutdownCommunicationOf(cease('bird-frr/07-notification-from-frr.hex'))).toBe('frr going down');
  });
  it('Cease/Administrative Shutdown without a message', () => {
    const n = cease('bird-exabgp/16-notification-from-bird.hex');
    expect(n).toMatchObject({ code: 6, subcode: 2, data: new Uint8Array(0) });
    expect(shutdownCommunicationOf(n)).toBeUndefined();
  });
  it('BIRD `reload in` asks for IPv4 and IPv6 unicast', () => {
    expect(decode('bird-gobgpd/12-route-refresh-from-bird.hex')).toEqual({ type: MessageType.RouteRefresh, afi: 1, subtype: 0, safi: 1 });
    expect(decode('bird-gobgpd/13-route-refresh-from-bird.hex')).toEqual({ type: MessageType.RouteRefresh, afi: 2, subtype: 0, safi: 1 });
  });
});
