/**
 * A real ExaBGP 4.2 for interop tests: its own temp directory, configuration and log, listening
 * on a test loopback address and port (exabgp.tcp.bind / exabgp.tcp.port). Received UPDATEs go
 * to an API process (`receive { parsed; update; }`, JSON encoder) that appends each line to a
 * file; the routes ExaBGP holds are that stream replayed (announce, withdraw, session down).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../wait.js';
import { stopProcess } from '../process.js';

export const EXABGP_BIN = '/usr/sbin/exabgp';

export interface ExabgpOptions {
  address: string;
  port: number;
  /** Body of the configuration after the API process definition (`neighbor ... { ... }`). */
  neighbors: string;
}

/** A route as ExaBGP's JSON encoder shows it. */
export interface ExaRoute {
  nextHop: string;
  attribute: Record<string, unknown>;
}

const RECEIVER = `import sys
with open(sys.argv[1], 'a', buffering=1) as out:
    for line in sys.stdin:
        out.write(line)
`;

export class Exabgp {
  private proc?: ChildProcess;
  /** Offset in the received file where the current process's output starts. */
  private since = 0;
  private output = '';
  private constructor(readonly dir: string, readonly opts: ExabgpOptions) {}

  get receivedFile(): string {
    return join(this.dir, 'received.jsonl');
  }
  get logFile(): string {
    return join(this.dir, 'exabgp.log');
  }

  static async start(opts: ExabgpOptions): Promise<Exabgp> {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-exabgp-'));
    const e = new Exabgp(dir, opts);
    await writeFile(join(dir, 'receiver.py'), RECEIVER);
    await writeFile(
      join(dir, 'exabgp.conf'),
      `process receiver {\n  run /usr/bin/python3 -u ${join(dir, 'receiver.py')} ${e.receivedFile};\n  encoder json;\n}\n\n${opts.neighbors}\n`,
    );
    await writeFile(e.receivedFile, '');
    await e.launch();
    return e;
  }

  private async launch(): Promise<void> {
    this.since = existsSync(this.receivedFile) ? (await readFile(this.receivedFile)).length : 0;
    const env = {
      ...process.env,
      'exabgp.tcp.bind': this.opts.address,
      'exabgp.tcp.port': String(this.opts.port),
      'exabgp.daemon.user': 'root',
      'exabgp.daemon.daemonize': 'false',
      'exabgp.log.destination': this.logFile,
      'exabgp.log.level': 'INFO',
      'exabgp.api.encoder': 'json',
      'exabgp.cli.enable': 'false',
    };
    this.output = '';
    const proc = spawn(EXABGP_BIN, [join(this.dir, 'exabgp.conf')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const keep = (d: Buffer): void => {
      this.output = (this.output + d.toString()).slice(-20_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    // Up once the reactor loaded the configuration (it binds its listener right then; the
    // speaker retries a refused connection anyway).
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`exabgp exited ${proc.exitCode}: ${this.output.slice(-2000)}`);
        return (await this.log()).includes('loaded new configuration successfully');
      },
      { timeoutMs: 20_000, intervalMs: 100, what: `ExaBGP to start (${this.output.slice(-500)})` },
    );
  }

  async log(): Promise<string> {
    return (existsSync(this.logFile) ? await readFile(this.logFile, 'utf8') : '') + this.output;
  }

  /** JSON messages the API process received from the current ExaBGP process. */
  async messages(): Promise<Array<Record<string, unknown>>> {
    const text = (await readFile(this.receivedFile)).subarray(this.since).toString('utf8');
    return text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Routes held now, by family ("ipv4 unicast") and prefix. */
  async routes(family: 'ipv4 unicast' | 'ipv6 unicast'): Promise<Map<string, ExaRoute>> {
    const table = new Map<string, ExaRoute>();
    for (const m of await this.messages()) {
      const neighbor = m['neighbor'] as Record<string, unknown> | undefined;
      if (m['type'] === 'state' && neighbor?.['state'] === 'down') table.clear();
      if (m['type'] !== 'update' || !neighbor) continue;
      const update = (neighbor['message'] as Record<string, Record<string, unknown>> | undefined)?.['update'];
      if (!update) continue;
      const withdraw = (update['withdraw'] as Record<string, Array<{ nlri: string }>> | undefined)?.[family] ?? [];
      for (const w of withdraw) table.delete(w.nlri);
      const announce = (update['announce'] as Record<string, Record<string, Array<{ nlri: string }>>> | undefined)?.[family] ?? {};
      for (const [nextHop, nlris] of Object.entries(announce)) {
        for (const n of nlris) table.set(n.nlri, { nextHop, attribute: (update['attribute'] as Record<string, unknown>) ?? {} });
      }
    }
    return table;
  }

  async restart(): Promise<void> {
    await this.kill('SIGTERM');
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
