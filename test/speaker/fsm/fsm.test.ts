/**
 * RFC 4271 §8.2.2 transitions with a fake clock: every state, the timers (ConnectRetry with
 * backoff and jitter, Hold with the 240 s OpenSent value and the negotiated value, Keepalive at a
 * third), OPEN/NOTIFICATION handling in each state, and §6.8 collision resolution.
 */
import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  collisionWinner,
  initialSnapshot,
  nextDeadline,
  routerIdToUint32,
  step,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmSnapshot,
} from '../../../src/speaker/fsm/index.js';

const NOTIF = { code: 3, subcode: 1 };

/** An FSM under a fake clock; `random` fixed so jitter is predictable. */
class Rig {
  now = 1_000_000;
  s: FsmSnapshot;
  log: FsmAction[] = [];
  constructor(
    readonly config: FsmConfig = { passive: false, holdTimeSec: 90, connectRetry: { baseMs: 1_000, maxMs: 60_000 } },
    public random = 0,
  ) {
    this.s = initialSnapshot(this.now);
  }
  send(ev: FsmEvent): FsmAction[] {
    const r = step(this.s, ev, { config: this.config, now: this.now, random: () => this.random });
    this.s = r.next;
    this.log.push(...r.actions);
    return r.actions;
  }
  /** Move the clock and deliver due timers, as the session's wake-up timer does. */
  advance(ms: number): FsmAction[] {
    this.now += ms;
    return this.send({ type: 'Tick' });
  }
  types(actions: FsmAction[]): string[] {
    return actions.map((a) => a.type);
  }
  /** Drive an active session to Established with the peer's hold time. */
  establish(peerHold = 90): void {
    this.send({ type: 'ManualStart' });
    this.send({ type: 'Tcp_CR_Acked' });
    this.send({ type: 'BGPOpen', holdTimeSec: peerHold });
    this.send({ type: 'KeepAliveMsg' });
  }
}

const notificationOf = (actions: FsmAction[]) =>
  actions.find((a): a is Extract<FsmAction, { type: 'sendNotification' }> => a.type === 'sendNotification')?.notification;

describe('Idle', () => {
  it('starts unstarted and ignores everything but start events', () => {
    const r = new Rig();
    expect(r.s.state).toBe('idle');
    for (const ev of [{ type: 'Tcp_CR_Acked' }, { type: 'KeepAliveMsg' }, { type: 'BGPOpen', holdTimeSec: 90 }] as FsmEvent[]) {
      expect(r.send(ev)).toEqual([]);
      expect(r.s.state).toBe('idle');
    }
  });

  it('ManualStart: starts the ConnectRetryTimer, initiates a connection and moves to Connect', () => {
    const r = new Rig();
    expect(r.types(r.send({ type: 'ManualStart' }))).toEqual(['connect']);
    expect(r.s.state).toBe('connect');
    expect(r.s.timers.connectRetry).toBe(r.now + 750); // base 1 s x jitter 0.75
  });

  it('a passive neighbor goes to Active and never initiates', () => {
    const r = new Rig({ passive: true, holdTimeSec: 90, connectRetry: { baseMs: 1_000, maxMs: 60_000 } });
    expect(r.send({ type: 'ManualStart' })).toEqual([]);
    expect(r.s.state).toBe('active');
    expect(nextDeadline(r.s.timers)).toBeUndefined();
    expect(r.send({ type: 'ConnectRetryTimer_Expires' })).toEqual([]);
    expect(r.s.state).toBe('active');
    r.send({ type: 'TcpConnectionConfirmed' });
    expect(r.s.state).toBe('opensent');
  });

  it('ManualStop in Idle cancels the automatic restart', () => {
    const r = new Rig();
    r.send({ type: 'ManualStart' });
    r.send({ type: 'TcpConnectionFails', reason: 'connect ECONNREFUSED' });
    expect(r.s.timers.idleHold).toBeDefined();
    r.send({ type: 'ManualStop' });
    expect(r.s.timers).toEqual({});
    expect(r.advance(3_600_000)).toEqual([]);
    expect(r.s.state).toBe('idle');
  });
});

describe('Connect', () => {
  it('Tcp_CR_Acked: sends OPEN, large hold time (240 s), OpenSent', () => {
    const r = new Rig();
    r.send({ type: 'ManualStart' });
    expect(r.types(r.send({ type: 'Tcp_CR_Acked' }))).toEqual(['sendOpen']);
    expect(r.s.state).toBe('opensent');
    expect(r.s.timers).toEqual({ hold: r.now + 240_000 });
  });

  it('an accepted incoming connection (TcpConnectionConfirmed) also goes to OpenSent', () => {
    const r = new Rig();
    r.send({ type: 'ManualStart' });
    r.send({ type: 'TcpConnectionConfirmed' });
    expect(r.s.state).toBe('opensent');
  });

  it('ConnectRetryTimer expiry drops the attempt, reconnects, and the wait doubles', () => {
    const r = new Rig();
    r.send({ type: 'ManualStart' });
    expect(r.types(r.advance(749))).toEqual([]);
    expect(r.types(r.advance(1))).toEqual(['disconnect', 'connect']);
    expect(r.s.state).toBe('connect');
    expect(r.s.reason).toBe('connect timed out');
    expect(r.s.timers.connectRetry).toBe(r.now + 1_500); // 2 s x 0.75
  });

  it('TcpConnectionFails: Idle with the reason, then restarts after an exponential backoff', () => {
    const r = new Rig();
    r.send({ type: 'ManualStart' });
    expect(r.types(r.send({ type: 'TcpConnectionFails', reason: 'connect ECONNREFUSED' }))).toEqual(['disconnect', 'release']);
    expect(r.s).toMatchObject({ state: 'idle', reason: 'connect ECONNREFUSED', connectRetryCounter: 1 });
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const t0 = r.now;
      const deadline = r.s.timers.idleHold!;
      r.now = deadline - 1;
      expect(r.send({ type: 'Tick' })).toEqual([]);
      expect(r.types(r.advance(1))).toEqual(['connect']);
      waits.push(deadline - t0);
      r.send({ type: 'TcpConnectionFails', reason: 'connect ECONNREFUSED' });
    }
    // 1, 2, 4, ... s x 0.75 jitter, capped at 60 s x 0.75.
    expect(waits).toEqual([750, 1_500, 3_000, 6_000, 12_000, 24_000, 45_000, 45_000]);
  });

  it('ManualStop: Idle, counter zero, no restart', () => {
    const r = new Rig();
    r.send({ type: 'ManualStart' });
    r.send({ type: 'TcpConnectionFails', reason: 'x' });
    r.advance(10_000);
    expect(r.types(r.send({ type: 'ManualStop' }))).toEqual(['disconnect', 'release']);
    expect(r.s).toMatchObject({ state: 'idle', connectRetryCounter: 0, stopped: true, timers: {} });
  });

  it('any other event (e.g. an OPEN without a connection) goes to Idle', () => {
    const r = new Rig();
    r.send({ type: 'ManualStart' });
    r.send({ type: 'BGPOpen', holdTimeSec: 90 });
    expect(r.s).toMatchObject({ state: 'idle', connectRetryCounter: 1 });
  });
});

describe('Active', () => {
  it('after a connection fails in OpenSent: Active, ConnectRetryTimer restarted, expiry connects (Connect)', () => {
    const r = new Rig();
    r.send({ type: 'ManualStart' });
    r.send({ type: 'Tcp_CR_Acked' });
    expect(r.types(r.send({ type: 'TcpConnectionFails', reason: 'connection reset' }))).toEqual(['disconnect', 'release']);
    expect(r.s).toMatchObject({ state: 'active', reason: 'connection reset' });
    expect(r.types(r.advance(750))).toEqual(['connect']);
    expect(r.s.state).toBe('connect');
  });

  it('TcpConnectionConfirmed in Active sends OPEN', () => {
    const r = new Rig();
    r.send({ type: 'ManualStart' });
    r.send({ type: 'Tcp_CR_Acked' });
    r.send({ type: 'TcpConnectionFails', reason: 'x' });
    expect(r.types(r.send({ type: 'TcpConnectionConfirmed' }))).toEqual(['sendOpen']);
    expect(r.s.state).toBe('opensent');
  });

  it('TcpConnectionFails and other events in Active go to Idle; ManualStop stops', () => {
    const passive = { passive: true, holdTimeSec: 90, connectRetry: { baseMs: 1_000, maxMs: 60_000 } };
    const a = new Rig(passive);
    a.send({ type: 'ManualStart' });
    a.send({ type: 'TcpConnectionFails', reason: 'x' });
    expect(a.s).toMatchObject({ state: 'idle', connectRetryCounter: 1 });
    const b = new Rig(passive);
    b.send({ type: 'ManualStart' });
    b.send({ type: 'KeepAliveMsg' });
    expect(b.s.state).toBe('idle');
    const c = new Rig(passive);
    c.send({ type: 'ManualStart' });
    c.send({ type: 'ManualStop' });
    expect(c.s).toMatchObject({ state: 'idle', stopped: true });
  });
});

describe('OpenSent', () => {
  const openSent = (holdTimeSec = 90): Rig => {
    const r = new Rig({ passive: false, holdTimeSec, connectRetry: { baseMs: 1_000, maxMs: 60_000 } });
    r.send({ type: 'ManualStart' });
    r.send({ type: 'Tcp_CR_Acked' });
    return r;
  };

  it('a valid OPEN: KEEPALIVE sent, negotiated hold time = min of both, keepalive at a third, OpenConfirm', () => {
    const r = openSent(90);
    expect(r.types(r.send({ type: 'BGPOpen', holdTimeSec: 9 }))).toEqual(['sendKeepalive']);
    expect(r.s).toMatchObject({ state: 'openconfirm', holdTimeSec: 9 });
    expect(r.s.timers).toEqual({ hold: r.now + 9_000, keepalive: r.now + 3_000 });
  });

  it('a peer hold time of 0 disables both timers', () => {
    const r = openSent(90);
    r.send({ type: 'BGPOpen', holdTimeSec: 0 });
    expect(r.s.holdTimeSec).toBe(0);
    expect(r.s.timers).toEqual({});
    r.send({ type: 'KeepAliveMsg' });
    expect(r.s.state).toBe('established');
    expect(r.advance(10 * 3600_000)).toEqual([]);
    expect(r.s.state).toBe('established');
  });

  it('the 240 s hold timer expires without an OPEN: NOTIFICATION Hold Timer Expired, Idle', () => {
    const r = openSent();
    expect(r.advance(239_999)).toEqual([]);
    const actions = r.advance(1);
    expect(notificationOf(actions)).toEqual({ code: 4, subcode: 0 });
    expect(r.s).toMatchObject({ state: 'idle', reason: 'hold timer expired' });
  });

  it('an OPEN error is sent as the NOTIFICATION and ends in Idle', () => {
    const r = openSent();
    const n = { code: 2, subcode: 2, data: Uint8Array.of(0xfd, 0xe9) };
    expect(notificationOf(r.send({ type: 'BGPOpenMsgErr', notification: n, reason: 'bad peer AS' }))).toEqual(n);
    expect(r.s).toMatchObject({ state: 'idle', reason: 'bad peer AS', connectRetryCounter: 1 });
  });

  it('a header error is sent as the NOTIFICATION', () => {
    const r = openSent();
    expect(notificationOf(r.send({ type: 'BGPHeaderErr', notification: { code: 1, subcode: 2 }, reason: 'bad length' }))).toEqual({
      code: 1,
      subcode: 2,
    });
  });

  it('a NOTIFICATION received closes without answering; an unsupported-version NOTIFICATION does not count', () => {
    const r = openSent();
    const actions = r.send({ type: 'NotifMsg', reason: 'NOTIFICATION received: Cease/Administrative Shutdown' });
    expect(r.types(actions)).toEqual(['disconnect', 'release']);
    expect(r.s).toMatchObject({ state: 'idle', reason: 'NOTIFICATION received: Cease/Administrative Shutdown', connectRetryCounter: 1 });
    const v = openSent();
    v.send({ type: 'NotifMsgVerErr', reason: 'unsupported version' });
    expect(v.s).toMatchObject({ state: 'idle', connectRetryCounter: 0 });
  });

  it('a KEEPALIVE or UPDATE before the OPEN is an FSM error (RFC 6608 subcode 1)', () => {
    for (const ev of [{ type: 'KeepAliveMsg' }, { type: 'UpdateMsg' }] as FsmEvent[]) {
      const r = openSent();
      expect(notificationOf(r.send(ev))).toEqual({ code: 5, subcode: 1 });
      expect(r.s.state).toBe('idle');
    }
  });

  it('TCP failure goes to Active; collision dump sends Cease/Connection Collision Resolution', () => {
    const r = openSent();
    r.send({ type: 'TcpConnectionFails', reason: 'reset' });
    expect(r.s.state).toBe('active');
    const c = openSent();
    expect(notificationOf(c.send({ type: 'OpenCollisionDump' }))).toEqual({ code: 6, subcode: 7 });
    expect(c.s.state).toBe('idle');
  });

  it('ManualStop sends our Cease (with the RFC 9003 message data) and stops', () => {
    const r = openSent();
    const n = { code: 6, subcode: 2, data: Uint8Array.of(3, 0x62, 0x79, 0x65) };
    expect(notificationOf(r.send({ type: 'ManualStop', notification: n }))).toEqual(n);
    expect(r.s).toMatchObject({ state: 'idle', stopped: true });
    expect(r.advance(3600_000)).toEqual([]);
  });

  it('AutomaticStop sends Cease and restarts later', () => {
    const r = openSent();
    expect(notificationOf(r.send({ type: 'AutomaticStop' }))).toEqual({ code: 6, subcode: 2, data: undefined });
    expect(r.s.timers.idleHold).toBeDefined();
  });
});

describe('OpenConfirm', () => {
  const openConfirm = (): Rig => {
    const r = new Rig();
    r.send({ type: 'ManualStart' });
    r.send({ type: 'Tcp_CR_Acked' });
    r.send({ type: 'BGPOpen', holdTimeSec: 30 });
    return r;
  };

  it('KEEPALIVE received: Established, hold timer restarted, session announced, counter reset', () => {
    const r = openConfirm();
    r.now += 5_000;
    expect(r.types(r.send({ type: 'KeepAliveMsg' }))).toEqual(['established']);
    expect(r.s).toMatchObject({ state: 'established', connectRetryCounter: 0 });
    expect(r.s.timers.hold).toBe(r.now + 30_000);
  });

  it('sends KEEPALIVEs at a third of the hold time while waiting', () => {
    const r = openConfirm();
    expect(r.types(r.advance(10_000))).toEqual(['sendKeepalive']);
    expect(r.s.state).toBe('openconfirm');
  });

  it('hold timer expiry: NOTIFICATION 4/0, Idle', () => {
    const r = openConfirm();
    r.advance(10_000);
    r.advance(10_000);
    const actions = r.advance(10_000);
    expect(notificationOf(actions)).toEqual({ code: 4, subcode: 0 });
    expect(r.s.state).toBe('idle');
  });

  it('a second OPEN or an UPDATE is an FSM error (subcode 2)', () => {
    for (const ev of [{ type: 'BGPOpen', holdTimeSec: 30 }, { type: 'UpdateMsg' }] as FsmEvent[]) {
      const r = openConfirm();
      expect(notificationOf(r.send(ev))).toEqual({ code: 5, subcode: 2 });
    }
  });

  it('NOTIFICATION received or TCP failure: Idle without sending', () => {
    for (const ev of [
      { type: 'NotifMsg', reason: 'NOTIFICATION received: Cease' },
      { type: 'TcpConnectionFails', reason: 'connection reset' },
    ] as FsmEvent[]) {
      const r = openConfirm();
      expect(r.types(r.send(ev))).toEqual(['disconnect', 'release']);
      expect(r.s.state).toBe('idle');
    }
  });

  it('collision dump and OPEN errors send their NOTIFICATION', () => {
    const r = openConfirm();
    expect(notificationOf(r.send({ type: 'OpenCollisionDump' }))).toEqual({ code: 6, subcode: 7 });
    const m = openConfirm();
    expect(notificationOf(m.send({ type: 'BGPHeaderErr', notification: { code: 1, subcode: 1 }, reason: 'x' }))).toEqual({
      code: 1,
      subcode: 1,
    });
    const s = openConfirm();
    expect(notificationOf(s.send({ type: 'ManualStop' }))).toEqual({ code: 6, subcode: 2, data: undefined });
  });
});

describe('Established', () => {
  it('keepalive every third of the negotiated hold time, hold timer restarted by KEEPALIVE and UPDATE', () => {
    const r = new Rig();
    r.establish(9);
    const sent: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = r.now;
      r.now = nextDeadline(r.s.timers)!;
      if (r.types(r.send({ type: 'Tick' })).includes('sendKeepalive')) sent.push(r.now - t);
      // The peer's traffic keeps the hold timer away.
      r.send(i % 2 ? { type: 'KeepAliveMsg' } : { type: 'UpdateMsg' });
    }
    expect(sent).toEqual(Array(10).fill(3_000));
    expect(r.s.state).toBe('established');
  });

  it('hold timer expiry: NOTIFICATION Hold Timer Expired, Idle, reason recorded, restart later', () => {
    const r = new Rig();
    r.establish(9);
    r.advance(3_000);
    r.advance(3_000);
    const actions = r.advance(3_000);
    expect(r.types(actions)).toEqual(['sendNotification', 'disconnect', 'release']);
    expect(notificationOf(actions)).toEqual({ code: 4, subcode: 0 });
    expect(r.s).toMatchObject({ state: 'idle', reason: 'hold timer expired', connectRetryCounter: 1 });
    expect(r.types(r.advance(750))).toEqual(['connect']);
  });

  it('NOTIFICATION received: Idle with its reason, no answer', () => {
    const r = new Rig();
    r.establish();
    const reason = 'NOTIFICATION received: Cease/Administrative Shutdown: maintenance';
    expect(r.types(r.send({ type: 'NotifMsg', reason }))).toEqual(['disconnect', 'release']);
    expect(r.s).toMatchObject({ state: 'idle', reason });
  });

  it('UPDATE error: the codec NOTIFICATION is sent', () => {
    const r = new Rig();
    r.establish();
    expect(notificationOf(r.send({ type: 'UpdateMsgErr', notification: NOTIF, reason: 'malformed' }))).toEqual(NOTIF);
    expect(r.s.state).toBe('idle');
  });

  it('an OPEN in Established is an FSM error (subcode 3)', () => {
    const r = new Rig();
    r.establish();
    expect(notificationOf(r.send({ type: 'BGPOpen', holdTimeSec: 90 }))).toEqual({ code: 5, subcode: 3 });
  });

  it('ManualStop: our Cease, stopped; start events are ignored', () => {
    const r = new Rig();
    r.establish();
    expect(r.send({ type: 'ManualStart' })).toEqual([]);
    expect(r.s.state).toBe('established');
    const n = { code: 6, subcode: 2, data: new Uint8Array([4, 0x62, 0x79, 0x65, 0x21]) };
    expect(notificationOf(r.send({ type: 'ManualStop', notification: n, reason: 'shutdown' }))).toEqual(n);
    expect(r.s).toMatchObject({ state: 'idle', reason: 'shutdown', stopped: true });
  });

  it('collision dump on Established sends Cease 6/7', () => {
    const r = new Rig();
    r.establish();
    expect(notificationOf(r.send({ type: 'OpenCollisionDump' }))).toEqual({ code: 6, subcode: 7 });
  });

  it('records when each state was entered', () => {
    const r = new Rig();
    r.send({ type: 'ManualStart' });
    r.now += 100;
    r.send({ type: 'Tcp_CR_Acked' });
    expect(r.s.since).toBe(r.now);
    r.now += 100;
    r.send({ type: 'KeepAliveMsg' }); // FSM error in OpenSent
    expect(r.s.since).toBe(r.now);
  });
});

describe('timers', () => {
  it('jitter stays within [0.75, 1.0) of the exponential value and respects the cap', () => {
    const cfg = { baseMs: 1_000, maxMs: 30_000 };
    expect(backoffMs(0, cfg, () => 0)).toBe(750);
    expect(backoffMs(0, cfg, () => 0.999)).toBe(999);
    expect(backoffMs(3, cfg, () => 0.5)).toBe(7_000);
    expect(backoffMs(100, cfg, () => 0.999)).toBeLessThan(30_000);
    expect(backoffMs(100, cfg, () => 0)).toBe(22_500);
  });
});

describe('collision detection (§6.8)', () => {
  it('compares identifiers as unsigned 32-bit integers', () => {
    expect(routerIdToUint32('255.255.255.255')).toBe(4294967295);
    expect(routerIdToUint32('128.0.0.1')).toBe(2147483649);
    // 200.0.0.1 would be negative as a signed int; it is still higher than 10.0.0.1.
    expect(collisionWinner('200.0.0.1', '10.0.0.1')).toBe('locally-initiated');
    expect(collisionWinner('10.0.0.1', '200.0.0.1')).toBe('remotely-initiated');
    expect(collisionWinner('10.0.0.2', '10.0.0.1')).toBe('locally-initiated');
    expect(() => routerIdToUint32('1.2.3')).toThrow();
  });
});

describe('OPEN and NOTIFICATION in every state (table)', () => {
  /** Drive a fresh FSM into `state`. */
  const into = (state: string): Rig => {
    const passive = state === 'active';
    const r = new Rig({ passive, holdTimeSec: 90, connectRetry: { baseMs: 1_000, maxMs: 60_000 } });
    if (state === 'idle') return r;
    r.send({ type: 'ManualStart' });
    if (state === 'connect' || state === 'active') return r;
    r.send({ type: 'Tcp_CR_Acked' });
    if (state === 'opensent') return r;
    r.send({ type: 'BGPOpen', holdTimeSec: 90 });
    if (state === 'openconfirm') return r;
    r.send({ type: 'KeepAliveMsg' });
    return r;
  };
  const cases: Array<[string, FsmEvent, string, { code: number; subcode: number } | undefined]> = [
    ['idle', { type: 'BGPOpen', holdTimeSec: 90 }, 'idle', undefined],
    ['idle', { type: 'NotifMsg', reason: 'n' }, 'idle', undefined],
    ['connect', { type: 'BGPOpen', holdTimeSec: 90 }, 'idle', undefined],
    ['connect', { type: 'NotifMsg', reason: 'n' }, 'idle', undefined],
    ['active', { type: 'BGPOpen', holdTimeSec: 90 }, 'idle', undefined],
    ['active', { type: 'NotifMsg', reason: 'n' }, 'idle', undefined],
    ['opensent', { type: 'BGPOpen', holdTimeSec: 90 }, 'openconfirm', undefined],
    ['opensent', { type: 'NotifMsg', reason: 'n' }, 'idle', undefined],
    ['openconfirm', { type: 'BGPOpen', holdTimeSec: 90 }, 'idle', { code: 5, subcode: 2 }],
    ['openconfirm', { type: 'NotifMsg', reason: 'n' }, 'idle', undefined],
    ['established', { type: 'BGPOpen', holdTimeSec: 90 }, 'idle', { code: 5, subcode: 3 }],
    ['established', { type: 'NotifMsg', reason: 'n' }, 'idle', undefined],
  ];
  it.each(cases)('%s + %o -> %s', (state, ev, next, notification) => {
    const r = into(state);
    expect(r.s.state).toBe(state);
    const actions = r.send(ev);
    expect(r.s.state).toBe(next);
    expect(notificationOf(actions)).toEqual(notification);
  });
});
