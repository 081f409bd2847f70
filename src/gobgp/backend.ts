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
 * against what the daemon is known to hold (the last acknowledged set, or before the first apply
 * the snapshot ListPath gave at connect), a chunk at a time, streaming each chunk's changes while
 * the next is encoded (encode.ts, stream.ts); drift repair (every recovery, every resync
 * interval, resync()) diffs it against ListPath, so a restarted daemon (which forgets API paths,
 * gobgp #2272) or a restarted vipcast (which forgot what it added) converges to the desired set.
 */
import { readFileSync } from 'node:fs';
import { credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { BackendOptions, BgpBackend, DesiredSet, NeighborSpec, PeerListener, PeerStatus, Readiness } from '../backend/types.js';
import type { GobgpConfig } from '../config/types.js';
import { DEFAULT_TIMEOUTS, type ClientTimeouts, type GobgpClient, type WatchHandle } from './api/client.js';
import { connect } from './api/detect.js';
import type { ApiVersion } from './api/generation.js';
import { PEER_EVENT_INIT, PEER_EVENT_STATE, type ApiWatchEventResponse } from './api/types.js';
import { GobgpError, isUnavailable, isUnimplemented } from './errors.js';
import { PathEncoder, type EncodePass } from './encode.js';
import { samePath, type OwnPath } from './paths.js';
import { PeerTracker } from './peers.js';
import { SerialQueue } from './queue.js';
import { diffPaths, isEmptyDiff } from './reconcile.js';
import { PathSink, STREAM_BATCH } from './stream.js';
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

/**
 * Routes in apply()'s first chunk: small, so the daemon has paths to send on after a few
 * milliseconds of encoding; the following chunks are a full stream message each.
 */
const FIRST_CHUNK = 200;

export class GobgpBackend implements BgpBackend {
  readonly kind = 'gobgp' as const;
  private readonly log: Logger;
  private readonly queue = new SerialQueue();
  private readonly tracker: PeerTracker;
  private readonly encoder: PathEncoder;
  private creds?: ChannelCredentials;
  private client?: GobgpClient;
  private link: Link = { up: false, reason: 'not started', since: Date.now() };
  /** The error code last logged as the reason the daemon is not usable; undefined while up. */
  private loggedReason?: string;
  private neighbors: NeighborSpec[];
  /** The last applied set, encoded as it is used (encode.ts); undefined before the first apply. */
  private desired?: EncodePass;
  /**
   * Paths are left alone until the first apply(): before it vipcast has not said what it wants,
   * and a restarted vipcast must not withdraw healthy VIPs before its manager has spoken. The
   * first apply() then repairs from ListPath (removing what a crashed predecessor left).
   */
  private desiredKnown = false;
  private lastRepairAt = 0;
  /** The last periodic repair's failure (code and RPC), so a failure that repeats is logged once. */
  private resyncFailure?: string;
  /** What the last repair changed (for the connect/recover log line). */
  private lastRepair = { add: 0, withdraw: 0 };
  /**
   * Our paths in the daemon as far as we know: what it acknowledged, or before the first apply
   * what ListPath showed at connect. Undefined: unknown, the next apply repairs from ListPath.
   */
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
    this.encoder = new PathEncoder({ localAs: opts.localAs, nextHop: opts.nextHop });
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
    // Kept even when the daemon is down: the recovery restores exactly this set.
    this.desired = this.encoder.begin(desired);
    this.desiredKnown = true;
    const gen = ++this.gen;
    return this.queue.run(async () => {
      // A newer apply() ran first and covered this one.
      if (this.appliedGen >= gen) return;
      const target = this.gen;
      this.assertUp();
      await this.guard(async () => {
        const want = this.requireDesired();
        if (this.advertised) await this.streamApply(want, this.advertised);
        else await this.repairPaths();
      });
      this.appliedGen = target;
    });
  }

  private requireDesired(): EncodePass {
    if (!this.desired) throw new Error('no desired set yet');
    return this.desired;
  }

  /**
   * The diff against a known daemon state, computed and sent a chunk at a time: each chunk's
   * changes go out (stream.ts) before the next chunk is encoded, withdrawals before any add.
   * Records `want` as acknowledged once the daemon has answered for all of it.
   */
  private async streamApply(want: EncodePass, advertised: Map<string, OwnPath>): Promise<void> {
    const sink = new PathSink(this.requireClient());
    try {
      if (advertised.size > 0) {
        const keep = want.keys();
        await sink.withdraw([...advertised.values()].filter((p) => !keep.has(p.prefix)));
      }
      for (let i = 0, step = FIRST_CHUNK; i < want.size; i += step, step = STREAM_BATCH) {
        const changed = want.chunk(i, i + step).filter((p) => {
          const have = advertised.get(p.prefix);
          return have === undefined || (have !== p && !samePath(have, p));
        });
        await sink.add(changed);
        await sink.flush();
      }
      await sink.finish();
    } catch (err) {
      sink.cancel();
      throw err;
    }
    this.advertised = want.paths();
  }

  /** Drift repair, then confirmation: resolves once ListPath shows exactly the last applied set. */
  resync(): Promise<void> {
    return this.queue.run(async () => {
      this.assertUp();
      await this.guard(async () => {
        await this.checkDaemon();
        if (!this.desiredKnown) return this.snapshotPaths();
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
    else await this.snapshotPaths();
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
    // A call the daemon refuses (v4 after StopBgp: "server stopped") and a daemon that cannot be
    // reached are one kind of outage: the probe reports the first, the reconnect loop the second.
    const kind = err.code === 'GOBGP_RPC_FAILED' ? 'GOBGP_UNAVAILABLE' : err.code;
    if (this.loggedReason !== kind) {
      this.log.warn({ code: err.code, rpc: err.details.rpc }, `gobgpd not usable, retrying every ${this.recoveryInterval()} ms: ${err.message}`);
      this.loggedReason = kind;
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

  /**
   * Before the first apply: what the daemon holds of ours becomes the known state, so that the
   * first apply sends its first paths at once instead of after a ListPath, and still withdraws
   * what a crashed predecessor left (which it must not do before the manager has spoken). Taken
   * at connect (every reconnect too) and refreshed by each resync until the first apply, so it is
   * never older than one resync interval: the same trust the acknowledged set gets between
   * repairs. A daemon restart in between breaks the WatchEvent stream and takes the link down,
   * which forgets the snapshot.
   */
  private async snapshotPaths(): Promise<void> {
    const own = await listOwnPaths(this.requireClient());
    this.advertised = new Map(own.map((p) => [p.prefix, p]));
    this.lastRepairAt = Date.now();
  }

  /** ListPath and fix: remove our stale paths, add missing ones, replace changed attributes. Returns the set it repaired to. */
  private async repairPaths(): Promise<Map<string, OwnPath>> {
    const want = this.requireDesired().paths();
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
    let global;
    try {
      global = await this.requireClient().probeBgp(PROBE_DEADLINE_MS);
    } catch (err) {
      // Any failed liveness probe means the daemon cannot serve us, not only UNAVAILABLE: GoBGP
      // v4 after StopBgp (`gobgp global del all`) answers every call, StartBgp included, with
      // UNKNOWN "server stopped" until it is restarted. As a link outage /readyz says so, it is
      // logged once, and the reconnect loop keeps probing.
      const e = asGobgpError(err);
      throw isUnavailable(e) ? e : new GobgpError('GOBGP_UNAVAILABLE', `gobgpd cannot serve: ${e.message}`, e.details);
    }
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
          else await this.snapshotPaths();
        }),
      )
      .then(() => {
        this.resyncFailure = undefined;
      })
      .catch((err: unknown) => {
        // UNAVAILABLE already took the link down (and logged once); anything else is worth a
        // line, once per kind of failure rather than every interval.
        if (isUnavailable(err)) return;
        const code = err instanceof GobgpError ? `${err.code}:${err.details.rpc ?? ''}` : 'other';
        if (code !== this.resyncFailure) this.log.error({ err }, 'periodic drift repair failed (logged again only if the failure changes)');
        this.resyncFailure = code;
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
