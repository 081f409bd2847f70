/**
 * A real FRR bgpd for interop tests, run by hand in a temp directory: its own config, pid file,
 * log and vty socket (--vty_socket), listening on a test loopback address and port (-l/-p).
 *
 * It runs with -Z (no zebra): bgpd then installs nothing anywhere (no kernel routes on the test
 * machine) and, without a zebra connection, treats every next hop as reachable, so our
 * 198.18.0.1 / fd00::1 next hops are valid candidates for best path and multipath. Assertions
 * read bgpd's own view through vtysh (`show bgp ... json`).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../wait.js';
import { stopProcess } from '../process.js';

const run = promisify(execFile);
export const BGPD_BIN = '/usr/lib/frr/bgpd';

export interface FrrOptions {
  address: string;
  port: number;
  /** `router bgp ...` block and anything else after the header. */
  config: string;
}

/** One path of `show bgp <afi> unicast <prefix> json`, the fields tests read. */
export interface FrrPath {
  aspath?: { string: string };
  med?: number;
  metric?: number;
  community?: { string: string };
  largeCommunity?: { string: string };
  nexthops?: Array<{ ip: string; afi?: string; scope?: string }>;
  multipath?: boolean;
  bestpath?: { overall?: boolean };
  peer?: { peerId?: string };
}

export class Frr {
  private proc?: ChildProcess;
  private constructor(
    readonly dir: string,
    readonly opts: FrrOptions,
  ) {}

  get logFile(): string {
    return join(this.dir, 'bgpd.log');
  }

  static async start(opts: FrrOptions): Promise<Frr> {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-frr-'));
    const frr = new Frr(dir, opts);
    await writeFile(join(dir, 'bgpd.conf'), `frr defaults traditional\nhostname vipcast-test\nlog file ${frr.logFile} debugging\n!\n${opts.config}\n`);
    await frr.launch();
    return frr;
  }

  private async launch(): Promise<void> {
    const args = ['-f', join(this.dir, 'bgpd.conf'), '-i', join(this.dir, 'bgpd.pid'), '--vty_socket', this.dir, '-Z', '-n'];
    // -S (skip run-as): as root, '-u root -g root' fails because root is not in the frrvty group.
    args.push('-l', this.opts.address, '-p', String(this.opts.port), '-P', '0', '-S');
    this.proc = spawn(BGPD_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    this.proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(async () => existsSync(join(this.dir, 'bgpd.vty')) && (await this.vtysh('show bgp summary')).length >= 0, {
      timeoutMs: 15_000,
      what: `bgpd to start (${stderr.trim()})`,
    });
  }

  async vtysh(command: string): Promise<string> {
    const { stdout } = await run('/usr/bin/vtysh', ['--vty_socket', this.dir, '-d', 'bgpd', '-c', command], { timeout: 10_000 });
    return stdout;
  }

  async json<T>(command: string): Promise<T> {
    return JSON.parse(await this.vtysh(`${command} json`)) as T;
  }

  /** Prefixes in the table of a family. */
  async prefixes(family: 'ipv4' | 'ipv6'): Promise<string[]> {
    const out = await this.json<{ routes?: Record<string, unknown> }>(`show bgp ${family} unicast`);
    return Object.keys(out.routes ?? {});
  }

  async paths(family: 'ipv4' | 'ipv6', prefix: string): Promise<FrrPath[]> {
    const out = await this.json<{ paths?: FrrPath[] }>(`show bgp ${family} unicast ${prefix}`);
    return out.paths ?? [];
  }

  async log(): Promise<string> {
    return existsSync(this.logFile) ? readFile(this.logFile, 'utf8') : '';
  }

  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    await rm(join(this.dir, 'bgpd.vty'), { force: true });
    await this.launch();
  }

  private kill(sig: NodeJS.Signals): Promise<void> {
    return stopProcess(this.proc, sig);
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Same shape as test/speaker/interop/scenario.ts SeenRoute. */
export interface SeenRouteLike {
  nextHop: string;
  asPath: number[];
  med?: number;
  communities: string[];
  largeCommunities: string[];
}

/** FRR prints well-known communities by name. */
const WELL_KNOWN: Record<string, string> = {
  'graceful-shutdown': '65535:0',
  'no-export': '65535:65281',
  'no-advertise': '65535:65282',
  'no-export-subconfed': '65535:65283',
  blackhole: '65535:666',
};

/** A `router bgp` block: passive neighbors (the speaker connects), both families, multipath on. */
export function frrConfig(asn: number, neighborAs: number, neighbors: string[], extra = ''): string {
  const lines = [`router bgp ${asn}`, ' bgp router-id 10.255.0.2', ' bgp log-neighbor-changes', ' no bgp ebgp-requires-policy', ' no bgp default ipv4-unicast'];
  for (const n of neighbors) {
    lines.push(` neighbor ${n} remote-as ${neighborAs}`, ` neighbor ${n} passive`, ` neighbor ${n} disable-connected-check`, ` neighbor ${n} timers 3 9`);
  }
  for (const af of ['ipv4', 'ipv6']) {
    lines.push(` address-family ${af} unicast`, ...neighbors.map((n) => `  neighbor ${n} activate`), '  maximum-paths 8', ' exit-address-family');
  }
  return lines.join('\n') + '\n' + extra;
}

/** The attributes of one path, normalised (well-known communities back to asn:value). */
export function frrSeen(p: FrrPath): SeenRouteLike {
  const r: SeenRouteLike = {
    // Global next hop first (IPv6 paths may add a link-local one).
    nextHop: p.nexthops?.find((n) => n.scope !== 'link-local')?.ip ?? '',
    asPath: (p.aspath?.string ?? '').split(/\s+/).filter(Boolean).map(Number),
    communities: (p.community?.string ?? '').split(/\s+/).filter(Boolean).map((c) => WELL_KNOWN[c] ?? c),
    largeCommunities: (p.largeCommunity?.string ?? '').split(/\s+/).filter(Boolean),
  };
  const med = p.med ?? p.metric;
  if (med !== undefined) r.med = med;
  return r;
}

