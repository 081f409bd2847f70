/**
 * On-the-wire fuzz of the built-in speaker (issue 6), bounded in time: random and mutated
 * messages go to a live Established session of a real `vipcast run`. After each one, vipcast
 * must either answer with a NOTIFICATION (and close) or keep the session (it answers a
 * ROUTE-REFRESH with its UPDATEs); it must never crash, hang, or disturb its session with a real
 * BIRD, which keeps the VIP throughout.
 *
 * Quick profile: ~6 s of fuzzing. `VIPCAST_FAULTS=long`: 60 s. Replay: VIPCAST_FUZZ_SEED=n.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBird } from '../harness/bird.js';
import { hasBuild } from '../harness/vipcast.js';
import { sleep, waitFor } from '../harness/wait.js';
import { MessageType } from '../../src/speaker/codec/index.js';
import { BadConn, connectFrom, routeRefresh } from './lib/bad-peer.js';
import { assertAlive, birdStats, CALM_HEALTH, LONG, waitRoute, type BirdStats } from './lib/fixture.js';
import { fuzzMessage, fuzzOpen, prng, seedMessages, type FuzzMessage } from './lib/fuzz.js';
import { Rig } from './lib/rig.js';

const VIP = '198.51.100.62/32';
const BAD_AS = 65010;
const FUZZ_MS = LONG ? 60_000 : 6_000;
const MAX_ROUNDS = LONG ? 200_000 : 20_000;
const SEED = Number(process.env.VIPCAST_FUZZ_SEED ?? Date.now() % 1_000_000);

type Outcome = 'kept' | 'notified' | 'closed' | 'closed-after-fin';

const hex = (b: Buffer): string => b.toString('hex').slice(0, 400);

describe.skipIf(!hasBird() || !hasBuild())('wire fuzz of the built-in speaker', () => {
  let rig: Rig;
  let baseline: BirdStats;

  beforeAll(async () => {
    rig = await Rig.start({ tag: 'fuzz', vip: VIP, badPeerAs: BAD_AS, health: CALM_HEALTH, logLevel: process.env.FUZZ_LOG ?? 'warn' });
    baseline = await birdStats(rig.bird, 'vc');
  });

  afterAll(async () => {
    await rig?.stop();
  });

  /**
   * A new connection that got vipcast's OPEN. Right after we dropped an Established connection
   * vipcast may not have seen the close yet and answers 6/7 (RFC 4271 §6.8): retry, bounded.
   */
  async function connect(): Promise<BadConn> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const c = await connectFrom(rig.ourAddr, rig.listenPort, rig.badAddr);
      const first = await waitFor(() => c.received[0], { timeoutMs: 5_000, intervalMs: 2, what: 'OPEN or NOTIFICATION on a new connection' });
      if (first.type === (MessageType.Open as number)) return c;
      expect([first.body[0], first.body[1]], 'a new connection is refused only as a collision').toEqual([6, 7]);
      c.destroy();
      await sleep(20);
    }
    throw new Error('vipcast kept refusing new connections as collisions');
  }

  /**
   * What vipcast did with the message: every framed message gets a decision (NOTIFICATION or a
   * live session answering ROUTE-REFRESH) within 5 s; a bad header may leave vipcast waiting for
   * bytes that never come, so then our FIN must make it close.
   */
  async function settle(c: BadConn, m: FuzzMessage, from: number): Promise<Outcome> {
    c.send(routeRefresh(1, 1));
    // A NOTIFICATION ends the session whatever follows (RFC 4271 §6.4, §8.2.2 NotifMsg): an UPDATE
    // seen now can only be a late answer to an earlier ROUTE-REFRESH (a mutated message that is
    // still a valid ROUTE-REFRESH gets its own answer), never a sign that the session was kept.
    const canKeep = !(m.framed && m.type === (MessageType.Notification as number));
    const decided = (): Outcome | undefined => {
      const later = c.received.slice(from);
      if (later.some((x) => x.type === (MessageType.Notification as number))) return 'notified';
      if (canKeep && later.some((x) => x.type === (MessageType.Update as number))) return 'kept';
      return c.closed ? 'closed' : undefined;
    };
    const what = `vipcast's answer to ${m.kind} [${hex(m.bytes)}] (seed ${SEED})`;
    if (!m.framed) {
      const early = await waitFor(decided, { timeoutMs: 500, intervalMs: 2, what }).catch(() => undefined);
      if (early) return early;
      c.end();
      await c.waitClosed(5_000);
      return 'closed-after-fin';
    }
    return waitFor(decided, { timeoutMs: 5_000, intervalMs: 2, what });
  }

  async function checkNotified(c: BadConn, m: FuzzMessage, tally: Map<string, number>): Promise<void> {
    const n = await c.notification(1_000);
    // RFC 4271 §4.5 error codes 1-6, RFC 7313 code 7; vipcast must then close (§6).
    expect(n.code, `NOTIFICATION code for ${m.kind} [${hex(m.bytes)}] (seed ${SEED})`).toBeGreaterThanOrEqual(1);
    expect(n.code).toBeLessThanOrEqual(7);
    await c.waitClosed(5_000);
    const key = `${n.code}/${n.subcode}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }

  interface Tally {
    outcomes: Map<string, number>;
    notifications: Map<string, number>;
  }
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

  /** A fresh connection whose OPEN is mangled: vipcast is in OpenSent. */
  async function fuzzOneOpen(r: () => number, tally: Tally): Promise<void> {
    const c = await connect();
    const bytes = fuzzOpen(BAD_AS, r);
    c.send(bytes);
    const m: FuzzMessage = { kind: 'mutated-body', bytes, framed: true, type: MessageType.Open };
    const o = await waitFor(() => (c.count(MessageType.Notification) > 0 ? 'notified' : c.count(MessageType.Keepalive) > 0 ? 'accepted' : undefined), {
      timeoutMs: 5_000,
      intervalMs: 2,
      what: `answer to a mutated OPEN [${hex(bytes)}] (seed ${SEED})`,
    });
    if (o === 'notified') await checkNotified(c, m, tally.notifications);
    bump(tally.outcomes, `open-${o}`);
    c.destroy();
  }

  /** The message of the last round decided 'kept', and where vipcast's answers to it began. */
  interface Kept {
    m: FuzzMessage;
    from: number;
  }

  /**
   * 'kept' is decided on the first UPDATE after a message, which may still be the late answer to
   * an earlier ROUTE-REFRESH; if vipcast closed the connection since, that close belongs to the
   * previous message. Judge it for that message, and never send the next one into a dead
   * connection and then blame vipcast for not answering bytes it never got.
   */
  async function lateOutcome(conn: BadConn, prev: Kept, tally: Tally): Promise<boolean> {
    const notified = conn.received.slice(prev.from).some((x) => x.type === (MessageType.Notification as number));
    if (!conn.closed && !notified) return false;
    bump(tally.outcomes, notified ? 'notified-late' : 'closed-late');
    if (notified) {
      await checkNotified(conn, prev.m, tally.notifications);
    } else if (prev.m.type !== (MessageType.Notification as number)) {
      throw new Error(`vipcast closed silently after [${hex(prev.m.bytes)}] (seed ${SEED}); got types ${conn.received.map((x) => x.type).join(',')}`);
    }
    conn.destroy();
    return true;
  }

  /** One message on an Established connection; returns the connection if the session survived. */
  async function fuzzOneMessage(conn: BadConn, prev: Kept | undefined, r: () => number, seeds: Buffer[], tally: Tally): Promise<Kept | undefined> {
    if (prev && (await lateOutcome(conn, prev, tally))) return undefined;
    const m = fuzzMessage(seeds, r);
    const from = conn.received.length;
    const sent = conn.send(m.bytes);
    const outcome = await settle(conn, m, from);
    bump(tally.outcomes, outcome);
    if (outcome === 'notified') await checkNotified(conn, m, tally.notifications);
    // Closing without a NOTIFICATION is right only when we sent one (RFC 4271 §6.4). Bytes that
    // never went out (the connection was already closed) cannot be blamed on vipcast: that close
    // was the answer to the previous message, and only a NOTIFICATION may be answered so.
    if (outcome === 'closed' && m.type !== (MessageType.Notification as number)) {
      const why = sent ? '' : `: it never got them, the connection was already closed after [${hex(prev?.m.bytes ?? Buffer.alloc(0))}]`;
      if (sent || prev?.m.type !== (MessageType.Notification as number)) {
        throw new Error(`vipcast closed silently after [${hex(m.bytes)}]${why} (seed ${SEED}); got types ${conn.received.map((x) => x.type).join(',')}`);
      }
    }
    if (outcome === 'kept') return { m, from };
    conn.destroy();
    return undefined;
  }

  it(`random and mutated messages for ${FUZZ_MS / 1000} s: a NOTIFICATION or a live session, never a crash or a hang`, async () => {
    const r = prng(SEED);
    const seeds = seedMessages();
    const tally: Tally = { outcomes: new Map(), notifications: new Map() };
    const deadline = Date.now() + FUZZ_MS;
    let conn: BadConn | undefined;
    let kept: Kept | undefined;
    let rounds = 0;
    try {
      for (; rounds < MAX_ROUNDS && Date.now() < deadline; rounds++) {
        if (rig.vipcast.proc.exitCode !== null) throw new Error(`vipcast exited during fuzz (seed ${SEED})`);
        if (r() < 0.1) {
          conn?.destroy();
          conn = undefined;
          await fuzzOneOpen(r, tally);
          continue;
        }
        if (!conn) {
          conn = await connect();
          await conn.handshake({ asn: BAD_AS, routerId: '10.66.0.1' });
          kept = undefined;
        }
        kept = await fuzzOneMessage(conn, kept, r, seeds, tally);
        if (!kept) conn = undefined;
      }
    } catch (err) {
      throw new Error(`${(err as Error).message}; vipcast log: ${rig.vipcast.output.slice(-4000)}`, { cause: err });
    }
    conn?.destroy();
    console.info(
      `[faults] wire fuzz seed ${SEED}: ${rounds} messages in ${FUZZ_MS} ms; outcomes ${JSON.stringify(Object.fromEntries(tally.outcomes))}; NOTIFICATIONs ${JSON.stringify(Object.fromEntries(tally.notifications))}`,
    );
    expect(rounds).toBeGreaterThan(LONG ? 500 : 50);
    await assertAlive(rig.vipcast, rig.adminPort);
    const now = await birdStats(rig.bird, 'vc');
    expect(now.state).toBe('Established');
    expect(now.importUpdates).toBe(baseline.importUpdates);
    await waitRoute(rig.bird, 'vc', VIP, true, 1_000);
  }, FUZZ_MS + 60_000);
});
