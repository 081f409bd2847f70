/**
 * Child processes for the benchmarks: every daemon's output goes to a log file (kept for the
 * post-mortem when a measurement fails), every stop is bounded (SIGKILL after a grace time),
 * and CPU/RSS are read from /proc the way `top` does, over the whole process tree (ExaBGP's
 * healthcheck forks a shell and curl per check: their CPU is part of what it costs).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { sleep } from '../../test/harness/wait.js';

export interface Daemon {
  proc: ChildProcess;
  name: string;
  logFile: string;
  /** Resolves when the process exits (with its code or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startDaemon(name: string, cmd: string, args: string[], logFile: string, opts: SpawnOptions = {}): Daemon {
  const log = createWriteStream(logFile, { flags: 'a' });
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
  proc.once('error', (err) => log.write(`spawn error: ${err.message}\n`));
  return { proc, name, logFile, exited };
}

/** Sends `signal`, waits up to `graceMs`, then SIGKILL; returns how long the exit took. */
export async function stopDaemon(d: Daemon, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<number> {
  const t0 = performance.now();
  if (d.proc.exitCode !== null || d.proc.signalCode !== null) return 0;
  d.proc.kill(signal);
  const timer = setTimeout(() => d.proc.kill('SIGKILL'), graceMs);
  await d.exited;
  clearTimeout(timer);
  return performance.now() - t0;
}

/** Last lines of a daemon's log, for error messages. */
export async function tail(file: string, lines = 15): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(no log: ${(err as Error).message})`;
  }
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

async function readStat(pid: number): Promise<ProcStat | undefined> {
  let raw: string;
  try {
    raw = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited between readdir and read: its time is in its parent's cutime
  }
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  const num = (i: number): number => Number(f[i - 3]);
  return { pid, ppid: num(4), ticks: num(14) + num(15) + num(16) + num(17) };
}

/** PIDs of `root` and all its live descendants. */
export async function processTree(root: number): Promise<number[]> {
  const stats: ProcStat[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = await readStat(Number(name));
    if (s) stats.push(s);
  }
  const tree = new Set([root]);
  // Bounded: each pass adds at least one process or stops.
  for (let pass = 0; pass < stats.length; pass++) {
    const before = tree.size;
    for (const s of stats) if (tree.has(s.ppid)) tree.add(s.pid);
    if (tree.size === before) break;
  }
  return [...tree];
}

/** CPU seconds used so far by the tree (live processes plus the children they reaped). */
export async function treeCpuSeconds(root: number): Promise<number> {
  let ticks = 0;
  for (const pid of await processTree(root)) ticks += (await readStat(pid))?.ticks ?? 0;
  return ticks / CLOCK_TICKS;
}

/** Linux's USER_HZ: /proc/<pid>/stat counts in these. */
export const CLOCK_TICKS = 100;

async function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Sum of resident memory over the tree, MiB. */
export async function treeRssMiB(root: number): Promise<number> {
  let kib = 0;
  for (const pid of await processTree(root)) kib += await statusKiB(pid, 'VmRSS');
  return kib / 1024;
}

/** Peak resident memory of one process (VmHWM), MiB. */
export async function peakRssMiB(pid: number): Promise<number> {
  return (await statusKiB(pid, 'VmHWM')) / 1024;
}

/** Waits for a line matching `re` on a process's stdout, bounded. */
export async function waitForOutput(proc: ChildProcess, re: RegExp, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${seen.slice(-300)}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      seen += d.toString();
      const m = re.exec(seen);
      if (m) done(undefined, m[0]);
    };
    const onExit = (): void => done(new Error(`${what}: process exited: ${seen.slice(-300)}`));
    function done(err?: Error, value?: string): void {
      clearTimeout(timer);
      proc.stdout?.off('data', onData);
      proc.off('exit', onExit);
      if (err) reject(err);
      else resolve(value ?? '');
    }
    proc.stdout?.on('data', onData);
    proc.once('exit', onExit);
  });
}

export { sleep };
