/**
 * One BGP session with one configured neighbor: drives the pure FSM (../fsm) with real sockets
 * and one wake-up timer, keeps the neighbor's Adj-RIB-Out, and turns the desired set into UPDATEs
 * once Established (then End-of-RIB, RFC 4724 §2: after the initial advertisement, never before).
 *
 * Connections: at most one bound to the FSM, plus, during OpenSent/OpenConfirm, one incoming
 * connection from the same peer waiting for its OPEN so that §6.8 collision detection can decide
 * which one survives (see #resolveCollision).
 */
import type { Logger } from 'pino';
import type { DesiredSet, NeighborSpec, PeerState, PeerStatus } from '../../backend/types.js';
import {
  AFI_IPV4,
  AFI_IPV6,
  MessageType,
  NotificationError,
  SAFI_UNICAST,
  describeNotification,
  encodeMessage,
  encodeShutdownCommunication,
  endOfRib,
  packUpdates,
  shutdownCommunicationOf,
  type CodecOptions,
  type DecodedMessage,
  type DecodedUpdate,
  type NotificationMessage,
  type OpenMessage,
  type RouteRefreshMessage,
} from '../codec/index.js';
import {
  CeaseSubcode,
  adoptCollisionWinner,
  cease,
  collisionWinner,
  initialSnapshot,
  nextDeadline,
  step,
  type BackoffConfig,
  type FsmAction,
  type FsmContext,
  type FsmEvent,
  type FsmSnapshot,
  type NotificationSpec,
} from '../fsm/index.js';
import { AdjRibOut } from './adj-rib-out.js';
import { BgpConnection, type ConnectionHandlers } from './connection.js';
import { localOpen, negotiate, type LocalOpenConfig, type Negotiated } from './open-exchange.js';
import { wantedRoutes } from './outbound.js';
import { Md5FailureLog, connectSigned } from './md5.js';
import { NeighborTtl } from './ttl.js';

export interface SessionConfig {
  neighbor: NeighborSpec;
  localAs: number;
  routerId: string;
  /** BackendOptions.nextHop: per-family default next hop. */
  nextHop: { ipv4?: string; ipv6?: string };
  /** Receive-only mode: accept whatever AS the peer announces (neighbor.remoteAs is ignored). */
  acceptAnyAs?: boolean;
  gracefulRestartTimeSec: number;
  /** TCP-MD5 key (RFC 2385) from neighbor.passwordFile, read by the backend; see ./md5.ts. */
  md5Key?: Uint8Array;
  connectRetry: BackoffConfig;
  logger: Logger;
  now: () => number;
  random: () => number;
}

export interface SessionCallbacks {
  /** State, reason or advertised count changed. */
  change(status: PeerStatus): void;
  /** An UPDATE from an Established peer (receive-only mode prints these). */
  update?(update: DecodedUpdate, peer: PeerStatus): void;
}

/** Transition reason when ttl_security (GTSM) is configured but could not be set on a socket. */
const GTSM_NOT_SET = 'ttl_security could not be applied: connection dropped';
const NO_CODEC: CodecOptions = { fourOctetAs: false, extendedMessage: false, extendedNextHopIpv4: false };
const toMessage = (n: NotificationSpec): NotificationMessage => ({
  type: MessageType.Notification,
  code: n.code,
  subcode: n.subcode,
  data: n.data ?? new Uint8Array(0),
});

export class Session {
  #fsm: FsmSnapshot;
  #conn?: BgpConnection;
  /** Second connection from the peer while ours is in OpenSent/OpenConfirm (§6.8). */
  #collision?: BgpConnection;
  #negotiated?: Negotiated;
  #peerAs?: number;
  #desired: DesiredSet = new Map();
  readonly #rib = new AdjRibOut();
  #eorSent = false;
  #syncChain: Promise<void> = Promise.resolve();
  #timer?: NodeJS.Timeout;
  readonly #closing = new Set<Promise<void>>();
  readonly #unresolved = new Set<string>();
  #lastIdleReason = '';
  readonly #log: Logger;
  readonly #open: LocalOpenConfig;
  readonly #ttl: NeighborTtl;
  #md5Failures?: Md5FailureLog;

  constructor(
    readonly cfg: SessionConfig,
    private readonly callbacks: SessionCallbacks,
  ) {
    const n = cfg.neighbor;
    this.#fsm = initialSnapshot(cfg.now());
    this.#log = cfg.logger.child({ peer: n.address, remote_as: n.remoteAs });
    this.#ttl = new NeighborTtl(n, this.#log);
    this.#open = {
      localAs: cfg.localAs,
      routerId: cfg.routerId,
      holdTimeSec: n.holdTimeSec,
      families: n.families.length > 0 ? n.families : ['ipv4', 'ipv6'],
      // RFC 8950: offered on IPv6 transport, where our default next hop for IPv4 VIPs is IPv6.
      extendedNextHop: n.address.includes(':'),
      gracefulRestartTimeSec: cfg.gracefulRestartTimeSec,
    };
  }

  get address(): string {
    return this.cfg.neighbor.address;
  }
  get state(): PeerState {
    return this.#fsm.state;
  }

  status(): PeerStatus {
    const n = this.cfg.neighbor;
    return {
      address: n.address,
      port: n.port,
      remoteAs: this.#peerAs ?? n.remoteAs,
      description: n.description,
      state: this.#fsm.state,
      since: new Date(this.#fsm.since),
      reason: this.#fsm.reason,
      advertised: this.#rib.size,
    };
  }

  start(): void {
    this.#ttl.check(this.#isIbgp());
    this.#feed({ type: 'ManualStart' });
  }

  /** NOTIFICATION Cease (Administrative Shutdown with the RFC 9003 `message` by default), then close. */
  async stop(message: string, subcode: number = CeaseSubcode.AdministrativeShutdown): Promise<void> {
    const data = subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset
      ? encodeShutdownCommunication(message)
      : undefined;
    this.#feed({ type: 'ManualStop', notification: cease(subcode, data), reason: `stopped: ${message}` });
    this.#dropCollision(cease(subcode, data));
    clearTimeout(this.#timer);
    await Promise.all([...this.#closing]);
  }

  /** Make this peer's Adj-RIB-Out equal `desired`; resolves when the UPDATEs were written. */
  setDesired(desired: DesiredSet): Promise<void> {
    this.#desired = desired;
    return this.#enqueueSync();
  }

  /** An incoming connection from this neighbor's address (the listener routes it here). */
  acceptIncoming(conn: BgpConnection): void {
    if (!this.#ttl.apply(conn.socket, this.#isIbgp())) return this.#reject(conn, cease(CeaseSubcode.ConnectionRejected), GTSM_NOT_SET);
    const s = this.#fsm.state;
    if (s === 'idle' && this.#fsm.stopped) return this.#reject(conn, cease(CeaseSubcode.ConnectionRejected), 'neighbor is stopped');
    if (s === 'established') {
      // §6.8: "collision with existing BGP connection that is in the Established state causes
      // closing of the newly created connection" (CollisionDetectEstablishedState is false).
      return this.#reject(conn, cease(CeaseSubcode.ConnectionCollision), 'session already established');
    }
    if (s === 'opensent' || s === 'openconfirm') {
      if (this.#collision) return this.#reject(conn, cease(CeaseSubcode.ConnectionRejected), 'a second connection is already pending');
      // Both connections run their OPEN exchange; the peer's OPEN on this one decides (§6.8).
      this.#collision = conn;
      conn.attach(this.#collisionHandlers(conn));
      this.#write(conn, [encodeMessage(localOpen(this.#open), NO_CODEC)]);
      return;
    }
    // Deviation from §8.2.2 Idle ("refuses all incoming BGP connections"): while we only wait
    // out our own backoff, a peer that connects to us shortens it; start and take the connection.
    // Started as if passive for this one step, so that no outbound attempt races the connection
    // we are about to take.
    if (s === 'idle') this.#feed({ type: 'AutomaticStart' }, true);
    // Connect: "the local system ... drops the [outgoing] connection" in favour of this one.
    const outbound = this.#conn;
    this.#conn = undefined;
    if (outbound) this.#closeConn(outbound);
    this.#bind(conn);
    this.#feed({ type: 'TcpConnectionConfirmed' });
  }

  // -------------------------------------------------------------------------------------------
  // FSM driving

  #ctx(passive = this.cfg.neighbor.passive): FsmContext {
    return {
      config: { passive, holdTimeSec: this.#open.holdTimeSec, connectRetry: this.cfg.connectRetry },
      now: this.cfg.now(),
      random: this.cfg.random,
    };
  }

  #feed(ev: FsmEvent, asPassive = false): void {
    const before = this.#fsm;
    const r = step(before, ev, this.#ctx(asPassive || undefined));
    this.#fsm = r.next;
    for (const a of r.actions) this.#perform(a);
    this.#schedule();
    if (before.state !== r.next.state || before.reason !== r.next.reason) this.#transitioned(before);
  }

  #transitioned(before: FsmSnapshot): void {
    const s = this.#fsm;
    // Info for what an operator needs (session up/down, a new reason for failing); a connect
    // loop repeating the same reason every backoff stays at debug.
    const freshFailure = s.state === 'idle' && s.reason !== this.#lastIdleReason;
    if (s.state === 'idle') this.#lastIdleReason = s.reason;
    if (s.state === 'established') this.#lastIdleReason = '';
    const level = s.state === 'established' || before.state === 'established' || freshFailure ? 'info' : 'debug';
    this.#log[level]({ code: 'BGP_PEER_STATE', from: before.state, to: s.state, reason: s.reason }, `peer ${this.address} ${before.state} -> ${s.state}: ${s.reason}`);
    if (this.#collision && s.state !== 'opensent' && s.state !== 'openconfirm') {
      this.#dropCollision(cease(CeaseSubcode.ConnectionCollision));
    }
    this.callbacks.change(this.status());
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    const deadline = nextDeadline(this.#fsm.timers);
    if (deadline === undefined) return;
    this.#timer = setTimeout(() => this.#feed({ type: 'Tick' }), Math.max(0, deadline - this.cfg.now()));
  }

  #perform(a: FsmAction): void {
    switch (a.type) {
      case 'connect':
        return this.#connect();
      case 'disconnect': {
        const conn = this.#conn;
        this.#conn = undefined;
        if (conn) this.#closeConn(conn);
        return;
      }
      case 'sendOpen':
        if (this.#conn) this.#write(this.#conn, [encodeMessage(localOpen(this.#open), NO_CODEC)]);
        return;
      case 'sendKeepalive':
        if (this.#conn) this.#write(this.#conn, [encodeMessage({ type: MessageType.Keepalive }, this.#conn.codec)]);
        return;
      case 'sendNotification':
        if (this.#conn) {
          this.#log.info({ code: 'BGP_NOTIFICATION_SENT', notification: describeNotification(a.notification.code, a.notification.subcode) }, 'NOTIFICATION sent');
          this.#write(this.#conn, [encodeMessage(toMessage(a.notification), this.#conn.codec)]);
        }
        return;
      case 'established':
        this.#eorSent = false;
        void this.#enqueueSync();
        return;
      case 'release':
        this.#rib.clear();
        this.#negotiated = undefined;
        this.#eorSent = false;
        this.#unresolved.clear();
        return;
    }
  }

  #connect(): void {
    const n = this.cfg.neighbor;
    const target = { host: n.address, port: n.port, localAddress: n.localAddress };
    const key = this.cfg.md5Key;
    // A keyed neighbor never falls back to a plain connect (./md5.ts); the TTL plan rides along.
    const socket = key
      ? connectSigned(target, this.#ttl.ipOptions(this.#isIbgp()), key, (this.#md5Failures ??= new Md5FailureLog(this.#log, 'outbound connect')))
      : this.#ttl.connect(target, this.#isIbgp());
    const conn = new BgpConnection(socket, 'outbound');
    if (this.#conn) this.#closeConn(this.#conn);
    this.#bind(conn);
    socket.once('connect', () => {
      if (this.#conn !== conn) return;
      // Before the OPEN (set before the SYN already, unless that failed: see ./ttl.ts).
      if (!this.#ttl.apply(socket, this.#isIbgp())) return this.#feed({ type: 'TcpConnectionFails', reason: GTSM_NOT_SET });
      this.#feed({ type: 'Tcp_CR_Acked' });
    });
  }

  #bind(conn: BgpConnection): void {
    this.#conn = conn;
    conn.attach(this.#handlers(conn));
  }

  #handlers(conn: BgpConnection): ConnectionHandlers {
    const current = (): boolean => this.#conn === conn;
    return {
      message: (msg) => current() && this.#onMessage(conn, msg),
      malformed: (err) => current() && this.#onMalformed(err),
      closed: (reason) => current() && this.#feed({ type: 'TcpConnectionFails', reason }),
    };
  }

  #onMessage(conn: BgpConnection, msg: DecodedMessage): void {
    switch (msg.type) {
      case MessageType.Open:
        return this.#onOpen(conn, msg);
      case MessageType.Keepalive:
        return this.#feed({ type: 'KeepAliveMsg' });
      case MessageType.Update:
        this.#feed({ type: 'UpdateMsg' });
        if (this.#fsm.state === 'established') this.#onUpdate(msg);
        return;
      case MessageType.Notification:
        return this.#feed(notificationEvent(msg));
      case MessageType.RouteRefresh:
        return this.#onRouteRefresh(msg);
    }
  }

  #onOpen(conn: BgpConnection, open: OpenMessage): void {
    if (this.#fsm.state !== 'opensent') return this.#feed({ type: 'BGPOpen', holdTimeSec: open.holdTimeSec });
    let n: Negotiated;
    try {
      n = negotiate(this.#open, open, this.cfg.acceptAnyAs ? undefined : this.cfg.neighbor.remoteAs);
    } catch (err) {
      if (!(err instanceof NotificationError)) throw err;
      return this.#feed({ type: 'BGPOpenMsgErr', notification: err, reason: `OPEN rejected: ${err.message}` });
    }
    this.#negotiated = n;
    this.#peerAs = n.peerAs;
    conn.codec = n.codec;
    this.#feed({ type: 'BGPOpen', holdTimeSec: open.holdTimeSec });
  }

  #onMalformed(err: NotificationError): void {
    const reason = `malformed message from peer, sent ${err.message}`;
    this.#log.warn({ code: 'BGP_MALFORMED_MESSAGE', notification: err.id }, reason);
    if (err.code === 1) return this.#feed({ type: 'BGPHeaderErr', notification: err, reason });
    if (err.code === 2) return this.#feed({ type: 'BGPOpenMsgErr', notification: err, reason });
    this.#feed({ type: 'UpdateMsgErr', notification: err, reason });
  }

  #onUpdate(u: DecodedUpdate): void {
    // We originate only; received routes are not used (except by receive-only mode), so RFC 7606
    // outcomes that keep the session up are just recorded.
    if (u.treatAsWithdraw) this.#log.warn({ code: 'BGP_TREAT_AS_WITHDRAW', reason: u.treatAsWithdraw.reason }, 'UPDATE treated as withdraw (RFC 7606)');
    for (const d of u.discarded ?? []) this.#log.warn({ code: 'BGP_ATTRIBUTE_DISCARDED', attribute: d.code, reason: d.reason }, 'attribute discarded (RFC 7606)');
    this.callbacks.update?.(u, this.status());
  }

  #onRouteRefresh(msg: RouteRefreshMessage): void {
    // RFC 2918 §4: re-advertise the Adj-RIB-Out of the requested <AFI, SAFI>; one we did not
    // advertise is ignored. Only subtype 0 is a request: a BoRR or EoRR (RFC 7313 §3, 1 and 2)
    // marks the peer's own re-advertisement, and §5 says to ignore any other subtype.
    const family = msg.afi === AFI_IPV4 ? 'ipv4' : msg.afi === AFI_IPV6 ? 'ipv6' : undefined;
    if (this.#fsm.state !== 'established' || !family || !this.#negotiated?.families.includes(family)) return;
    if (msg.safi !== SAFI_UNICAST || msg.subtype !== 0) {
      this.#log.debug({ code: 'BGP_ROUTE_REFRESH_IGNORED', afi: msg.afi, safi: msg.safi, subtype: msg.subtype }, 'ROUTE-REFRESH ignored: not a request (RFC 7313 BoRR/EoRR) or not for unicast');
      return;
    }
    this.#log.info({ code: 'BGP_ROUTE_REFRESH', family }, 'route refresh requested, re-sending');
    // UPDATEs being written now are not recorded for this family when their write completes
    // (AdjRibOut.commit): the peer may have read them before it asked.
    this.#rib.forgetFamily(family);
    void this.#enqueueSync();
  }

  // -------------------------------------------------------------------------------------------
  // Collision (§6.8)

  #collisionHandlers(conn: BgpConnection): ConnectionHandlers {
    const current = (): boolean => this.#collision === conn;
    return {
      message: (msg) => {
        if (!current()) return;
        if (msg.type === MessageType.Open) return this.#resolveCollision(conn, msg);
        this.#dropCollision(cease(CeaseSubcode.ConnectionCollision));
      },
      malformed: (err) => current() && this.#dropCollision(err),
      closed: () => {
        if (current()) this.#collision = undefined;
      },
    };
  }

  #resolveCollision(incoming: BgpConnection, open: OpenMessage): void {
    const existing = this.#conn;
    // Our own connection lost only if we initiated it and the peer's identifier is higher; a
    // second connection initiated by the peer means it gave up on its first one.
    const keepExisting = existing?.direction === 'outbound' && collisionWinner(this.cfg.routerId, open.routerId) === 'locally-initiated';
    if (keepExisting || !existing) return this.#dropCollision(cease(CeaseSubcode.ConnectionCollision));
    this.#log.info({ code: 'BGP_COLLISION', peer_id: open.routerId }, 'connection collision: keeping the connection the peer initiated');
    this.#collision = undefined;
    this.#conn = undefined;
    this.#write(existing, [encodeMessage(toMessage(cease(CeaseSubcode.ConnectionCollision)), existing.codec)]);
    this.#closeConn(existing);
    const before = this.#fsm;
    this.#fsm = adoptCollisionWinner(before, this.#ctx());
    this.#conn = incoming;
    this.#transitioned(before);
    // The OPEN first: messages queued behind it (the peer's KEEPALIVE) are delivered on attach.
    this.#onOpen(incoming, open);
    if (this.#conn === incoming) incoming.attach(this.#handlers(incoming));
  }

  #dropCollision(n: NotificationSpec): void {
    const c = this.#collision;
    if (!c) return;
    this.#collision = undefined;
    this.#reject(c, n, 'connection collision');
  }

  #reject(conn: BgpConnection, n: NotificationSpec, why: string): void {
    this.#log.info({ code: 'BGP_CONNECTION_REJECTED', notification: describeNotification(n.code, n.subcode) }, `connection from ${conn.remoteAddress} closed: ${why}`);
    this.#write(conn, [encodeMessage(toMessage(n), conn.codec)]);
    this.#closeConn(conn);
  }

  // -------------------------------------------------------------------------------------------
  // Output

  #write(conn: BgpConnection, messages: Buffer[]): void {
    conn.write(messages).catch((err: Error) => {
      // The connection's own error/close event reports the failure to the FSM.
      this.#log.debug({ code: 'BGP_WRITE_FAILED', err: err.message }, 'write failed');
    });
  }

  #closeConn(conn: BgpConnection): void {
    const p = conn.close();
    this.#closing.add(p);
    void p.finally(() => this.#closing.delete(p));
  }

  #enqueueSync(): Promise<void> {
    const run = this.#syncChain.then(() => this.#sync());
    this.#syncChain = run.catch((err: unknown) => this.#log.error({ code: 'BGP_SYNC_FAILED', err }, 'advertising failed'));
    return run;
  }

  /** Send what the Adj-RIB-Out lacks; the first time after Established, End-of-RIB follows. */
  async #sync(): Promise<void> {
    const conn = this.#conn;
    const n = this.#negotiated;
    if (!conn || !n || this.#fsm.state !== 'established') return;
    const wanted = wantedRoutes(this.#desired, {
      localAs: this.cfg.localAs,
      ibgp: this.#isIbgp(),
      families: n.families,
      nextHop: this.cfg.nextHop,
      localAddress: conn.localAddress,
      extendedNextHopIpv4: n.codec.extendedNextHopIpv4,
      onError: (prefix, message) => this.#unresolvable(prefix, message),
    });
    const diff = this.#rib.diff(wanted);
    const messages = packUpdates(diff.announce.map((w) => w.route), diff.withdraw.map((prefix) => ({ prefix })), n.codec);
    // RFC 4724 §2 / ExaBGP #328: End-of-RIB only after the initial advertisement.
    const eor = this.#eorSent ? [] : n.families.map((f) => endOfRib(f, n.codec));
    if (messages.length + eor.length === 0) return;
    try {
      await conn.write([...messages, ...eor]);
    } catch (err) {
      // The session is going down; its Adj-RIB-Out is released and rebuilt on reconnect.
      this.#log.info({ code: 'BGP_WRITE_FAILED', err: (err as Error).message }, 'UPDATEs not written: connection lost');
      return;
    }
    if (conn !== this.#conn) return;
    const refreshed = this.#rib.commit(diff);
    if (refreshed.length > 0) {
      // The refresh's own sync, queued behind this one, re-sends these families whole.
      this.#log.debug({ code: 'BGP_REFRESH_DURING_WRITE', families: refreshed }, 'route refresh arrived while UPDATEs were written: the family goes again');
    }
    if (eor.length > 0) this.#eorSent = true;
    this.#log.debug({ code: 'BGP_UPDATES_SENT', announced: diff.announce.length, withdrawn: diff.withdraw.length, messages: messages.length }, 'UPDATEs written');
    this.callbacks.change(this.status());
  }

  #unresolvable(prefix: string, message: string): void {
    if (this.#unresolved.has(prefix)) return;
    this.#unresolved.add(prefix);
    this.#log.error({ code: 'BGP_NEXT_HOP_UNRESOLVED', prefix }, message);
  }

  #isIbgp(): boolean {
    return (this.#peerAs ?? this.cfg.neighbor.remoteAs) === this.cfg.localAs;
  }
}

/** NOTIFICATION received: the event and the transition reason, with an RFC 9003 message when present. */
function notificationEvent(msg: NotificationMessage): FsmEvent {
  const text = shutdownCommunicationOf(msg);
  const reason = `NOTIFICATION received: ${describeNotification(msg.code, msg.subcode)}${text ? `: ${text}` : ''}`;
  // Event 24: "An OPEN message ... Unsupported Version Number" (code 2, subcode 1).
  return msg.code === 2 && msg.subcode === 1 ? { type: 'NotifMsgVerErr', reason } : { type: 'NotifMsg', reason };
}
