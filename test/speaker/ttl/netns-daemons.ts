/**
 * BIRD and `vipcast run` started inside a test network namespace (`ip netns exec` execs the
 * daemon, so the child is the daemon itself). birdc reaches BIRD through its Unix socket, which
 * lives in the file system and so works from any namespace.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIRD_BIN, parseRoutes, type BirdRoute } from '../../harness/bird.js';
import { stopProcess } from '../../harness/process.js';
import { VIPCAST_BIN } from '../../harness/vipcast.js';
import { sleep, waitFor } from '../../harness/wait.js';
import { afterAll, beforeAll } from 'vitest';
import type { Topology } from './topology.js';

const run = promisify(execFile);

const BUILT_TTL = new URL('../../../dist/src/speaker/session/ttl.js', import.meta.url);

/** These tests run dist/: one built before the TTL code would test the old speaker. */
export async function assertFreshBuild(): Promise<void> {
  const text = existsSync(BUILT_TTL) ? await readFile(BUILT_TTL, 'utf8') : '';
  if (!text.includes('connectWithOptions') || !text.includes('minTtl')) {
    throw new Error('dist/ predates the eBGP TTL code (dist/src/speaker/session/ttl.js): run npm run build');
  }
}

export class NetnsBird {
  #proc?: ChildProcess;
  #stderr = '';
  private constructor(readonly dir: string) {}

  get socket(): string {
    return join(this.dir, 'bird.ctl');
  }

  /** `config`: everything after the router id, log and device protocol. */
  static async start(ns: string, routerId: string, config: string): Promise<NetnsBird> {
    const bird = new NetnsBird(await mkdtemp(join(tmpdir(), 'vipcast-ttl-bird-')));
    const conf = join(bird.dir, 'bird.conf');
    await writeFile(conf, [`router id ${routerId};`, `log "${join(bird.dir, 'bird.log')}" all;`, 'debug protocols { states, events };', 'protocol device { scan time 10; }', config, ''].join('\n'));
    bird.#proc = spawn('ip', ['netns', 'exec', ns, BIRD_BIN, '-f', '-c', conf, '-s', bird.socket, '-P', join(bird.dir, 'bird.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => {
      bird.#stderr = (bird.#stderr + d.toString()).slice(-4000);
    };
    bird.#proc.stdout?.on('data', keep);
    bird.#proc.stderr?.on('data', keep);
    await waitFor(async () => existsSync(bird.socket) && (await bird.birdc('show status')).includes('Daemon is up'), {
      timeoutMs: 10_000,
      what: () => `BIRD in ${ns} to start (${bird.#stderr.trim()})`,
    });
    return bird;
  }

  async birdc(command: string): Promise<string> {
    const { stdout } = await run('/usr/sbin/birdc', ['-s', this.socket, command], { timeout: 10_000 });
    return stdout;
  }

  /** BIRD's own line for the protocol in `show protocols` (its Info column says "Established"). */
  async protocolLine(name: string): Promise<string> {
    const out = await this.birdc(`show protocols ${name}`);
    return out.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
  }

  async established(name: string): Promise<boolean> {
    return (await this.protocolLine(name)).includes('Established');
  }

  /** Waits (bounded) for `name` to be Established; on timeout the error carries `context()`. */
  async waitEstablished(name: string, context: () => Promise<string>, timeoutMs = 30_000): Promise<void> {
    try {
      await waitFor(async () => this.established(name), { timeoutMs, intervalMs: 250, what: `${name} Established at BIRD` });
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${await context()}`, { cause: err });
    }
  }

  /**
   * Watches `names` for `windowMs` in 250 ms steps: none may reach Established, each must exist.
   * Returns BIRD's last line per protocol (its state, for the test's own assertions).
   */
  async neverEstablished(names: string[], windowMs: number): Promise<Map<string, string>> {
    const last = new Map<string, string>();
    const deadline = Date.now() + windowMs;
    for (let round = 0; round < Math.ceil(windowMs / 250) && Date.now() < deadline; round++) {
      for (const name of names) {
        const line = await this.protocolLine(name);
        if (line === '') throw new Error(`BIRD has no protocol ${name}`);
        if (line.includes('Established')) throw new Error(`${name} reached Established at BIRD: ${line}`);
        last.set(name, line);
      }
      await sleep(250);
    }
    return last;
  }

  async routes(table: string, protocol: string): Promise<BirdRoute[]> {
    return parseRoutes(await this.birdc(`show route all table ${table} protocol ${protocol}`));
  }

  async log(): Promise<string> {
    const file = join(this.dir, 'bird.log');
    return existsSync(file) ? readFile(file, 'utf8') : '';
  }

  async stop(): Promise<void> {
    await stopProcess(this.#proc);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** `vipcast run --config <yaml>` inside a namespace; its log is kept for failure messages only. */
export class NetnsVipcast {
  output = '';
  readonly #proc: ChildProcess;

  private constructor(readonly dir: string, ns: string) {
    this.#proc = spawn('ip', ['netns', 'exec', ns, process.execPath, VIPCAST_BIN, 'run', '--config', join(dir, 'vipcast.yaml')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    this.#proc.stdout?.on('data', keep);
    this.#proc.stderr?.on('data', keep);
  }

  static async start(ns: string, config: string): Promise<NetnsVipcast> {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-ttl-run-'));
    await writeFile(join(dir, 'vipcast.yaml'), config);
    return new NetnsVipcast(dir, ns);
  }

  get exited(): boolean {
    return this.#proc.exitCode !== null || this.#proc.signalCode !== null;
  }

  async stop(): Promise<void> {
    await stopProcess(this.#proc, 'SIGTERM', 10_000);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * One `vipcast run` in namespace A and one BIRD (at `birdAddress`) in namespace B of `topo`,
 * started before the suite's tests and stopped after them. `context()` is what a failed wait
 * prints: BIRD's protocols and the tails of both logs.
 */
export function netnsLab(topo: Topology, setup: { vipcastConfig: string; birdAddress: string; birdConfig: string }) {
  let bird: NetnsBird | undefined;
  let vipcast: NetnsVipcast | undefined;
  beforeAll(async () => {
    await assertFreshBuild();
    await topo.create();
    vipcast = await NetnsVipcast.start(topo.a, setup.vipcastConfig);
    bird = await NetnsBird.start(topo.b, setup.birdAddress, setup.birdConfig);
  }, 60_000);
  afterAll(async () => {
    await vipcast?.stop();
    await bird?.stop();
    await topo.destroy();
  }, 60_000);
  const lab = {
    bird: (): NetnsBird => bird ?? failSetup('BIRD'),
    vipcast: (): NetnsVipcast => vipcast ?? failSetup('vipcast'),
    context: async (): Promise<string> => {
      const protocols = bird ? await bird.birdc('show protocols').catch((e: Error) => e.message) : '';
      const log = bird ? (await bird.log()).slice(-4000) : '';
      return `BIRD:\n${protocols}\nBIRD log (tail):\n${log}\nvipcast log (tail):\n${vipcast?.output.slice(-4000) ?? ''}`;
    },
    /** BIRD's route detail for `prefix` from `protocol`, waited for. */
    vipAtBird: (table: string, protocol: string, prefix: string): Promise<string> =>
      waitFor(async () => (await lab.bird().routes(table, protocol)).find((r) => r.prefix === prefix)?.detail, {
        timeoutMs: 20_000,
        intervalMs: 250,
        what: `${prefix} from ${protocol} at BIRD`,
      }),
  };
  return lab;
}

function failSetup(what: string): never {
  throw new Error(`${what} did not start (see beforeAll's error)`);
}
