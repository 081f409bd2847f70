/**
 * Describes the machine a run happened on, so published numbers carry their context: CPU
 * model, cores, memory, Node and daemon versions, and the load average before and after (this
 * machine is shared; a loaded run is reported as such, not hidden).
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MachineInfo {
  date: string;
  cpuModel: string;
  cores: number;
  memGiB: number;
  kernel: string;
  node: string;
  bird: string;
  gobgpd: string;
  exabgp: string;
  loadStart: number[];
}

/** First line of a version command's output, or why it could not be read. */
async function versionOf(cmd: string, args: string[], pattern: RegExp): Promise<string> {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 20_000 });
    const m = pattern.exec(stdout + stderr);
    return m?.[1] ?? 'unknown';
  } catch (err) {
    return `unavailable (${(err as Error).message.split('\n')[0]})`;
  }
}

export async function describeMachine(): Promise<MachineInfo> {
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    bird: await versionOf('/usr/sbin/bird', ['--version'], /BIRD version (\S+)/),
    gobgpd: await versionOf('gobgpd', ['--version'], /gobgpd version (\S+)/),
    exabgp: await versionOf('exabgp', ['--version'], /ExaBGP : (\S+)/),
    loadStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export function currentLoad(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}
