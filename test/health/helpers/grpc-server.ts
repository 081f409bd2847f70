/** An in-process grpc.health.v1 server (Check and Watch) for tests. */
import * as grpc from '@grpc/grpc-js';
import { loadHealthPackage, type ServingStatus } from '../../../src/health/passive/grpc-clients.js';

export interface GrpcHealthServer {
  host: string;
  port: number;
  set(service: string, status: ServingStatus): void;
  /** Drop every connection at once, as a dying process would. */
  kill(): void;
}

export async function startGrpcHealthServer(host: string, statuses: Record<string, ServingStatus>, opts: { watch?: boolean; port?: number; credentials?: grpc.ServerCredentials } = {}): Promise<GrpcHealthServer> {
  const health = loadHealthPackage();
  const service = (health.Health as unknown as { service: grpc.ServiceDefinition }).service;
  const state = new Map(Object.entries(statuses));
  const watchers = new Set<{ service: string; call: grpc.ServerWritableStream<{ service: string }, { status: string }> }>();
  const server = new grpc.Server();
  const impl: grpc.UntypedServiceImplementation = {
    Check(call: grpc.ServerUnaryCall<{ service: string }, { status: string }>, cb: grpc.sendUnaryData<{ status: string }>) {
      const status = state.get(call.request.service);
      if (status === undefined) cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      else cb(null, { status });
    },
    Watch(call: grpc.ServerWritableStream<{ service: string }, { status: string }>) {
      if (opts.watch === false) {
        call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'no Watch here' });
        return;
      }
      const entry = { service: call.request.service, call };
      watchers.add(entry);
      call.on('cancelled', () => watchers.delete(entry));
      call.write({ status: state.get(call.request.service) ?? 'SERVICE_UNKNOWN' });
    },
  };
  server.addService(service, impl);
  const bound = host.includes(':') ? `[${host}]:${opts.port ?? 0}` : `${host}:${opts.port ?? 0}`;
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(bound, opts.credentials ?? grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    host,
    port,
    set(name, status) {
      state.set(name, status);
      for (const w of watchers) if (w.service === name) w.call.write({ status });
    },
    kill() {
      server.forceShutdown();
    },
  };
}
