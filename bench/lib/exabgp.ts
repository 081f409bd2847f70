/**
 * ExaBGP 4.2 (Debian) as a peer under test: one neighbor (the BIRD router), and API processes
 * that feed it (its own healthcheck, or a feeder of announcements). Settings go through the
 * environment (exabgp.*), as ExaBGP reads them.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type Daemon } from './proc.js';
import type { Router } from './router.js';

export const EXABGP_BIN = '/usr/sbin/exabgp';
export const PYTHON = '/usr/bin/python3';

export interface ExaProcess {
  name: string;
  /** The command line ExaBGP runs (it splits on spaces; no shell). */
  run: string;
}

export interface ExaOptions {
  router: Router;
  localAddress: string;
  localAs: number;
  processes: ExaProcess[];
  /** exabgp.api.ack: false stops ExaBGP writing "done" after every command. */
  ack: boolean;
}

export interface ExaInstance {
  daemon: Daemon;
  dir: string;
}

export async function startExabgp(dir: string, opts: ExaOptions): Promise<ExaInstance> {
  const conf = join(dir, 'exabgp.conf');
  await writeFile(conf, renderConfig(opts));
  const env = {
    ...process.env,
    'exabgp.daemon.user': 'root',
    'exabgp.daemon.daemonize': 'false',
    'exabgp.api.cli': 'false',
    'exabgp.api.ack': String(opts.ack),
    'exabgp.log.level': 'WARNING',
    'exabgp.log.destination': 'stdout',
  };
  const daemon = startDaemon('exabgp', EXABGP_BIN, [conf], join(dir, 'exabgp.log'), { env, cwd: dir });
  return { daemon, dir };
}

function renderConfig(o: ExaOptions): string {
  const procs = o.processes.map((p) => `process ${p.name} {\n  run ${p.run};\n  encoder text;\n}`);
  const names = o.processes.map((p) => p.name).join(' ');
  return [
    ...procs,
    `neighbor ${o.router.address} {`,
    `  router-id ${o.localAddress};`,
    `  local-address ${o.localAddress};`,
    `  local-as ${o.localAs};`,
    `  peer-as 65000;`,
    `  connect ${o.router.port};`,
    '  family { ipv4 unicast; }',
    `  api { processes [ ${names} ]; }`,
    '}',
    '',
  ].join('\n');
}

/**
 * ExaBGP's own healthcheck (python3 -m exabgp healthcheck) for one VIP. ExaBGP splits `run` on
 * whitespace without a shell, so the options (and the check command, which has spaces) go in a
 * healthcheck config file ("key = value" lines, read with --config). --withdraw-on-down makes a
 * down service withdraw its route (the default re-announces it with a worse MED); --no-ip-setup
 * leaves lo alone.
 */
export async function healthcheckProcess(
  dir: string,
  opts: { name: string; vip: string; nextHop: string; command: string; intervalSec: number; fastIntervalSec: number; timeoutSec: number; rise: number; fall: number },
): Promise<ExaProcess> {
  const lines = [
    `name = ${opts.name}`,
    `ip = ${opts.vip}`,
    `next-hop = ${opts.nextHop}`,
    `interval = ${opts.intervalSec}`,
    `fast-interval = ${opts.fastIntervalSec}`,
    `rise = ${opts.rise}`,
    `fall = ${opts.fall}`,
    // The wrapper's own timeout is whole seconds (SIGALRM); the command carries the real one.
    `timeout = ${Math.max(1, Math.ceil(opts.timeoutSec))}`,
    `command = ${opts.command}`,
    'withdraw-on-down',
    'no-ip-setup',
    'no-syslog',
  ];
  const file = join(dir, `hc-${opts.name}.conf`);
  await writeFile(file, lines.join('\n') + '\n');
  return { name: opts.name, run: `${PYTHON} -m exabgp healthcheck --config ${file}` };
}

/** A fresh directory for one daemon's files. */
export function benchDir(what: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `vipcast-bench-${what}-`));
}
