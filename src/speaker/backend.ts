/**
 * The built-in speaker behind the BgpBackend seam (src/backend/types.ts): one Session per
 * configured neighbor, an optional passive listener, and apply(desired) fanned out to every
 * session's Adj-RIB-Out. apply() resolves when the resulting UPDATEs were handed to the kernel on
 * every Established session; sessions that are not Established send the then-current set when
 * they come up.
 *
 * TCP-MD5 (RFC 2385, neighbor password_file): keys are read at start() and updateNeighbors()
 * (an unreadable, empty or over-long password_file rejects the call before anything changes),
 * set on the listener before the neighbor's session exists, and handed to the session for its
 * outbound connections; see ./session/md5.ts.
 */
import type {
  BackendOptions,
  BgpBackend,
  DesiredSet,
  NeighborSpec,
  PeerListener,
  PeerStatus,
  Readiness,
} from '../backend/types.js';
import { CeaseSubcode, DEFAULT_CONNECT_RETRY, type BackoffConfig } from './fsm/index.js';
import { BgpListener } from './listen/listener.js';
import { readMd5Keys } from './session/md5.js';
import { Session } from './session/session.js';

/** Knobs that are not configuration (tests shorten them). */
export interface SpeakerTuning {
  connectRetry?: BackoffConfig;
  /** RFC 4724 restart time we advertise. */
  gracefulRestartTimeSec?: number;
  now?: () => number;
  random?: () => number;
}

export class SpeakerError extends Error {
  constructor(
    readonly code: 'BGP_BAD_HOLD_TIME' | 'BGP_DUPLICATE_NEIGHBOR',
    message: string,
  ) {
    super(message);
    this.name = 'SpeakerError';
  }
}

const DEFAULT_GRACEFUL_RESTART_SEC = 120;

export class SpeakerBackend implements BgpBackend {
  readonly kind = 'builtin' as const;
  readonly #sessions = new Map<string, Session>();
  readonly #listeners: PeerListener[] = [];
  #listener?: BgpListener;
  /** TCP-MD5 keys of the configured neighbors, by address. */
  #md5Keys = new Map<string, Buffer>();
  #desired: DesiredSet = new Map();
  #chain: Promise<void> = Promise.resolve();
  #queued?: Promise<void>;
  #running = false;

  constructor(
    private readonly opts: BackendOptions,
    private readonly tuning: SpeakerTuning = {},
  ) {}

  /** The listener's port (after start), for tests that listen on port 0. */
  get listenPort(): number | undefined {
    return this.#listener?.port;
  }

  async start(): Promise<void> {
    for (const n of this.opts.neighbors) checkNeighbor(n);
    this.#md5Keys = await readMd5Keys(this.opts.neighbors);
    if (this.opts.listen) {
      this.#listener = new BgpListener({
        ...this.opts.listen,
        logger: this.opts.logger,
        route: (remote) => {
          const s = this.#sessions.get(remote);
          return s ? (conn) => s.acceptIncoming(conn) : undefined;
        },
      });
      this.#listener.setMd5Keys(this.#md5Keys);
      await this.#listener.start();
    }
    this.#running = true;
    for (const n of this.opts.neighbors) this.#addSession(n);
  }

  apply(desired: DesiredSet): Promise<void> {
    this.#desired = desired;
    // Serialised; calls made while one is queued share it, and it reads the newest set when it runs.
    if (this.#queued) return this.#queued;
    const run = this.#chain.then(() => {
      this.#queued = undefined;
      return this.#push(this.#desired);
    });
    this.#queued = run;
    this.#chain = run.catch((err: unknown) => this.opts.logger.error({ code: 'BGP_APPLY_FAILED', err }, 'apply failed'));
    return run;
  }

  /** Sessions re-send on reconnect; this confirms the last applied set is written everywhere. */
  resync(): Promise<void> {
    return this.apply(this.#desired);
  }

  async updateNeighbors(neighbors: NeighborSpec[]): Promise<void> {
    for (const n of neighbors) checkNeighbor(n);
    const keys = await readMd5Keys(neighbors);
    const wanted = new Map(neighbors.map((n) => [n.address, n]));
    const stops: Array<Promise<void>> = [];
    for (const [address, session] of this.#sessions) {
      const next = wanted.get(address);
      if (next && JSON.stringify(next) === JSON.stringify(session.cfg.neighbor) && sameKey(keys.get(address), session.cfg.md5Key)) continue;
      this.#sessions.delete(address);
      // RFC 4486: Peer De-configured for a removed neighbor, Other Configuration Change otherwise.
      stops.push(
        next
          ? session.stop('neighbor configuration changed', CeaseSubcode.OtherConfigurationChange)
          : session.stop('neighbor removed', CeaseSubcode.PeerDeconfigured),
      );
    }
    await Promise.all(stops);
    // Keys on the listener before any new session can be routed a connection.
    this.#md5Keys = keys;
    this.#listener?.setMd5Keys(keys);
    for (const n of neighbors) if (!this.#sessions.has(n.address) && this.#running) this.#addSession(n);
  }

  peers(): PeerStatus[] {
    return [...this.#sessions.values()].map((s) => s.status());
  }

  readiness(): Readiness {
    if (!this.#running) return { ready: false, reason: 'speaker not started' };
    if (this.#sessions.size === 0) return { ready: false, reason: 'no BGP neighbors configured' };
    const up = this.peers().filter((p) => p.state === 'established').length;
    return { ready: true, reason: `speaker running, ${up}/${this.#sessions.size} peers established` };
  }

  onPeerChange(listener: PeerListener): void {
    this.#listeners.push(listener);
  }

  /** NOTIFICATION Cease/Administrative Shutdown with `message` (RFC 9003) to every peer, written, then closed. */
  async stop(message: string): Promise<void> {
    this.#running = false;
    const listenerClosed = this.#listener?.close();
    await Promise.all([...this.#sessions.values()].map((s) => s.stop(message)));
    await listenerClosed;
  }

  #addSession(n: NeighborSpec): void {
    if (this.#sessions.has(n.address)) throw new SpeakerError('BGP_DUPLICATE_NEIGHBOR', `neighbor ${n.address} configured twice`);
    if (n.passive && !this.opts.listen) {
      this.opts.logger.warn({ code: 'BGP_PASSIVE_WITHOUT_LISTEN', peer: n.address }, `neighbor ${n.address} is passive but bgp.listen is not set: it can never connect`);
    }
    const session = new Session(
      {
        neighbor: n,
        localAs: this.opts.localAs,
        routerId: this.opts.routerId,
        nextHop: this.opts.nextHop,
        gracefulRestartTimeSec: this.tuning.gracefulRestartTimeSec ?? DEFAULT_GRACEFUL_RESTART_SEC,
        md5Key: this.#md5Keys.get(n.address),
        connectRetry: this.tuning.connectRetry ?? DEFAULT_CONNECT_RETRY,
        logger: this.opts.logger,
        now: this.tuning.now ?? Date.now,
        random: this.tuning.random ?? Math.random,
      },
      { change: (status) => this.#emit(status) },
    );
    this.#sessions.set(n.address, session);
    void session.setDesired(this.#desired);
    session.start();
  }

  async #push(desired: DesiredSet): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((s) => s.setDesired(desired)));
  }

  #emit(status: PeerStatus): void {
    for (const l of this.#listeners) {
      try {
        l(status);
      } catch (err) {
        this.opts.logger.error({ code: 'BGP_PEER_LISTENER_FAILED', err }, 'peer change listener threw');
      }
    }
  }
}

function checkNeighbor(n: NeighborSpec): void {
  // RFC 4271 §4.2: "the Hold Time MUST be either zero or at least three seconds".
  const h = n.holdTimeSec;
  if (!Number.isInteger(h) || h < 0 || h > 65535 || h === 1 || h === 2) {
    throw new SpeakerError('BGP_BAD_HOLD_TIME', `neighbor ${n.address}: hold time ${h}s must be 0 or 3..65535 (RFC 4271 §4.2)`);
  }
}

function sameKey(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : Buffer.compare(a, b) === 0;
}

export function createSpeakerBackend(opts: BackendOptions, tuning?: SpeakerTuning): SpeakerBackend {
  return new SpeakerBackend(opts, tuning);
}
