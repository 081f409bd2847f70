/** Builds the checker for a check spec, wired to the engine's shared connection pools. */
import type { Logger } from '../../log/logger.js';
import type { Clock } from '../clock.js';
import { GrpcClients } from '../passive/grpc-clients.js';
import { HttpAgents } from '../passive/http-agents.js';
import { PidWatcher } from '../passive/pid-watch.js';
import { TcpHolder } from '../passive/tcp-holder.js';
import { UnitWatcher, type UnitWatcherOptions } from '../passive/unit-watch.js';
import type { CheckSpec } from '../types.js';
import { DnsChecker } from './dns.js';
import { ExecChecker } from './exec.js';
import { GrpcChecker } from './grpc.js';
import { HttpChecker } from './http.js';
import { TcpChecker } from './tcp.js';
import type { Checker } from './types.js';

/** Connections shared by every check of the engine: one per target. */
export class CheckPools {
  readonly tcp: TcpHolder;
  readonly http: HttpAgents;
  readonly grpc: GrpcClients;
  readonly pids: PidWatcher;
  readonly units: UnitWatcher;

  constructor(logger: Logger, clock: Clock, opts: { units?: UnitWatcherOptions } = {}) {
    this.tcp = new TcpHolder(logger, clock);
    this.http = new HttpAgents(logger);
    this.grpc = new GrpcClients(logger);
    this.pids = new PidWatcher(logger, clock);
    this.units = new UnitWatcher(logger, opts.units);
  }

  close(): void {
    this.tcp.close();
    this.http.close();
    this.grpc.close();
    this.pids.close();
    this.units.close();
  }
}

export type CheckerFactory = (spec: CheckSpec, timeoutMs: number) => Checker;

export function checkerFactory(pools: CheckPools): CheckerFactory {
  return (spec, timeoutMs) => {
    switch (spec.type) {
      case 'http':
        return new HttpChecker(spec, pools.http);
      case 'tcp':
        return new TcpChecker(spec, pools.tcp);
      case 'exec':
        return new ExecChecker(spec, pools.pids, pools.units);
      case 'dns':
        return new DnsChecker(spec, timeoutMs);
      case 'grpc':
        return new GrpcChecker(spec, pools.grpc);
    }
  };
}
