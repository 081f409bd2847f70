/**
 * vipcast itself as the system under test: the real `vipcast run` process (dist/src/cli/main.js)
 * with a generated YAML config, stopped with SIGTERM like an operator would.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon, type Daemon } from './proc.js';
import { freePort, type Router } from './router.js';
import { waitFor } from '../../test/harness/wait.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const VIPCAST_MAIN = join(ROOT, 'dist/src/cli/main.js');

/** Why vipcast cannot be measured in this checkout, or undefined when it can. */
export function vipcastMissing(): string | undefined {
  return existsSync(VIPCAST_MAIN) ? undefined : `${VIPCAST_MAIN} not built`;
}

export interface VipSpec {
  name: string;
  prefix: string;
  /** YAML flow mappings of the checks, e.g. `{ type: http, url: "http://..." }`. */
  checks: string[];
}

export interface VipcastOptions {
  router: Router;
  localAddress: string;
  localAs: number;
  /** GoBGP API address and the BGP port gobgpd listens on: present selects the GoBGP backend (manage: true). */
  gobgp?: { api: string; listenPort: number };
  health: { interval: string; fastInterval: string; timeout: string; rise: number; fall: number };
  vips: VipSpec[];
  logLevel?: string;
}

export interface VipcastInstance {
  daemon: Daemon;
  adminUrl: string;
  config: string;
}

export function renderConfig(o: VipcastOptions, adminPort: number): string {
  const bgp = [
    'bgp:',
    `  local_as: ${o.localAs}`,
    `  router_id: ${o.localAddress}`,
    ...(o.gobgp ? [`  gobgp_address: ${o.gobgp.api}`, '  gobgp: { manage: true }', `  listen: { address: ${o.localAddress}, port: ${o.gobgp.listenPort} }`] : []),
    '  next_hop: { ipv4: ' + o.localAddress + ' }',
    '  neighbors:',
    `    - { address: ${o.router.address}, remote_as: 65000, port: ${o.router.port}, local_address: ${o.localAddress}, ebgp_multihop: 2 }`,
  ];
  const h = o.health;
  const health = ['health:', `  interval: ${h.interval}`, `  fast_interval: ${h.fastInterval}`, `  timeout: ${h.timeout}`, `  rise: ${h.rise}`, `  fall: ${h.fall}`, '  jitter: 0%'];
  const vips = ['vips:', ...o.vips.flatMap((v) => [`  - name: ${v.name}`, `    prefix: ${v.prefix}`, '    checks:', ...v.checks.map((c) => `      - ${c}`)])];
  const rest = [
    // Withdraw at once on SIGTERM: the bulk benchmark times the withdrawal itself.
    'shutdown: { graceful_community: false, grace_period: 0s }',
    `admin: { listen: "127.0.0.1:${adminPort}" }`,
    `log: { level: ${o.logLevel ?? 'info'}, format: json }`,
  ];
  return [...bgp, ...health, ...vips, ...rest, ''].join('\n');
}

export async function startVipcast(dir: string, o: VipcastOptions): Promise<VipcastInstance> {
  const missing = vipcastMissing();
  if (missing) throw new Error(missing);
  const adminPort = await freePort('127.0.0.1');
  const config = join(dir, 'vipcast.yaml');
  await writeFile(config, renderConfig(o, adminPort));
  const daemon = startDaemon('vipcast', process.execPath, [VIPCAST_MAIN, 'run', '--config', config], join(dir, 'vipcast.log'));
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  await waitFor(
    async () => {
      if (daemon.proc.exitCode !== null) throw new Error(`vipcast exited with ${daemon.proc.exitCode}`);
      return (await fetch(`${adminUrl}/healthz`)).ok;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `vipcast admin API (log: ${daemon.logFile})` },
  );
  return { daemon, adminUrl, config };
}
