/**
 * Turns measured samples into the published tables (Markdown) and a JSON record. Only numbers
 * that were measured appear; a row that could not run says why ("not measured: ...").
 */
import type { MachineInfo } from './machine.js';
import { fmtMs, fmtRatio, summarize, type Summary } from './stats.js';

export type Row = Record<string, string>;

export function table(rows: Row[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const cols = Object.keys(rows[0]!);
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(cols), line(cols.map(() => '---')), ...rows.map((r) => line(cols.map((c) => r[c] ?? '')))].join('\n') + '\n';
}

export function machineTable(m: MachineInfo, loadEnd: number[], profile: string, wallSec: number): string {
  return table([
    { item: 'date', value: m.date },
    { item: 'profile', value: profile },
    { item: 'CPU', value: `${m.cpuModel}, ${m.cores} cores (as seen by the OS)` },
    { item: 'memory', value: `${m.memGiB} GiB` },
    { item: 'kernel', value: m.kernel },
    { item: 'Node', value: m.node },
    { item: 'BIRD', value: m.bird },
    { item: 'GoBGP (gobgpd)', value: m.gobgpd },
    { item: 'ExaBGP', value: m.exabgp },
    { item: 'load average (1/5/15 min) at start / end', value: `${m.loadStart.join(' ')} / ${loadEnd.join(' ')}` },
    { item: 'wall time of the run', value: `${Math.round(wallSec)} s` },
  ]);
}

/** "p50 (min..max)" in ms units. */
export function spread(s: Summary): string {
  return `${fmtMs(s.p50)} (${fmtMs(s.min)}..${fmtMs(s.max)})`;
}

export function maybeSummary(samples: number[] | undefined): Summary | undefined {
  return samples && samples.length > 0 ? summarize(samples) : undefined;
}

export { fmtMs, fmtRatio, summarize };
