/**
 * RFC 2918 §4: on a ROUTE-REFRESH the speaker re-advertises its whole Adj-RIB-Out for the
 * <AFI, SAFI>. Regression for a race (issue #3): UPDATEs still being written when the refresh
 * was processed were recorded in the Adj-RIB-Out *after* the refresh had cleared it, so the
 * refresh's re-send skipped them, although the peer had received some of them before it asked.
 *
 * The raw peer stops reading after the first UPDATE, so the speaker's write backs up in the kernel
 * and in Node's socket buffer (each route has its own MED and large community, one UPDATE per
 * route, about 7 MB for 100,000 routes: more than loopback's socket buffers hold, about 4 MB
 * measured). It then sends a ROUTE-REFRESH, waits until the speaker has taken it in (its log is
 * the barrier and the check that the write was still pending: the assertions are on what the peer
 * receives), and reads again. Every prefix must arrive after the ROUTE-REFRESH. A sentinel route
 * applied afterwards marks the end of the re-send in the TCP stream, so the check needs no timing.
 * Last, a ROUTE-REFRESH that requests nothing we advertised (another SAFI, a BoRR or an EoRR)
 * re-sends nothing.
 */
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DesiredSet } from '../../../src/backend/types.js';
import { MessageType, encodeMessage, type DecodedMessage, type DecodedUpdate } from '../../../src/speaker/codec/index.js';
import { loopbackAddress } from '../../harness/net.js';
import { RawPeer, isUpdate, type RawConn } from '../../harness/peers/raw-peer.js';
import { waitFor } from '../../harness/wait.js';
import { desired, neighbor, speaker, vip } from './helpers.js';

const ROUTES = 100_000;
const SENTINEL = '192.0.2.99/32';
const TEST_TIMEOUT_MS = 180_000;
const WAIT_MS = 90_000;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface LogRecord {
  code?: string;
  announced?: number;
}

/** A debug logger that keeps its records, for the test's barrier (never for its assertions). */
function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) });
  return { logger, records };
}

async function setup(families: Array<'ipv4' | 'ipv6'> = ['ipv4']) {
  const peer = await RawPeer.listen(loopbackAddress());
  cleanups.push(() => peer.close());
  const { logger, records } = recordingLogger();
  const s = speaker({
    neighbors: [neighbor({ address: peer.host, port: peer.port, remoteAs: 4200000002, localAddress: loopbackAddress(), families })],
    nextHop: { ipv6: 'fd00::1' },
    logger,
  });
  cleanups.push(() => s.stop('test over'));
  return { peer, s, records };
}

/** 10.0.0.0/32 onwards, each with attributes of its own so that every route is one UPDATE. */
function bigSet(n: number): DesiredSet {
  const routes = [];
  for (let i = 0; i < n; i++) {
    routes.push(vip(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`, { med: i, largeCommunities: [`4200000001:${i}:1`] }, `vip${i}`));
  }
  return desired(...routes);
}

function withSentinel(set: DesiredSet): DesiredSet {
  const s = vip(SENTINEL, {}, 'sentinel');
  return new Map([...set, [s.prefix, s]]);
}

const announcedAll = (msgs: DecodedMessage[]): string[] =>
  msgs.filter(isUpdate).flatMap((u: DecodedUpdate) => [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])].map((p) => p.prefix));
const hasNlri = (m: DecodedMessage): boolean => isUpdate(m) && m.nlri.length > 0;
/** End-of-RIB (RFC 4724 §2): an empty UPDATE for IPv4, an empty MP_UNREACH_NLRI for IPv6. */
const isEor = (m: DecodedMessage): boolean =>
  isUpdate(m) && m.nlri.length === 0 && m.withdrawn.length === 0 && (Object.keys(m.attributes).length === 0 || m.attributes.mpUnreach?.withdrawn.length === 0);
const refresh = (conn: RawConn, afi: number, safi: number, subtype = 0): void =>
  conn.send(encodeMessage({ type: MessageType.RouteRefresh, afi, subtype, safi }, conn.codec));

/**
 * With the peer paused mid-write: ROUTE-REFRESH, barrier on the speaker taking it in while the
 * write of the `ROUTES` announcements is still pending, then read again up to the sentinel.
 * Returns the prefixes the peer received before and after its ROUTE-REFRESH.
 */
async function refreshWhileWriting(conn: RawConn, s: ReturnType<typeof speaker>, records: LogRecord[], routes: DesiredSet) {
  await waitFor(() => conn.paused, { timeoutMs: WAIT_MS, what: 'the peer to stop reading after the first UPDATE' });
  const from = conn.received.length;
  const before = new Set(announcedAll(conn.received));
  refresh(conn, 1, 1);
  const refreshAt = await waitFor(() => {
    const i = records.findIndex((r) => r.code === 'BGP_ROUTE_REFRESH');
    return i >= 0 && i + 1;
  }, { timeoutMs: WAIT_MS, what: 'the speaker to take in the ROUTE-REFRESH' });
  // The race needs the write to be pending when the refresh is processed: its completion is
  // logged (BGP_UPDATES_SENT) only after the refresh.
  const writtenEarly = records.slice(0, refreshAt).some((r) => r.code === 'BGP_UPDATES_SENT' && r.announced === ROUTES);
  expect(writtenEarly, 'precondition: the UPDATEs were all written before the ROUTE-REFRESH arrived (the race was not exercised)').toBe(false);
  expect(before.size, 'precondition: the peer read some routes before its ROUTE-REFRESH, not all').toBeGreaterThan(0);
  expect(before.size).toBeLessThan(ROUTES);
  conn.resume();
  await s.apply(withSentinel(routes));
  const end = await waitFor(() => {
    const i = conn.received.findIndex((m, k) => k >= from && isUpdate(m) && m.nlri.some((p) => p.prefix === SENTINEL));
    return i >= 0 && i;
  }, { timeoutMs: WAIT_MS, what: `the sentinel ${SENTINEL} (${announcedAll(conn.received.slice(from)).length} prefixes after the refresh so far)` });
  return { before, after: new Set(announcedAll(conn.received.slice(from, end))) };
}

function expectWholeSet(after: Set<string>, routes: DesiredSet, before: Set<string>): void {
  const missing = [...routes.keys()].filter((p) => !after.has(p));
  const missedEarly = missing.filter((p) => before.has(p)).length;
  expect(missing.length, `${missing.length} prefixes not re-advertised after the ROUTE-REFRESH (${missedEarly} of them read by the peer before it)`).toBe(0);
  expect(after.size).toBe(routes.size);
}

describe('ROUTE-REFRESH while UPDATEs are being written (RFC 2918 §4)', () => {
  it('during the initial advertisement (before End-of-RIB): every prefix arrives again after the refresh', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { peer, s, records } = await setup();
    const routes = bigSet(ROUTES);
    await s.apply(routes);
    await s.start();
    const conn = await peer.connection(0, WAIT_MS);
    conn.pauseOn(hasNlri);
    await conn.handshake({ asn: 4200000002, routerId: '10.0.0.2' });
    const { before, after } = await refreshWhileWriting(conn, s, records, routes);
    expectWholeSet(after, routes, before);
    // RFC 4724 §2: End-of-RIB once, after the initial advertisement (a refresh does not repeat it).
    const eors = conn.received.flatMap((m, i) => (isEor(m) ? [i] : []));
    expect(eors).toHaveLength(1);
    expect(announcedAll(conn.received.slice(0, eors[0])).length).toBeGreaterThanOrEqual(ROUTES);
  });

  it('after End-of-RIB, while a large change is written: every prefix arrives again after the refresh', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { peer, s, records } = await setup();
    await s.start();
    const conn = await peer.connection(0, WAIT_MS);
    await conn.handshake({ asn: 4200000002, routerId: '10.0.0.2' });
    await waitFor(() => conn.received.some(isEor), { timeoutMs: WAIT_MS, what: 'End-of-RIB' });
    conn.pauseOn(hasNlri);
    const routes = bigSet(ROUTES);
    const applied = s.apply(routes);
    const { before, after } = await refreshWhileWriting(conn, s, records, routes);
    await applied;
    expectWholeSet(after, routes, before);
  });
});

describe('ROUTE-REFRESH that asks for nothing we advertised', () => {
  it('ignores another SAFI (RFC 2918 §4) and the BoRR/EoRR subtypes (RFC 7313 §3)', async () => {
    const { peer, s } = await setup(['ipv4', 'ipv6']);
    const routes = desired(vip('192.0.2.10/32'), vip('2001:db8::10/128', {}, 'v6'));
    await s.apply(routes);
    await s.start();
    const conn = await peer.connection(0, WAIT_MS);
    await conn.handshake({ asn: 4200000002, routerId: '10.0.0.2' });
    await waitFor(() => conn.received.filter(isEor).length === 2, { timeoutMs: WAIT_MS, what: 'End-of-RIB for both families' });
    const from = conn.received.length;
    refresh(conn, 1, 2); // IPv4 multicast: not negotiated
    refresh(conn, 1, 1, 1); // BoRR for IPv4 unicast
    refresh(conn, 1, 1, 2); // EoRR for IPv4 unicast
    // A real request for IPv6 behind them: processed in order, so its re-send shows the others
    // were taken in; the sentinel then closes the window in which an IPv4 re-send would show.
    refresh(conn, 2, 1);
    await waitFor(() => announcedAll(conn.received.slice(from)).includes('2001:db8::10/128'), { timeoutMs: WAIT_MS, what: 'the IPv6 re-send' });
    await s.apply(withSentinel(routes));
    const end = await waitFor(() => {
      const i = conn.received.findIndex((m, k) => k >= from && isUpdate(m) && m.nlri.some((p) => p.prefix === SENTINEL));
      return i >= 0 && i;
    }, { timeoutMs: WAIT_MS, what: `the sentinel ${SENTINEL}` });
    expect(announcedAll(conn.received.slice(from, end))).toEqual(['2001:db8::10/128']);
  });
});
