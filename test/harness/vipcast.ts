/**
 * Runs the built CLI (`dist/src/cli/main.js`, produced by `npm run build`, which `npm test`
 * runs first) as a real child process, the way operators run it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const VIPCAST_BIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
export const hasBuild = (): boolean => existsSync(VIPCAST_BIN);

export class VipcastProcess {
  readonly proc: ChildProcess;
  /** stderr (JSON logs), kept for failure messages only: tests assert what peers see. */
  output = '';
  stdout = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.proc = spawn(process.execPath, [VIPCAST_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stdout?.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  signal(sig: NodeJS.Signals): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(sig);
  }

  /** Waits for exit without sending anything; SIGKILL (and a failed test) after `timeoutMs`. */
  async waitExit(timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  /** Waits for exit, SIGKILLing after `timeoutMs`. */
  async stop(sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.signal(sig);
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}
