/**
 * Shared pieces of the fault suite: the quick/long profile, a real BIRD peered with vipcast,
 * vipcast's config written to a temp dir, the admin API as probes see it, and BIRD's own
 * counters (`show protocols all`), which is how UPDATE counts are asserted: at the router.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bird } from '../../harness/bird.js';
import { freePort } from '../../harness/net.js';
import { waitFor } from '../../harness/wait.js';
import type { VipcastProcess } from '../../harness/vipcast.js';

/** `VIPCAST_FAULTS=long`: more trials, longer fuzz. The quick profile runs in `npm test`. */
export const LONG = process.env.VIPCAST_FAULTS === 'long';

export async function tempDir(tag: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `vipcast-faults-${tag}-`));
}

export async function writeText(dir: string, name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

export interface BirdPeerSpec {
  /** Protocol name in BIRD. */
  name: string;
  /** vipcast's address (BIRD's neighbor). */
  neighbor: string;
  neighborAs: number;
  holdTimeSec?: number;
  /** Extra lines inside `protocol bgp`. */
  extra?: string;
}

/**
 * BIRD as the router: passive, listening on `address:port`, importing everything vipcast sends.
 * `multihop`: BIRD refuses "directly connected" eBGP neighbors on loopback addresses it does
 * not see on an interface, and TTL does not matter on loopback.
 */
export function birdBgpConfig(address: string, port: number, peers: BirdPeerSpec[]): string {
  return peers
    .map(
      (p) => `
protocol bgp ${p.name} {
  local ${address} port ${port} as 65000;
  neighbor ${p.neighbor} as ${p.neighborAs};
  passive on;
  strict bind yes; # listen on this address only (a wildcard bind can collide, see test/gobgp/fixtures.ts)
  multihop;
  hold time ${p.holdTimeSec ?? 9};
  connect retry time 1;
  error wait time 1, 2;
  ${p.extra ?? ''}
  ipv4 { import all; export none; };
}`,
    )
    .join('\n');
}

export async function startBird(routerId: string, address: string, peers: BirdPeerSpec[]): Promise<{ bird: Bird; port: number }> {
  const port = await freePort(address);
  const bird = await Bird.start({ routerId, config: birdBgpConfig(address, port, peers) });
  return { bird, port };
}

/** BIRD's per-channel counters ("Route change stats") for one protocol, and its state. */
export interface BirdStats {
  state: string;
  /** "Since" column: changes whenever the session changes state. */
  since: string;
  importUpdates: number;
  importWithdraws: number;
  /** Routes currently imported. */
  imported: number;
}

export async function birdStats(bird: Bird, proto: string): Promise<BirdStats> {
  const out = await bird.birdc(`show protocols all ${proto}`);
  const head = out.split('\n').find((l) => l.startsWith(proto))?.trim().split(/\s+/) ?? [];
  const received = (label: string): number => {
    const m = new RegExp(`${label}:\\s+(\\d+)`).exec(out);
    return m ? Number(m[1]) : 0;
  };
  const imported = /Routes:\s+(\d+) imported/.exec(out);
  return {
    state: head[5] ?? 'unknown',
    since: head[4] ?? '',
    importUpdates: received('Import updates'),
    importWithdraws: received('Import withdraws'),
    imported: imported ? Number(imported[1]) : 0,
  };
}

/** Prefixes BIRD holds from protocol `proto`. */
export async function birdPrefixes(bird: Bird, proto: string): Promise<string[]> {
  return (await bird.routes('master4', proto)).map((r) => r.prefix).sort();
}

export async function waitRoute(bird: Bird, proto: string, prefix: string, present: boolean, timeoutMs = 15_000): Promise<number> {
  const t0 = Date.now();
  await waitFor(async () => (await birdPrefixes(bird, proto)).includes(prefix) === present, {
    timeoutMs,
    intervalMs: 25,
    what: `${prefix} ${present ? 'present' : 'absent'} at BIRD protocol ${proto}`,
  });
  return Date.now() - t0;
}

// ---------------------------------------------------------------------------------------------
// Admin API, as a probe or an operator sees it

export async function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
}

export interface VipView {
  name: string;
  prefix: string;
  healthy: boolean;
  advertised: boolean;
  state: string;
  reason?: string;
}

export async function vipsView(port: number): Promise<VipView[]> {
  return JSON.parse((await httpGet(port, '/v1/vips')).body) as VipView[];
}

/** The process still runs and its health loop answers: /healthz 200. */
export async function assertAlive(v: VipcastProcess, adminPort: number): Promise<void> {
  if (v.proc.exitCode !== null || v.proc.signalCode !== null) {
    throw new Error(`vipcast exited (${v.proc.exitCode ?? v.proc.signalCode}); last output: ${v.stdout.slice(-3000)}${v.output.slice(-2000)}`);
  }
  const h = await httpGet(adminPort, '/healthz');
  if (h.status !== 200) throw new Error(`/healthz ${h.status}: ${h.body}`);
}

/** Waits until the admin API answers (vipcast started). */
export async function waitAdmin(v: VipcastProcess, adminPort: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      if (v.proc.exitCode !== null) throw new Error(`vipcast exited: ${v.output.slice(-2000)}`);
      return (await httpGet(adminPort, '/healthz')).status === 200;
    },
    { timeoutMs, what: `vipcast admin API on ${adminPort}` },
  );
}

// ---------------------------------------------------------------------------------------------
// Check targets

/**
 * A TCP listener used as a tcp check target; `up`/`down` open and close it, and `down` also
 * resets open connections so passive detectors see it at once.
 */
export class TcpTarget {
  #server?: Server;
  readonly #sockets = new Set<Socket>();
  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  static async create(host = '127.0.0.1'): Promise<TcpTarget> {
    const t = new TcpTarget(host, await freePort(host));
    await t.up();
    return t;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get isUp(): boolean {
    return this.#server !== undefined;
  }

  async up(): Promise<void> {
    if (this.#server) return;
    const server = createServer((s) => {
      this.#sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
    this.#server = server;
  }

  async down(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    for (const s of this.#sockets) s.resetAndDestroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Common `health:` block: fast checks so that faults show within a second or two. */
/** The rigs' default vips: block: one VIP "web" at `vip` with a tcp check on `target`; `extra` lines go under it. */
export function webVipBlock(vip: string, target: TcpTarget, extra?: string): string {
  return `vips:
  - name: web
    prefix: ${vip}
    checks: [{ type: tcp, address: "${target.address}" }]${extra ? `\n${extra}` : ''}`;
}

export const FAST_HEALTH = `health:
  interval: 200ms
  fast_interval: 100ms
  timeout: 150ms
  rise: 1
  fall: 1`;

/**
 * For rigs that only need the VIP up (adversarial input): the watchdog's stall limit is
 * 3 x (interval + timeout) = 4.5 s, so CPU starvation on a loaded CI box cannot trip it.
 */
export const CALM_HEALTH = `health:
  interval: 1s
  fast_interval: 200ms
  timeout: 500ms
  rise: 1
  fall: 1`;
