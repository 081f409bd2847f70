/**
 * RFC 4271 §6: on an error the speaker sends the NOTIFICATION, then closes. Whatever the peer
 * keeps sending right behind the bad message (here a ROUTE-REFRESH and a KEEPALIVE, in the same
 * segment or the next), every session must get its NOTIFICATION, and the close must be a FIN:
 * closing a socket with unread input makes Linux send a RST instead, and a RST may overtake or
 * discard what is still queued. The speaker keeps reading (and discarding) after its NOTIFICATION
 * until the peer's FIN or its close bound (connection.ts), which this test holds it to, session
 * after session on fresh connections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType, encodeMessage } from '../../../src/speaker/codec/index.js';
import { loopbackAddress } from '../../harness/net.js';
import { isNotification, isUpdate, rawConnect, type RawConn } from '../../harness/peers/raw-peer.js';
import { waitFor } from '../../harness/wait.js';
import { desired, neighbor, speaker, vip } from './helpers.js';

/** The fuzz finding's bytes: Withdrawn Routes Length 2064 in a 90-octet UPDATE, §6.3 Malformed Attribute List (3/1). */
const MALFORMED = Buffer.from(
  'ffffffffffffffffffffffffffffffff005a020008100a01200a02030400d14001010240021c02030000fdf2fa56ea010000fdf201030000000100000002000000034003040a4200018004040000000540e400c007080000fdf2',
  'hex',
);
const SESSIONS = 60;
const BUDGET_MS = 25_000;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface Closed {
  notification?: [number, number];
  /** The socket error the peer saw (ECONNRESET when we reset instead of closing). */
  error?: string;
  types: string;
}

/** One session: Established, End-of-RIB seen, then the bad UPDATE with more input right behind it. */
async function oneSession(local: string, port: number, peerAddr: string, sameSegment: boolean): Promise<Closed> {
  const conn: RawConn = await rawConnect(local, port, peerAddr);
  let error: string | undefined;
  conn.socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
  try {
    await conn.handshake({ asn: 65002, routerId: '10.0.0.2' });
    await waitFor(() => conn.received.some((m) => isUpdate(m) && m.nlri.length === 0 && m.withdrawn.length === 0 && !m.attributes.mpReach), {
      timeoutMs: 10_000,
      intervalMs: 2,
      what: 'End-of-RIB',
    });
    const more = [
      encodeMessage({ type: MessageType.RouteRefresh, afi: 1, safi: 1, subtype: 0 }, conn.codec),
      encodeMessage({ type: MessageType.Keepalive }, conn.codec),
    ];
    // A peer mid-stream does not stop at our NOTIFICATION: it has more in flight. Write once more
    // as soon as the NOTIFICATION is read; the speaker must still be reading then (a closed socket
    // answers that with a RST, which the peer sees as ECONNRESET/EPIPE).
    let answered = false;
    conn.socket.on('data', () => {
      if (answered || !conn.received.some(isNotification) || conn.socket.writableEnded) return;
      answered = true;
      conn.socket.write(encodeMessage({ type: MessageType.Keepalive }, conn.codec));
    });
    if (sameSegment) conn.send(Buffer.concat([MALFORMED, ...more]));
    else for (const b of [MALFORMED, ...more]) conn.send(b);
    await waitFor(() => conn.closed, { timeoutMs: 10_000, intervalMs: 2, what: 'the speaker to close after its NOTIFICATION' });
    const n = conn.received.find(isNotification);
    return { notification: n ? [n.code, n.subcode] : undefined, error, types: conn.received.map((m) => m.type).join(',') };
  } finally {
    conn.close();
  }
}

describe('NOTIFICATION before close (RFC 4271 §6)', () => {
  it(`every one of up to ${SESSIONS} sessions gets its NOTIFICATION and a FIN, with the peer still sending`, async () => {
    const local = loopbackAddress();
    const peerAddr = loopbackAddress();
    const s = speaker(
      { neighbors: [neighbor({ address: peerAddr, remoteAs: 65002, passive: true, families: ['ipv4'] })], listen: { address: local, port: 0 }, nextHop: {} },
      // The peer reconnects at once; the session's idle hold must not refuse it for long.
      { connectRetry: { baseMs: 1, maxMs: 5 } },
    );
    cleanups.push(() => s.stop('test over'));
    await s.apply(desired(vip('192.0.2.90/32')));
    await s.start();
    const results: Closed[] = [];
    const deadline = Date.now() + BUDGET_MS;
    for (let i = 0; i < SESSIONS && Date.now() < deadline; i++) {
      results.push(await oneSession(local, s.listenPort!, peerAddr, i % 2 === 0));
    }
    const bad = results.filter((r) => r.notification?.[0] !== 3 || r.notification[1] !== 1 || r.error !== undefined);
    expect(results.length).toBeGreaterThanOrEqual(20);
    expect(bad, `${bad.length}/${results.length} sessions without NOTIFICATION 3/1 or reset`).toEqual([]);
  }, BUDGET_MS + 30_000);
});
