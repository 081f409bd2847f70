/**
 * A real gobgpd for interop tests: its own temp directory, its gRPC API on 127.0.0.1 and a port
 * from the kernel (`--api-hosts`), optionally a gobgpd.conf (TOML), pprof off. Assertions read
 * the daemon's own view through its CLI (`gobgp global rib -j`), never vipcast's logs.
 *
 * Versions: Debian's gobgpd 3.10 (/usr/bin) and the pinned latest v3 and current v4 built by
 * test/setup/gobgp-binaries.sh into /var/cache/vipcast/gobgp/<version>/ (or
 * $VIPCAST_GOBGP_CACHE). A missing version is reported with the reason to skip.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net.js';
import { stopProcess } from './process.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export interface GobgpBinary {
  /** "3.10.0 (Debian)", "v3.37.0", "v4.8.0". */
  label: string;
  gobgpd: string;
  gobgp: string;
  api: 'v3' | 'v4';
}

export interface GobgpVersion {
  label: string;
  api: 'v3' | 'v4';
  binary?: GobgpBinary;
  /** Why the binary is missing (the test skips with this). */
  missing?: string;
}

/** Keep in step with VERSIONS in test/setup/gobgp-binaries.sh. */
export const PINNED = [
  { version: 'v3.37.0', api: 'v3' },
  { version: 'v4.8.0', api: 'v4' },
] as const;

export const GOBGP_CACHE = process.env.VIPCAST_GOBGP_CACHE ?? '/var/cache/vipcast/gobgp';

export function gobgpVersions(): GobgpVersion[] {
  const out: GobgpVersion[] = [];
  const debian = { gobgpd: '/usr/bin/gobgpd', gobgp: '/usr/bin/gobgp' };
  out.push(
    existsSync(debian.gobgpd) && existsSync(debian.gobgp)
      ? { label: '3.10 (Debian)', api: 'v3', binary: { label: '3.10 (Debian)', api: 'v3', ...debian } }
      : { label: '3.10 (Debian)', api: 'v3', missing: 'Debian package gobgpd not installed (apt-get install gobgpd)' },
  );
  for (const p of PINNED) {
    const dir = join(GOBGP_CACHE, p.version);
    const bin = { gobgpd: join(dir, 'gobgpd'), gobgp: join(dir, 'gobgp') };
    out.push(
      existsSync(bin.gobgpd) && existsSync(bin.gobgp)
        ? { label: p.version, api: p.api, binary: { label: p.version, api: p.api, ...bin } }
        : { label: p.version, api: p.api, missing: `${dir}/gobgpd not built: run test/setup/gobgp-binaries.sh (needs Go)` },
    );
  }
  return out;
}

export interface GobgpdOptions {
  binary: GobgpBinary;
  /** gobgpd.conf (TOML); absent: a bare daemon whose global BGP is not started. */
  configToml?: string;
  /** Reuse an API port (restart keeps it). */
  apiPort?: number;
  /** Serve the API over TLS with this certificate (PEM files); the CLI trusts `cert` as its CA. */
  tls?: { cert: string; key: string };
  /** gobgpd --log-level; 'debug' shows the FSM's connect attempts ("try to connect", "failed to connect"). Default info. */
  logLevel?: 'info' | 'debug';
}

export interface RibPath {
  prefix: string;
  identifier: number;
  /** Attributes as the CLI's JSON shows them. */
  attrs: Array<Record<string, unknown>>;
  nexthop?: string;
}

export class Gobgpd {
  private proc?: ChildProcess;
  private output = '';
  private constructor(
    readonly dir: string,
    readonly opts: GobgpdOptions,
    readonly apiPort: number,
  ) {}

  get apiAddress(): string {
    return `127.0.0.1:${this.apiPort}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  static async start(opts: GobgpdOptions): Promise<Gobgpd> {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-gobgpd-'));
    const d = new Gobgpd(dir, opts, opts.apiPort ?? (await freePort()));
    if (opts.configToml !== undefined) await writeFile(join(dir, 'gobgpd.conf'), opts.configToml);
    await d.launch();
    return d;
  }

  /** Starts the process and waits until its API answers. */
  async launch(): Promise<void> {
    const args = ['--api-hosts', this.apiAddress, '--pprof-disable', '--log-level', this.opts.logLevel ?? 'info', '--log-plain'];
    if (this.opts.configToml !== undefined) args.push('-f', join(this.dir, 'gobgpd.conf'), '-t', 'toml');
    if (this.opts.tls) args.push('--tls', '--tls-cert-file', this.opts.tls.cert, '--tls-key-file', this.opts.tls.key);
    this.output = '';
    const proc = spawn(this.opts.binary.gobgpd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const keep = (d: Buffer): void => {
      // Large enough for a debug log of a whole suite's session history.
      this.output = (this.output + d.toString()).slice(-200_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`gobgpd exited ${proc.exitCode}: ${this.output.slice(-2000)}`);
        await this.cli(['global']).catch((e: Error) => {
          // "not started" still means the API answers.
          if (!/not started|bgp server hasn't started/i.test(e.message)) throw e;
        });
        return true;
      },
      { timeoutMs: 15_000, intervalMs: 50, what: `gobgpd ${this.opts.binary.label} API on ${this.apiAddress}` },
    );
  }

  /** The gobgp CLI against this daemon. */
  async cli(args: string[], timeoutMs = 20_000): Promise<string> {
    const tls = this.opts.tls ? ['--tls', '--tls-ca-file', this.opts.tls.cert] : [];
    const { stdout } = await run(this.opts.binary.gobgp, ['-u', '127.0.0.1', '-p', String(this.apiPort), ...tls, ...args], {
      timeout: timeoutMs,
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout;
  }

  /** `gobgp global rib -a FAMILY -j`: every path of the global RIB. */
  async rib(family: 'ipv4' | 'ipv6'): Promise<RibPath[]> {
    const out = await this.cli(['global', 'rib', '-a', family, '-j']);
    const trimmed = out.trim();
    if (!trimmed || trimmed === 'null') return [];
    const parsed = JSON.parse(trimmed) as Record<string, Array<Record<string, unknown>>>;
    const paths: RibPath[] = [];
    for (const [prefix, list] of Object.entries(parsed)) {
      for (const p of list) {
        paths.push({
          prefix,
          identifier: Number(p['id'] ?? p['identifier'] ?? 0),
          attrs: (p['attrs'] as Array<Record<string, unknown>> | undefined) ?? [],
          nexthop: p['nexthop'] as string | undefined,
        });
      }
    }
    return paths;
  }

  /** SIGSTOP/SIGCONT: a hung daemon. */
  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  get log(): string {
    return this.output;
  }

  /** Kills the process (SIGKILL by default: a crash) and waits for its exit. */
  kill(sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return stopProcess(this.proc, sig);
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    await rm(this.dir, { recursive: true, force: true });
  }
}
