/**
 * A typed gRPC client for one GoBGP API generation. Every call has a deadline; idempotent calls
 * are retried with backoff on transient codes; every failure is a GobgpError naming the RPC and
 * carrying the daemon's message.
 */
import { Client, Metadata, status as GrpcStatus, type ChannelCredentials, type ClientOptions, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { GENERATIONS, loadGeneration, type ApiGeneration, type ApiVersion } from './generation.js';
import type { ApiDestination, ApiFamily, ApiGlobal, ApiPath, ApiPeer, ApiWatchEventResponse } from './types.js';
import { GobgpError, RETRYABLE_CODES, rpcError } from '../errors.js';
import { encodeAddPathStreamRequest, handEncodable, type AddPathStreamRequest } from './wire.js';

const UNAVAILABLE_ONLY: ReadonlySet<number> = new Set([GrpcStatus.UNAVAILABLE]);

export interface ClientTimeouts {
  /** Deadline of a unary call. */
  unaryMs: number;
  /** Deadline of a whole server/client stream (ListPath over many paths, AddPathStream). */
  streamMs: number;
}

export const DEFAULT_TIMEOUTS: ClientTimeouts = { unaryMs: 5_000, streamMs: 60_000 };

/**
 * Channel options: reconnect quickly after a sidecar restart (grpc-js defaults to 1 s growing to
 * 120 s, far beyond our 2 s restore goal) and fail calls at once while disconnected (no
 * wait-for-ready), so the backend's own recovery loop decides when to try again.
 */
export const CHANNEL_OPTIONS: ClientOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 500,
  'grpc.enable_retries': 0,
};

type AnyMethod = MethodDefinition<object, object>;

export interface WatchHandle {
  cancel(): void;
}

export interface WatchCallbacks {
  onEvent(ev: ApiWatchEventResponse): void;
  /** The stream ended or failed (not called after cancel()). */
  onClose(err: GobgpError): void;
}

export class GobgpClient {
  readonly generation: ApiGeneration;
  private readonly client: Client;
  private readonly methods: Partial<Record<string, AnyMethod>>;

  constructor(
    readonly address: string,
    version: ApiVersion,
    credentials: ChannelCredentials,
    private readonly timeouts: ClientTimeouts = DEFAULT_TIMEOUTS,
  ) {
    this.generation = GENERATIONS[version];
    const def = loadGeneration(version);
    const service = def[this.generation.service];
    if (!service || !('GetBgp' in service)) throw new Error(`service ${this.generation.service} missing from the ${version} protos`);
    this.methods = service;
    this.client = new Client(address, credentials, CHANNEL_OPTIONS);
  }

  close(): void {
    this.client.close();
  }

  private method(rpc: string): AnyMethod {
    const m = this.methods[rpc];
    if (!m) throw new Error(`RPC ${rpc} missing from ${this.generation.service}`);
    return m;
  }

  private unaryOnce<Res>(rpc: string, req: object, deadlineMs: number): Promise<Res> {
    const m = this.method(rpc);
    return new Promise<Res>((resolve, reject) => {
      this.client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        req,
        new Metadata(),
        { deadline: Date.now() + deadlineMs },
        (err: ServiceError | null, res?: object) => (err ? reject(rpcError(rpc, err)) : resolve((res ?? {}) as Res)),
      );
    });
  }

  /**
   * A unary call; `idempotent` ones are tried up to 3 times (100 ms, 200 ms backoff) on transient
   * codes (`retryOn`, default RETRYABLE_CODES).
   */
  async unary<Res>(rpc: string, req: object, opts: { idempotent: boolean; deadlineMs?: number; retryOn?: ReadonlySet<number> }): Promise<Res> {
    const attempts = opts.idempotent ? 3 : 1;
    let last: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        return await this.unaryOnce<Res>(rpc, req, opts.deadlineMs ?? this.timeouts.unaryMs);
      } catch (err) {
        last = err;
        const code = err instanceof GobgpError ? err.details.grpcCode : undefined;
        if (code === undefined || !(opts.retryOn ?? RETRYABLE_CODES).has(code) || i === attempts - 1) break;
        await new Promise((r) => setTimeout(r, 100 * 2 ** i));
      }
    }
    throw last;
  }

  /** A server-streaming call collected into an array (bounded by the stream deadline). */
  collect<Res>(rpc: string, req: object, deadlineMs = this.timeouts.streamMs): Promise<Res[]> {
    const m = this.method(rpc);
    return new Promise<Res[]>((resolve, reject) => {
      const out: Res[] = [];
      const call = this.client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, req, new Metadata(), {
        deadline: Date.now() + deadlineMs,
      });
      call.on('data', (d: Res) => out.push(d));
      call.on('error', (err: ServiceError) => reject(rpcError(rpc, err)));
      call.on('end', () => resolve(out));
    });
  }

  // ---- global ----

  async getBgp(deadlineMs?: number): Promise<ApiGlobal> {
    const res = await this.unary<{ global?: ApiGlobal }>('GetBgp', {}, { idempotent: true, deadlineMs });
    return res.global ?? {};
  }

  /**
   * GetBgp as a liveness probe: one attempt with a short deadline, so a hung daemon shows in
   * readiness within seconds instead of after three full deadlines.
   */
  async probeBgp(deadlineMs: number): Promise<ApiGlobal> {
    const res = await this.unary<{ global?: ApiGlobal }>('GetBgp', {}, { idempotent: false, deadlineMs });
    return res.global ?? {};
  }

  async startBgp(global: ApiGlobal): Promise<void> {
    await this.unary('StartBgp', { global }, { idempotent: false });
  }

  // ---- peers ----

  async listPeers(): Promise<ApiPeer[]> {
    const res = await this.collect<{ peer?: ApiPeer }>('ListPeer', {}, this.timeouts.unaryMs);
    return res.flatMap((r) => (r.peer ? [r.peer] : []));
  }

  async addPeer(peer: ApiPeer): Promise<void> {
    await this.unary('AddPeer', { peer }, { idempotent: false });
  }

  /**
   * Retried only on UNAVAILABLE (the call never reached the daemon): after a DEADLINE_EXCEEDED the
   * update may have been applied, and GoBGP 3.10 resets the session on every UpdatePeer, so a
   * repeat would reset it a second time.
   */
  async updatePeer(peer: ApiPeer): Promise<void> {
    await this.unary('UpdatePeer', { peer }, { idempotent: true, retryOn: UNAVAILABLE_ONLY });
  }

  async deletePeer(address: string): Promise<void> {
    await this.unary('DeletePeer', { address }, { idempotent: false });
  }

  // ---- paths (always in the global RIB) ----

  async addPath(path: ApiPath): Promise<void> {
    await this.unary('AddPath', { table_type: this.generation.tableGlobal, path }, { idempotent: true });
  }

  /**
   * Withdraws one path. The path is mandatory: a DeletePath without path and uuid deletes every
   * locally originated path in v3 (also ones vipcast did not add).
   */
  async deletePath(path: ApiPath): Promise<void> {
    if (!path.nlri_binary || !path.family) throw new Error('deletePath needs a path (an empty one would delete every local path)');
    await this.unary('DeletePath', { table_type: this.generation.tableGlobal, family: path.family, path }, { idempotent: true });
  }

  /** The global RIB of one family, with attributes as raw bytes. */
  async listPath(family: ApiFamily): Promise<ApiDestination[]> {
    const res = await this.collect<{ destination?: ApiDestination }>('ListPath', {
      table_type: this.generation.tableGlobal,
      family,
      // Only the raw bytes: the daemon then skips building (and we skip decoding) the
      // Any/typed attribute messages, most of the cost of a large listing.
      enable_only_binary: true,
    });
    return res.flatMap((r) => (r.destination ? [r.destination] : []));
  }

  /**
   * Adds (or, with is_withdraw, withdraws) many paths over one AddPathStream call, `batchSize`
   * paths per message. Resolves when the daemon closed the stream with its response: it handles
   * each message before reading the next, so that is its acknowledgement of all of them.
   */
  async addPathStream(paths: ApiPath[], batchSize = 1000): Promise<void> {
    const stream = this.openPathStream();
    try {
      for (let i = 0; i < paths.length; i += batchSize) await stream.write(paths.slice(i, i + batchSize));
    } catch (err) {
      stream.cancel();
      throw err;
    }
    await stream.end();
  }

  /**
   * An open AddPathStream call, written message by message (see PathStream). The deadline
   * covers the whole call, as for addPathStream().
   */
  openPathStream(): PathStream {
    const m = this.method('AddPathStream');
    let settle!: (err: GobgpError | undefined) => void;
    const done = new Promise<GobgpError | undefined>((resolve) => (settle = resolve));
    // Our paths are written by hand (wire.ts: protobufjs' conversion cost as much as encoding them).
    const serialize = (req: AddPathStreamRequest): Buffer => (handEncodable(req) ? encodeAddPathStreamRequest(req) : m.requestSerialize(req));
    const call = this.client.makeClientStreamRequest(
      m.path,
      serialize,
      m.responseDeserialize,
      new Metadata(),
      { deadline: Date.now() + this.timeouts.streamMs },
      (err: ServiceError | null) => settle(err ? rpcError('AddPathStream', err) : undefined),
    );
    return new PathStream(call, this.generation.tableGlobal, done);
  }
  // ---- events ----

  /**
   * WatchEvent for peer state: INIT for every peer, END_OF_INIT, then STATE changes. The one call
   * without a deadline, on purpose: it lives as long as the daemon. A dead daemon breaks it at
   * once; a hung one is caught by the periodic check, whose calls have deadlines.
   */
  watchPeers(cb: WatchCallbacks): WatchHandle {
    const m = this.method('WatchEvent');
    let cancelled = false;
    let closed = false;
    const close = (err: GobgpError): void => {
      if (cancelled || closed) return;
      closed = true;
      cb.onClose(err);
    };
    const call = this.client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, { peer: {} }, new Metadata(), {});
    call.on('data', (ev: ApiWatchEventResponse) => cb.onEvent(ev));
    call.on('error', (err: ServiceError) => close(rpcError('WatchEvent', err)));
    call.on('end', () => close(new GobgpError('GOBGP_UNAVAILABLE', 'GoBGP WatchEvent stream ended by the daemon', { rpc: 'WatchEvent' })));
    return {
      cancel: () => {
        cancelled = true;
        call.cancel();
      },
    };
  }
}

/**
 * One AddPathStream call, written a message at a time so that the caller can encode the next
 * message while this one travels: write() resolves once the message has been handed to HTTP/2
 * and the event loop has turned (which is when the session flushes it to the socket), or, when
 * the stream's buffer is full, once it drains. A failed call rejects the pending write() and
 * end() with the daemon's error.
 */
export class PathStream {
  private failure?: GobgpError;
  private ended = false;

  constructor(
    private readonly call: ClientWritableStream<AddPathStreamRequest>,
    private readonly tableType: number,
    private readonly done: Promise<GobgpError | undefined>,
  ) {
    void done.then((err) => (this.failure = err ?? this.failure));
  }

  async write(paths: ApiPath[]): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error('AddPathStream written after end()');
    const room = this.call.write({ table_type: this.tableType, paths });
    const ready = new Promise<void>((resolve) => (room ? setImmediate(resolve) : this.call.once('drain', resolve)));
    // A call that fails while we wait for 'drain' never drains: its end settles the wait instead.
    const err = await Promise.race([ready.then(() => undefined), this.done]);
    if (err) throw err;
  }

  /** Half-closes the call; resolves with the daemon's response (its acknowledgement of every message). */
  async end(): Promise<void> {
    if (!this.ended) this.call.end();
    this.ended = true;
    const err = await this.done;
    if (err) throw err;
  }

  /** Abandons the call (what the daemon already read stays applied). */
  cancel(): void {
    this.ended = true;
    this.call.cancel();
  }
}
