/**
 * A real BIRD 2 daemon for interop tests, in its own temp directory with its own control
 * socket, listening on a test loopback address and port. Assertions read BIRD's own view
 * (`birdc show route all`), never vipcast's logs.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile, rm, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait.js';
import { stopProcess } from './process.js';

const run = promisify(execFile);

export const BIRD_BIN = '/usr/sbin/bird';
export const hasBird = (): boolean => existsSync(BIRD_BIN);

export interface BirdOptions {
  routerId: string;
  /** Config body after the router id and device protocol: protocols, filters, tables. */
  config: string;
}

export interface BirdRoute {
  prefix: string;
  /** Lines of `show route all` for this prefix (attributes such as BGP.community). */
  detail: string;
}

export class Bird {
  private proc?: ChildProcess;
  private constructor(readonly dir: string, readonly opts: BirdOptions) {}

  get socket(): string {
    return join(this.dir, 'bird.ctl');
  }
  get logFile(): string {
    return join(this.dir, 'bird.log');
  }

  static async start(opts: BirdOptions): Promise<Bird> {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-bird-'));
    const bird = new Bird(dir, opts);
    await writeFile(join(dir, 'bird.conf'), bird.renderConfig());
    await bird.launch();
    return bird;
  }

  private renderConfig(): string {
    return [
      `router id ${this.opts.routerId};`,
      `log "${this.logFile}" all;`,
      'debug protocols { states, events };',
      'protocol device { scan time 10; }',
      this.opts.config,
      '',
    ].join('\n');
  }

  private async launch(): Promise<void> {
    this.proc = spawn(BIRD_BIN, ['-f', '-c', join(this.dir, 'bird.conf'), '-s', this.socket, '-P', join(this.dir, 'bird.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A config error ("syntax error, unexpected CF_SYM_KNOWN" for a keyword used as a name)
    // is printed before BIRD exits: keep it for the timeout message.
    let stderr = '';
    const keep = (d: Buffer): void => {
      stderr = (stderr + d.toString()).slice(-4000);
    };
    this.proc.stdout?.on('data', keep);
    this.proc.stderr?.on('data', keep);
    await waitFor(async () => existsSync(this.socket) && (await this.birdc('show status')).includes('Daemon is up'), {
      timeoutMs: 10_000,
      what: `BIRD to start (${stderr.trim()})`,
    });
  }

  async birdc(command: string): Promise<string> {
    const { stdout } = await run('/usr/sbin/birdc', ['-s', this.socket, command], { timeout: 10_000 });
    return stdout;
  }

  /** Routes BIRD holds in `table` (master4/master6), optionally for one protocol. */
  async routes(table = 'master4', protocol?: string): Promise<BirdRoute[]> {
    const out = await this.birdc(`show route all table ${table}${protocol ? ` protocol ${protocol}` : ''}`);
    return parseRoutes(out);
  }

  /** Sessions state as BIRD reports it, e.g. "Established". */
  async protocolState(name: string): Promise<string> {
    const out = await this.birdc(`show protocols ${name}`);
    const line = out.split('\n').find((l) => l.startsWith(name));
    return line?.trim().split(/\s+/)[5] ?? 'unknown';
  }

  async log(): Promise<string> {
    return existsSync(this.logFile) ? readFile(this.logFile, 'utf8') : '';
  }

  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    await rm(this.socket, { force: true });
    await this.launch();
  }

  /** SIGSTOP/SIGCONT and friends, for hold-timer faults. */
  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  private kill(sig: NodeJS.Signals): Promise<void> {
    return stopProcess(this.proc, sig);
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Parses `birdc show route all`: a route line starts with the prefix in column 0
 * ("192.0.2.10/32        unicast [p1 12:00:00.000] * (100) [AS65001i]"); further paths for the
 * same prefix start with whitespace and "unicast"; attribute lines are indented.
 */
export function parseRoutes(out: string): BirdRoute[] {
  const routes: BirdRoute[] = [];
  let current: BirdRoute | undefined;
  for (const line of out.split('\n')) {
    const m = /^([0-9a-fA-F.:]+\/\d+)\s/.exec(line);
    if (m?.[1]) {
      current = { prefix: m[1], detail: line + '\n' };
      routes.push(current);
    } else if (current && /^\s/.test(line)) {
      current.detail += line + '\n';
    }
  }
  return routes;
}
