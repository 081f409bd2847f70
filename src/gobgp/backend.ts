/**
 * GobgpBackend: vipcast's BgpBackend driving a GoBGP daemon (the sidecar) over gRPC, API v3 or v4.
 *
 * Life of the link to the daemon:
 *   down --(GetBgp answers; global, neighbors and paths restored)--> up
 *   up --(WatchEvent stream breaks, a call is UNAVAILABLE, GetBgp shows global not started)--> down
 * While down, a recovery loop probes every `recoveryIntervalMs` (200 ms) and restores everything
 * as soon as the daemon answers; readiness() is false with the reason, logged once per reason.
 *
 * Paths: vipcast's own paths carry a marker identifier (paths.ts). apply() diffs the desired set
 * against what was last acknowledged; drift repair (start, every recovery, every resync interval)
 * diffs it against ListPath, so a restarted daemon (which forgets API paths, gobgp #2272) or a
 * restarted vipcast (which forgot what it added) converges to the desired set.
 */
import { readFileSync } from 'node:fs';
import { credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { BackendOptions, BgpBackend, DesiredSet, NeighborSpec, PeerListener, PeerStatus, Readiness, RouteAttributes } from '../backend/types.js';
import type { GobgpConfig } from '../config/types.js';
import { DEFAULT_TIMEOUTS, type ClientTimeouts, type GobgpClient, type WatchHandle } from './api/client.js';
import { connect } from './api/detect.js';
import type { ApiVersion } from './api/generation.js';
import { PEER_EVENT_INIT, PEER_EVENT_STATE, type ApiWatchEventResponse } from './api/types.js';
import { GobgpError, isUnavailable, isUnimplemented } from './errors.js';
import { desiredPath, type OwnPath, type PathContext, type SharedAttributes } from './paths.js';
import { PeerTracker } from './peers.js';
import { SerialQueue } from './queue.js';
import { diffPaths, isEmptyDiff } from './reconcile.js';
import { ensureGlobal, isStarted, listOwnPaths, pushDiff, syncNeighbors } from './sync.js';

export interface GobgpBackendOptions extends BackendOptions, GobgpConfig {
  /** host:port of gobgpd's gRPC API (bgp.gobgp_address). */
  address: string;
  /** Probe period while the daemon is gone. Default 200 ms. */
  recoveryIntervalMs?: number;
  /** ListPeer period when WatchEvent is not available. Default 2 s. */
  peerPollIntervalMs?: number;
  timeouts?: ClientTimeouts;
}

interface Link {
  up: boolean;
  reason: string;
  /** When the current state began (for the "recovered after" log). */
  since: number;
}

/** Deadline of the periodic liveness probe (GetBgp); a healthy gobgpd answers in milliseconds. */
const PROBE_DEADLINE_MS = 3_000;

/** A route's encoding with the attributes' JSON it was encoded from, by the route's prefix text. */
type EncodeCache = Map<string, { attrJson: string; path: OwnPath }>;

export class GobgpBackend implements BgpBackend {
  readonly kind = 'gobgp' as const;
  private readonly log: Logger;
  private readonly queue = new SerialQueue();
  private readonly tracker: PeerTracker;
  private readonly ctx: PathContext;
  private creds?: ChannelCredentials;
  private client?: GobgpClient;
  private link: Link = { up: false, reason: 'not started', since: Date.now() };
  /** The error code last logged as the reason the daemon is not usable; undefined while up. */
  private loggedReason?: string;
  private neighbors: NeighborSpec[];
  /** The last applied set, encoded, by canonical prefix. */
  private desired = new Map<string, OwnPath>();
  /**
   * Paths are left alone until the first apply(): before it vipcast has not said what it wants,
   * and a restarted vipcast must not withdraw healthy VIPs before its manager has spoken. The
   * first apply() then repairs from ListPath (removing what a crashed predecessor left).
   */
  private desiredKnown = false;
  /** Encoded paths of the last apply by the route's prefix text (see encode()). */
  private encodeCache: EncodeCache = new Map();
  private lastRepairAt = 0;
  /** What the last repair changed (for the connect/recover log line). */
  private lastRepair = { add: 0, withdraw: 0 };
  /** What the daemon acknowledged; undefined: unknown, repair from ListPath next. */
  private advertised?: Map<string, OwnPath>;
  private gen = 0;
  private appliedGen = 0;
  private watch?: WatchHandle;
  private pollTimer?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  private recoveryTimer?: NodeJS.Timeout;
  private stopped = false;
  /** The API generation detected last (asked first when reconnecting with api_version auto). */
  private lastVersion?: ApiVersion;

  constructor(private readonly opts: GobgpBackendOptions) {
    this.log = opts.logger.child({ component: 'gobgp', gobgpd: opts.address });
    this.neighbors = opts.neighbors;
    this.tracker = new PeerTracker(opts.neighbors);
    this.ctx = { localAs: opts.localAs, nextHop: opts.nextHop };
  }

  /** The API generation in use ('v3' | 'v4'), once connected. */
  get apiVersion(): ApiVersion | undefined {
    return this.client?.generation.version;
  }

  async start(): Promise<void> {
    this.creds = loadCredentials(this.opts.tls);
    try {
      await this.queue.run(() => this.establish());
    } catch (err) {
      // A daemon that is not there yet (sidecar still starting) is waited for; a daemon that
      // answers but cannot be used as configured is a configuration error.
      if (!isUnavailable(err)) {
        this.client?.close();
        this.client = undefined;
        throw err;
      }
      this.linkDown(err as GobgpError);
    }
    this.resyncTimer = setInterval(() => this.periodicResync(), this.opts.resyncIntervalMs);
  }

  async apply(desired: DesiredSet): Promise<void> {
    this.desired = this.encode(desired);
    this.desiredKnown = true;
    const gen = ++this.gen;
    return this.queue.run(async () => {
      // A newer apply() ran first and covered this one.
      if (this.appliedGen >= gen) return;
      const target = this.gen;
      this.assertUp();
      await this.guard(async () => {
        const want = this.desired;
        if (this.advertised) await this.pushAndRecord(diffPaths(want, this.advertised.values()), want);
        else await this.repairPaths();
      });
      this.appliedGen = target;
    });
  }

  /**
   * Encodes the desired set, reusing the previous apply's encoding of every unchanged route
   * (most of them, usually: encoding 10,000 routes from scratch costs far more than comparing).
   * The cache is keyed by the route's prefix text and checked against the attributes' JSON; the
   * JSON is computed once per attributes object in this call (the manager hands out one object
   * per VIP state, many routes may share one).
   */
  private encode(desired: DesiredSet): Map<string, OwnPath> {
    const encoded = new Map<string, OwnPath>();
    const cache: EncodeCache = new Map();
    const shared: SharedAttributes = new Map();
    const json = new Map<RouteAttributes, string>();
    for (const route of desired.values()) {
      let attrJson = json.get(route.attributes);
      if (attrJson === undefined) json.set(route.attributes, (attrJson = JSON.stringify(route.attributes)));
      const prev = this.encodeCache.get(route.prefix);
      const hit = prev !== undefined && prev.attrJson === attrJson && prev.path.family === route.family;
      const entry = hit ? prev : { attrJson, path: desiredPath(route, this.ctx, shared, attrJson) };
      cache.set(route.prefix, entry);
      encoded.set(entry.path.prefix, entry.path);
    }
    this.encodeCache = cache;
    return encoded;
  }

  /** Drift repair, then confirmation: resolves once ListPath shows exactly the last applied set. */
  resync(): Promise<void> {
    return this.queue.run(async () => {
      this.assertUp();
      await this.guard(async () => {
        await this.checkDaemon();
        if (!this.desiredKnown) return;
        for (let attempt = 0; attempt < 3; attempt++) {
          const want = await this.repairPaths();
          const left = diffPaths(want, await listOwnPaths(this.requireClient()));
          if (isEmptyDiff(left)) return;
          this.log.warn({ add: left.add.length, withdraw: left.withdraw.length, attempt }, 'paths still differ after repair; repairing again');
        }
        throw new GobgpError('GOBGP_DRIFT_PERSISTS', 'GoBGP paths still differ from the applied set after 3 repairs');
      });
    });
  }

  async updateNeighbors(neighbors: NeighborSpec[]): Promise<void> {
    this.neighbors = neighbors;
    this.tracker.setNeighbors(neighbors);
    if (!this.opts.manage || !this.link.up) return; // applied on the next (re)connect
    await this.queue.run(() => this.guard(() => this.applyNeighbors()));
  }

  peers(): PeerStatus[] {
    return this.tracker.list();
  }

  readiness(): Readiness {
    return this.link.up ? { ready: true, reason: `gobgpd ${this.opts.address} (API ${this.apiVersion ?? '?'}) connected` } : { ready: false, reason: this.link.reason };
  }

  onPeerChange(listener: PeerListener): void {
    this.tracker.onChange(listener);
  }

  /**
   * What a crash does: stop every timer and close the channel without another word to the daemon
   * (paths and neighbors stay as they are). For a process exiting at once, and for tests.
   */
  detach(): void {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.recoveryTimer);
    clearInterval(this.pollTimer);
    this.watch?.cancel();
    this.client?.close();
    this.client = undefined;
    this.link = { up: false, reason: 'detached', since: Date.now() };
  }

  /**
   * Stops talking to the daemon. The manager withdraws the paths before (apply of an empty set,
   * then resync). With manage: true the neighbors vipcast configured are deleted too (GoBGP sends
   * them a Cease NOTIFICATION), leaving a bare daemon that the next start configures again.
   */
  async stop(message: string): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.recoveryTimer);
    clearInterval(this.pollTimer);
    this.watch?.cancel();
    await this.queue.run(async () => {
      const client = this.client;
      if (client && this.link.up && this.opts.manage) {
        for (const n of this.neighbors) await client.deletePeer(n.address);
        this.log.info({ message, neighbors: this.neighbors.length }, 'gobgpd neighbors deleted on stop');
      }
    }).finally(() => {
      this.client?.close();
      this.client = undefined;
      this.link = { up: false, reason: `stopped: ${message}`, since: Date.now() };
    });
  }

  // ---- link management ----

  /** (Re)connect and make the daemon agree with us: global, neighbors, paths; then watch peers. */
  private async establish(): Promise<void> {
    const started = Date.now();
    const prefer = this.client?.generation.version ?? this.lastVersion;
    this.client?.close();
    this.client = undefined;
    const creds = this.creds ?? grpcCredentials.createInsecure();
    const { client, global } = await connect(this.opts.address, this.opts.apiVersion, creds, this.timeouts(), 2_000, prefer);
    this.lastVersion = client.generation.version;
    this.client = client;
    await ensureGlobal(client, global, this.opts, this.opts.manage, this.log);
    if (this.opts.manage) await this.applyNeighbors();
    this.advertised = undefined;
    this.lastRepair = { add: 0, withdraw: 0 };
    if (this.desiredKnown) await this.repairPaths();
    await this.watchPeers();
    this.linkUp(started, this.lastRepair);
  }

  private timeouts(): ClientTimeouts {
    return this.opts.timeouts ?? DEFAULT_TIMEOUTS;
  }

  private linkUp(startedAt: number, repaired: { add: number; withdraw: number }): void {
    const wasDown = this.link.since;
    this.link = { up: true, reason: '', since: Date.now() };
    this.log.info(
      { api: this.apiVersion, pathsAdded: repaired.add, pathsWithdrawn: repaired.withdraw, restoreMs: Date.now() - startedAt, downMs: Date.now() - wasDown },
      this.loggedReason ? 'gobgpd connection recovered' : 'gobgpd connected',
    );
    this.loggedReason = undefined;
  }

  /**
   * The daemon is gone or unusable: report it once, and start the recovery loop. "Once" per kind
   * of failure (error code): each failed probe has its own wording (connection refused, dropped,
   * deadline), which is kept in readiness() but not logged again.
   */
  private linkDown(err: GobgpError): void {
    if (this.stopped) return;
    const reason = `gobgpd ${this.opts.address}: ${err.message}`;
    if (this.link.up) this.link = { up: false, reason, since: Date.now() };
    else this.link.reason = reason;
    if (this.loggedReason !== err.code) {
      this.log.warn({ code: err.code, rpc: err.details.rpc }, `gobgpd not usable, retrying every ${this.recoveryInterval()} ms: ${err.message}`);
      this.loggedReason = err.code;
    }
    this.watch?.cancel();
    this.watch = undefined;
    clearInterval(this.pollTimer);
    this.advertised = undefined;
    this.tracker.allDown('gobgpd unreachable');
    this.scheduleRecovery();
  }

  private recoveryInterval(): number {
    return this.opts.recoveryIntervalMs ?? 200;
  }

  private scheduleRecovery(): void {
    if (this.stopped || this.recoveryTimer) return;
    this.recoveryTimer = setTimeout(() => {
      this.recoveryTimer = undefined;
      this.queue
        .run(() => (this.link.up || this.stopped ? Promise.resolve() : this.establish()))
        .catch((err: unknown) => this.linkDown(asGobgpError(err)));
    }, this.recoveryInterval());
  }

  private assertUp(): void {
    if (!this.link.up) throw new GobgpError('GOBGP_UNAVAILABLE', `${this.link.reason} (the desired paths are applied as soon as it is back)`);
  }

  private requireClient(): GobgpClient {
    if (!this.client) throw new GobgpError('GOBGP_UNAVAILABLE', 'not connected to gobgpd');
    return this.client;
  }

  /** Runs a step against the daemon; an UNAVAILABLE failure takes the link down before rethrowing. */
  private async guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      this.advertised = undefined; // unknown what got through: the next apply repairs from ListPath
      if (isUnavailable(err)) this.linkDown(err as GobgpError);
      throw err;
    }
  }

  // ---- steps ----

  private async applyNeighbors(): Promise<void> {
    await syncNeighbors(this.requireClient(), this.neighbors, this.log);
    this.tracker.retain(new Set(this.neighbors.map((n) => n.address)));
  }

  /**
   * `want` is the desired set the diff was made from: apply() may replace this.desired while the
   * push is on its way, and only what was pushed may be recorded as acknowledged.
   */
  private async pushAndRecord(diff: ReturnType<typeof diffPaths>, want: Map<string, OwnPath>): Promise<void> {
    await pushDiff(this.requireClient(), diff);
    this.advertised = want;
  }

  /** ListPath and fix: remove our stale paths, add missing ones, replace changed attributes. Returns the set it repaired to. */
  private async repairPaths(): Promise<Map<string, OwnPath>> {
    const want = this.desired;
    const diff = diffPaths(want, await listOwnPaths(this.requireClient()));
    if (!isEmptyDiff(diff)) {
      this.log.info({ add: diff.add.length, withdraw: diff.withdraw.length, prefixes: diff.add.concat(diff.withdraw).slice(0, 10).map((p) => p.prefix) }, 'drift repair');
    }
    await this.pushAndRecord(diff, want);
    this.lastRepairAt = Date.now();
    this.lastRepair = { add: diff.add.length, withdraw: diff.withdraw.length };
    return want;
  }

  /** A daemon restarted without our stream noticing (or StopBgp by someone) shows as global not started. */
  private async checkDaemon(): Promise<void> {
    const global = await this.requireClient().probeBgp(PROBE_DEADLINE_MS);
    if (!isStarted(global)) throw new GobgpError('GOBGP_UNAVAILABLE', 'gobgpd global BGP is not started (daemon restarted?)', { rpc: 'GetBgp' });
    if (this.opts.manage) await this.applyNeighbors();
  }

  /** Every resync interval, unless a repair ran within it (the manager's resync() calls count). */
  private periodicResync(): void {
    if (!this.link.up || this.queue.busy || Date.now() - this.lastRepairAt < this.opts.resyncIntervalMs * 0.9) return;
    void this.queue
      .run(() =>
        this.guard(async () => {
          await this.checkDaemon();
          if (this.desiredKnown) await this.repairPaths();
        }),
      )
      .catch((err: unknown) => {
        // UNAVAILABLE already took the link down (and logged once); anything else is worth a line.
        if (!isUnavailable(err)) this.log.error({ err }, 'periodic drift repair failed');
      });
  }

  // ---- peer state ----

  private async watchPeers(): Promise<void> {
    const client = this.requireClient();
    this.watch?.cancel();
    clearInterval(this.pollTimer);
    await this.pollPeers(true);
    this.watch = client.watchPeers({
      onEvent: (ev) => this.onWatchEvent(ev),
      onClose: (err) => {
        this.watch = undefined;
        if (isUnimplemented(err)) return this.startPeerPolling(err);
        // The stream breaks when the daemon dies: the fastest restart signal we get.
        this.linkDown(err.code === 'GOBGP_RPC_FAILED' ? new GobgpError('GOBGP_UNAVAILABLE', err.message, err.details) : err);
      },
    });
  }

  private onWatchEvent(ev: ApiWatchEventResponse): void {
    const pe = ev.peer;
    if (!pe?.peer || (pe.type !== PEER_EVENT_INIT && pe.type !== PEER_EVENT_STATE)) return;
    this.tracker.update(pe.peer, pe.type === PEER_EVENT_INIT);
  }

  private startPeerPolling(err: GobgpError): void {
    this.log.info({ err: err.message }, 'WatchEvent not available; polling ListPeer');
    this.pollTimer = setInterval(() => {
      this.pollPeers(false).catch((e: unknown) => {
        if (isUnavailable(e)) this.linkDown(e as GobgpError);
        else this.log.warn({ err: e }, 'ListPeer poll failed');
      });
    }, this.opts.peerPollIntervalMs ?? 2_000);
  }

  private async pollPeers(initial: boolean): Promise<void> {
    const peers = await this.requireClient().listPeers();
    for (const p of peers) this.tracker.update(p, initial);
  }
}

function asGobgpError(err: unknown): GobgpError {
  return err instanceof GobgpError ? err : new GobgpError('GOBGP_RPC_FAILED', err instanceof Error ? err.message : String(err), {}, { cause: err });
}

function loadCredentials(tls: GobgpConfig['tls']): ChannelCredentials {
  if (!tls) return grpcCredentials.createInsecure();
  const read = (file: string | undefined, what: string): Buffer | null => {
    if (!file) return null;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new GobgpError('GOBGP_TLS', `cannot read gobgp.tls.${what} ${file}: ${(err as Error).message}`, {}, { cause: err });
    }
  };
  return grpcCredentials.createSsl(read(tls.caFile, 'ca_file'), read(tls.keyFile, 'key_file'), read(tls.certFile, 'cert_file'));
}
