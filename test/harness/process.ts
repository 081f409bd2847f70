/** Child-process helpers shared by the daemon harnesses (BIRD, FRR, gobgpd, ExaBGP). */
import type { ChildProcess } from 'node:child_process';

/** True once the process has exited, by itself or by a signal (then exitCode is null). */
export function hasExited(proc: ChildProcess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

/** Sends `sig`, escalates to SIGKILL after `graceMs`, and resolves when the process is gone. */
export async function stopProcess(proc: ChildProcess | undefined, sig: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
  if (!proc || hasExited(proc)) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill(sig);
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
