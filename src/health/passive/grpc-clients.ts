/**
 * grpc.health.v1 clients, one channel per target (host:port and TLS mode) shared by every VIP
 * checking it, and the passive detector built on them (issue 7):
 * - the channel's connectivity state: leaving READY (the server closed the HTTP/2 connection
 *   or the process died) fires the target's listeners;
 * - a grpc.health.v1 Watch stream per (target, service), opened after a passing Check: a
 *   status other than SERVING, or the stream ending, fires that service's listeners. A server
 *   answering UNIMPLEMENTED never gets another Watch (as health.proto asks).
 * Reconnect backoff is capped at 1 s so a recovered server is seen within a check or two.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../log/logger.js';
import type { PassiveListener } from '../checks/types.js';
import { grpcLib, protoLoaderLib } from './grpc-lib.js';
import { TargetSignal } from './signal.js';

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface HealthResponse {
  status: ServingStatus;
}

export interface HealthClient extends grpc.Client {
  Check(req: { service: string }, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: HealthResponse) => void): grpc.ClientUnaryCall;
  Watch(req: { service: string }, options?: grpc.CallOptions): grpc.ClientReadableStream<HealthResponse>;
}

type HealthClientCtor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => HealthClient;

export interface GrpcTarget {
  host: string;
  port: number;
  tls: boolean;
  tlsSkipVerify: boolean;
}

interface ServiceWatch {
  signal: TargetSignal;
  stream?: grpc.ClientReadableStream<HealthResponse>;
  unsupported: boolean;
}

interface Channel {
  client: HealthClient;
  refs: number;
  services: Map<string, ServiceWatch>;
  closed: boolean;
}

let ctor: HealthClientCtor | undefined;

/** Locate the vendored proto from src/ (tsx, vitest) or dist/src/ (built) alike. */
export function healthProtoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'proto', 'grpc', 'health', 'v1', 'health.proto');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw Object.assign(new Error('proto/grpc/health/v1/health.proto not found above the health engine'), { code: 'VIPCAST_HEALTH_PROTO_MISSING' });
}

/** The grpc.health.v1 package definition (also used by tests to build a server). */
export function loadHealthPackage(): grpc.GrpcObject {
  const def = protoLoaderLib().loadSync(healthProtoPath(), { keepCase: true, enums: String, defaults: true });
  const root = grpcLib().loadPackageDefinition(def) as unknown as { grpc: { health: { v1: grpc.GrpcObject } } };
  return root.grpc.health.v1;
}

function healthClientCtor(): HealthClientCtor {
  ctor ??= loadHealthPackage().Health as unknown as HealthClientCtor;
  return ctor;
}

export class GrpcClients {
  readonly #channels = new Map<string, Channel>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  static key(t: GrpcTarget): string {
    const host = t.host.includes(':') ? `[${t.host}]` : t.host;
    return `${host}:${t.port}${t.tls ? `|tls|skip=${t.tlsSkipVerify}` : ''}`;
  }

  acquire(t: GrpcTarget): HealthClient {
    const key = GrpcClients.key(t);
    let ch = this.#channels.get(key);
    if (!ch) {
      ch = { client: this.#create(t), refs: 0, services: new Map(), closed: false };
      this.#channels.set(key, ch);
      this.#watchConnectivity(key, ch);
    }
    ch.refs++;
    return ch.client;
  }

  release(t: GrpcTarget): void {
    const key = GrpcClients.key(t);
    const ch = this.#channels.get(key);
    if (!ch) return;
    ch.refs--;
    if (ch.refs <= 0) {
      this.#closeChannel(ch);
      this.#channels.delete(key);
    }
  }

  subscribe(t: GrpcTarget, service: string, listener: PassiveListener): () => void {
    const ch = this.#channels.get(GrpcClients.key(t));
    if (!ch) throw new Error('GrpcClients.subscribe before acquire');
    const watch = this.#service(ch, service);
    const unsubscribe = watch.signal.subscribe(listener);
    return () => {
      unsubscribe();
      if (watch.signal.size === 0) {
        this.#cancel(watch);
        ch.services.delete(service);
      }
    };
  }

  /** After a passing Check: arm the detector and make sure a Watch stream is open. */
  passed(t: GrpcTarget, service: string): void {
    const ch = this.#channels.get(GrpcClients.key(t));
    const watch = ch?.services.get(service);
    if (!ch || !watch || watch.signal.size === 0) return;
    watch.signal.arm();
    if (!watch.stream && !watch.unsupported) this.#openWatch(ch, service, watch);
  }

  close(): void {
    for (const ch of this.#channels.values()) this.#closeChannel(ch);
    this.#channels.clear();
  }

  #create(t: GrpcTarget): HealthClient {
    const host = t.host.includes(':') ? `[${t.host}]` : t.host;
    const creds = t.tls
      ? grpcLib().credentials.createSsl(null, null, null, t.tlsSkipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {})
      : grpcLib().credentials.createInsecure();
    const Ctor = healthClientCtor();
    return new Ctor(`${host}:${t.port}`, creds, {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1_000,
    });
  }

  #service(ch: Channel, service: string): ServiceWatch {
    let watch = ch.services.get(service);
    if (!watch) {
      watch = { signal: new TargetSignal(`grpc:${ch.client.getChannel().getTarget()}/${service}`, this.#logger), unsupported: false };
      ch.services.set(service, watch);
    }
    return watch;
  }

  #watchConnectivity(key: string, ch: Channel): void {
    const { connectivityState } = grpcLib();
    const channel = ch.client.getChannel();
    const state = channel.getConnectivityState(false);
    if (ch.closed || state === connectivityState.SHUTDOWN) return;
    // The deadline only bounds one wait; on expiry we simply wait again.
    channel.watchConnectivityState(state, Date.now() + 3_600_000, () => {
      if (ch.closed) return;
      const next = channel.getConnectivityState(false);
      if (state === connectivityState.READY && next !== connectivityState.READY) {
        const why = `grpc channel ${key} left READY (${connectivityState[next]})`;
        for (const watch of ch.services.values()) watch.signal.fire(why);
      }
      this.#watchConnectivity(key, ch);
    });
  }

  #openWatch(ch: Channel, service: string, watch: ServiceWatch): void {
    const stream = ch.client.Watch({ service });
    watch.stream = stream;
    stream.on('data', (res: HealthResponse) => {
      if (res.status !== 'SERVING') watch.signal.fire(`grpc Watch(${JSON.stringify(service)}): ${res.status}`);
    });
    // Every ending, error or not, is reported through 'status'; 'error' must have a listener or
    // the stream would throw it.
    stream.on('error', () => undefined);
    const codes = grpcLib().status;
    stream.on('status', (status: grpc.StatusObject) => {
      if (watch.stream === stream) watch.stream = undefined;
      if (status.code === codes.CANCELLED && ch.closed) return;
      if (status.code === codes.UNIMPLEMENTED) {
        watch.unsupported = true;
        this.#logger.debug({ service }, 'grpc server does not implement Watch; connectivity state only');
        return;
      }
      if (status.code === codes.CANCELLED && watch.signal.size === 0) return;
      watch.signal.fire(`grpc Watch(${JSON.stringify(service)}) ended: ${codes[status.code]} ${status.details}`);
    });
  }

  #cancel(watch: ServiceWatch): void {
    watch.signal.disarm();
    const stream = watch.stream;
    watch.stream = undefined;
    stream?.cancel();
  }

  #closeChannel(ch: Channel): void {
    ch.closed = true;
    for (const watch of ch.services.values()) this.#cancel(watch);
    ch.services.clear();
    ch.client.close();
  }
}
