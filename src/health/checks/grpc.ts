/**
 * grpc check: grpc.health.v1 Health/Check with a deadline at the check timeout, on a channel
 * shared per target. SERVING is up; NOT_SERVING, SERVICE_UNKNOWN (and NOT_FOUND, which is how
 * Check says "unknown service"), UNAVAILABLE (refused, closed) and every other error are down.
 */
import type * as grpc from '@grpc/grpc-js';
import { grpcLib } from '../passive/grpc-lib.js';
import type { GrpcClients, GrpcTarget, HealthClient, HealthResponse } from '../passive/grpc-clients.js';
import type { GrpcCheckSpec } from '../types.js';
import { down, ok, type Checker, type Outcome, type PassiveListener } from './types.js';

export class GrpcChecker implements Checker {
  readonly spec: GrpcCheckSpec;
  readonly #clients: GrpcClients;
  readonly #client: HealthClient;
  readonly #target: GrpcTarget;

  constructor(spec: GrpcCheckSpec, clients: GrpcClients) {
    this.spec = spec;
    this.#clients = clients;
    this.#target = { host: spec.host, port: spec.port, tls: spec.tls, tlsSkipVerify: spec.tlsSkipVerify };
    this.#client = clients.acquire(this.#target);
  }

  run(signal: AbortSignal, timeoutMs: number): Promise<Outcome> {
    const service = this.spec.service;
    return new Promise((resolve) => {
      const call = this.#client.Check({ service }, { deadline: Date.now() + timeoutMs }, (err, res) => {
        signal.removeEventListener('abort', onAbort);
        const outcome = err ? fromError(err, timeoutMs) : fromResponse(res);
        if (outcome.ok) this.#clients.passed(this.#target, service);
        resolve(outcome);
      });
      // Cancelling makes the callback fire with CANCELLED, which settles the promise.
      const onAbort = (): void => call.cancel();
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  watch(listener: PassiveListener): () => void {
    return this.#clients.subscribe(this.#target, this.spec.service, listener);
  }

  dispose(): void {
    this.#clients.release(this.#target);
  }
}

function fromResponse(res: HealthResponse | undefined): Outcome {
  const status = res?.status ?? 'UNKNOWN';
  switch (status) {
    case 'SERVING':
      return ok('grpc SERVING');
    case 'SERVICE_UNKNOWN':
      return down('GRPC_SERVICE_UNKNOWN', 'grpc SERVICE_UNKNOWN');
    default:
      return down('GRPC_NOT_SERVING', `grpc ${status}`);
  }
}

function fromError(err: grpc.ServiceError, timeoutMs: number): Outcome {
  const { status } = grpcLib();
  const name = status[err.code] ?? String(err.code);
  const text = `grpc ${name}: ${err.details}`;
  switch (err.code) {
    case status.UNAVAILABLE:
      return down('GRPC_UNAVAILABLE', text);
    case status.NOT_FOUND:
      return down('GRPC_SERVICE_UNKNOWN', text);
    case status.DEADLINE_EXCEEDED:
      return down('TIMEOUT', `grpc deadline of ${timeoutMs} ms exceeded`);
    case status.CANCELLED:
      return down('TIMEOUT', `grpc call cancelled at timeout`);
    default:
      return down('GRPC_ERROR', text);
  }
}
