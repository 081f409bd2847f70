/**
 * The HTTP service behind a VIP, as a separate process (dist/bench/lib/http-backend.js) that a
 * benchmark can kill -9 (the process dies: its sockets close at once) or SIGSTOP (it hangs:
 * connections stay open and nothing answers).
 */
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDaemon, stopDaemon, waitForOutput, type Daemon } from './proc.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'http-backend.js');

export class HttpBackend {
  private daemon?: Daemon;
  constructor(
    readonly host: string,
    readonly port: number,
    readonly count: number,
    private readonly logFile: string,
  ) {}

  url(i = 0): string {
    return `http://${this.host}:${this.port + i}/`;
  }

  get pid(): number | undefined {
    return this.daemon?.proc.pid;
  }

  async start(): Promise<void> {
    this.daemon = startDaemon('http-backend', process.execPath, [SCRIPT, this.host, String(this.port), String(this.count)], this.logFile);
    await waitForOutput(this.daemon.proc, /ready/, 15_000, `HTTP backend on ${this.host}:${this.port}`);
  }

  /** Sends a signal now (kill -9 / SIGSTOP), synchronously: the caller stamps the time around it. */
  signal(sig: 'SIGKILL' | 'SIGSTOP'): void {
    if (!this.daemon) throw new Error('backend not started');
    this.daemon.proc.kill(sig);
  }

  /** Ends the process whatever its state (a stopped process needs SIGKILL). */
  async stop(): Promise<void> {
    if (!this.daemon) return;
    await stopDaemon(this.daemon, 'SIGKILL', 5_000);
    this.daemon = undefined;
  }
}
