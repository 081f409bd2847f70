/**
 * `npm run bench` (full profile, ~30 min) and `npm run bench -- --quick` (smoke run for CI,
 * about a minute); `--only bulk,capacity` runs a subset of the sections. Prints the results as
 * Markdown tables with the machine described, and writes results.md and results.json to --out
 * DIR (default: a temp dir).
 * Exit code 1 if any measurement failed (a subject that cannot run here is "not measured",
 * not a failure). Each measurement is bounded in time; the whole run stops by itself.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as bulk from './bulk.js';
import { exabgpCapacity, measureCapacity, vipcastCapacity, type CapacityResult, type CapacitySubject } from './capacity.js';
import { exabgpSubject, measureFailover, vipcastSubject, type FailoverResult, type FailoverSubject, type FaultMode } from './failover.js';
import { currentLoad, describeMachine } from './lib/machine.js';
import { fmtMs, fmtRatio, machineTable, maybeSummary, spread, summarize, table, type Row } from './lib/report.js';
import { measureReconcile, type ReconcileResult } from './reconcile.js';

export interface Profile {
  name: 'quick' | 'full';
  failover: { trials: number; stopTrials: number; intervalMs: number; timeoutMs: number; kill: FailoverSubject[]; stop: FailoverSubject[] };
  /** subjects: names in BULK_SUBJECTS (default all). */
  bulk: { sizes: number[]; trials: number; cliN: number; timeoutMs: number; subjects?: string[] };
  capacity: { runs: { subject: CapacitySubject; n: number }[]; windowMs: number };
  reconcile: { paths: number; trials: number };
}

const passiveBuiltin = vipcastSubject('builtin', true);
const passiveGobgp = vipcastSubject('gobgp', true);

export const PROFILES: Record<'quick' | 'full', Profile> = {
  quick: {
    name: 'quick',
    failover: { trials: 2, stopTrials: 1, intervalMs: 500, timeoutMs: 300, kill: [exabgpSubject, passiveBuiltin, passiveGobgp], stop: [exabgpSubject, passiveBuiltin] },
    bulk: { sizes: [1_000], trials: 1, cliN: 20, timeoutMs: 60_000 },
    capacity: { runs: [{ subject: vipcastCapacity, n: 20 }, { subject: exabgpCapacity, n: 3 }], windowMs: 3_000 },
    reconcile: { paths: 1_000, trials: 1 },
  },
  full: {
    name: 'full',
    failover: {
      trials: 30,
      stopTrials: 20,
      intervalMs: 1_000,
      timeoutMs: 500,
      kill: [exabgpSubject, passiveBuiltin, passiveGobgp, vipcastSubject('builtin', false), vipcastSubject('gobgp', false)],
      stop: [exabgpSubject, passiveBuiltin, passiveGobgp],
    },
    bulk: { sizes: [1_000, 10_000, 100_000], trials: 3, cliN: 1_000, timeoutMs: 600_000 },
    capacity: {
      runs: [
        { subject: vipcastCapacity, n: 1_000 },
        { subject: vipcastCapacity, n: 100 },
        { subject: exabgpCapacity, n: 100 },
      ],
      windowMs: 60_000,
    },
    reconcile: { paths: 10_000, trials: 5 },
  },
};

interface Outcome {
  failures: string[];
  json: Record<string, unknown>;
  md: string[];
}

/** Runs `fn`; a failure is recorded (and printed) instead of aborting the remaining measurements. */
async function attempt<T>(out: Outcome, what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const msg = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    out.failures.push(msg);
    process.stderr.write(`FAILED ${msg}\n`);
    return undefined;
  }
}

function progress(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** "p50 / p99" of optional samples. */
function pair(samples: number[] | undefined): string {
  const s = maybeSummary(samples);
  return s ? `${fmtMs(s.p50)} / ${fmtMs(s.p99)}` : '-';
}

async function runFailover(p: Profile, out: Outcome): Promise<void> {
  const f = p.failover;
  const rows: Row[] = [];
  const raw: Record<string, Omit<FailoverResult, 'subject' | 'mode'>> = {};
  for (const mode of ['kill', 'stop'] as FaultMode[]) {
    const subjects = mode === 'kill' ? f.kill : f.stop;
    let exaP50: number | undefined;
    let exaP99: number | undefined;
    for (const s of subjects) {
      const why = s.unavailable();
      const label = `${s.name} / ${mode === 'kill' ? 'kill -9' : 'SIGSTOP'}`;
      if (why) {
        rows.push({ subject: label, trials: '0', p50: `not measured: ${why}` });
        continue;
      }
      progress(`failover ${label}`);
      const r = await attempt(out, `failover ${label}`, () => measureFailover(s, { trials: mode === 'kill' ? f.trials : f.stopTrials, mode, intervalMs: f.intervalMs, timeoutMs: f.timeoutMs }));
      if (!r) {
        rows.push({ subject: label, trials: '0', p50: 'FAILED (see log)' });
        continue;
      }
      raw[label] = { samplesMs: r.samplesMs, detectMs: r.detectMs, pipelineMs: r.pipelineMs, detectors: r.detectors };
      const sum = summarize(r.samplesMs);
      if (s === exabgpSubject) [exaP50, exaP99] = [sum.p50, sum.p99];
      // Periodic detection can take up to interval x fall (+ the check timeout for a hang).
      const bound = f.intervalMs + (mode === 'stop' ? f.timeoutMs : 0);
      rows.push({
        subject: label,
        trials: String(sum.n),
        p50: fmtMs(sum.p50),
        p99: fmtMs(sum.p99),
        min: fmtMs(sum.min),
        max: fmtMs(sum.max),
        'p99 - detection bound': fmtMs(sum.p99 - bound),
        'vipcast detection p50 / p99': pair(r.detectMs),
        'vipcast decision -> BIRD p50 / p99': pair(r.pipelineMs),
        detectors: r.detectors ? Object.entries(r.detectors).map(([k, v]) => `${k} ${v}`).join(', ') : '-',
        'p50 / ExaBGP p50': fmtRatio(sum.p50, exaP50),
        'p99 / ExaBGP p99': fmtRatio(sum.p99, exaP99),
      });
    }
  }
  out.json.failover = { intervalMs: f.intervalMs, timeoutMs: f.timeoutMs, samplesMs: raw };
  out.md.push(`## Failover latency (interval ${f.intervalMs} ms, fall 1, rise 1, check timeout ${f.timeoutMs} ms)\n`, table(rows));
}

/**
 * The bulk subjects by their --bulk-subjects name, in table order. The `-warm` ones keep
 * vipcast's worker thread across trials (see vipcastBackendSubject): not in the default run.
 */
export const BULK_SUBJECTS: Record<string, bulk.BulkSubject> = {
  raw: bulk.rawSubject,
  builtin: bulk.vipcastBackendSubject('builtin'),
  'builtin-warm': bulk.vipcastBackendSubject('builtin', { warm: true }),
  stream: bulk.gobgpStreamSubject,
  gobgp: bulk.vipcastBackendSubject('gobgp'),
  'gobgp-warm': bulk.vipcastBackendSubject('gobgp', { warm: true }),
  unary: bulk.gobgpUnarySubject,
  cli: bulk.gobgpCliSubject,
  exabgp: bulk.exabgpSubject,
};
const DEFAULT_BULK_SUBJECTS = ['raw', 'builtin', 'stream', 'gobgp', 'unary', 'cli', 'exabgp'];

async function runBulk(p: Profile, out: Outcome): Promise<void> {
  const b = p.bulk;
  const subjects = (b.subjects ?? DEFAULT_BULK_SUBJECTS).map((k) => BULK_SUBJECTS[k]!);
  const rows: Row[] = [];
  const raw: Record<string, bulk.BulkTiming[]> = {};
  for (const n of b.sizes) {
    const totals = new Map<bulk.BulkSubject, number>();
    const sizeOf = (s: bulk.BulkSubject): number => (s === bulk.gobgpCliSubject ? Math.min(n, b.cliN) : n);
    // One CLI size only: ~30 ms per process.
    const active = subjects.filter((s) => s !== bulk.gobgpCliSubject || n === b.sizes[0]);
    // Trials alternate between the subjects (A B C, A B C, ...), so that a change in the load of a
    // shared machine weighs on all of them alike instead of on whichever ran during it.
    const timings = new Map<bulk.BulkSubject, bulk.BulkTiming[]>(active.map((s) => [s, []]));
    const failed = new Set<bulk.BulkSubject>();
    for (let t = 0; t < b.trials; t++) {
      for (const s of active) {
        if (failed.has(s)) continue;
        progress(`bulk N=${sizeOf(s)} ${s.name} (trial ${t + 1}/${b.trials})`);
        const r = await attempt(out, `bulk N=${sizeOf(s)} ${s.name}`, () => bulk.measureBulk(s, sizeOf(s), b.timeoutMs));
        if (r) timings.get(s)!.push(r);
        else failed.add(s);
      }
    }
    for (const s of active) {
      const nn = sizeOf(s);
      const label = `${s.name}`;
      const trials = timings.get(s)!;
      raw[`${nn} ${label}`] = trials;
      if (trials.length === 0) {
        rows.push({ N: String(nn), subject: label, trials: '0', advertise: 'FAILED (see log)' });
        continue;
      }
      const adv = summarize(trials.map((x) => x.advertiseMs));
      const tot = summarize(trials.map((x) => x.totalMs));
      const wd = maybeSummary(trials.flatMap((x) => (x.withdrawMs === undefined ? [] : [x.withdrawMs])));
      totals.set(s, tot.p50);
      rows.push({
        N: String(nn),
        subject: label,
        trials: String(trials.length),
        'first route -> all N, p50 (min..max)': spread(adv),
        'start -> all N, p50 (min..max)': spread(tot),
        'x raw limit (start -> all N)': nn === n ? fmtRatio(tot.p50, totals.get(bulk.rawSubject)) : '-',
        'x GoBGP AddPathStream': s.name.includes('GoBGP backend') ? fmtRatio(tot.p50, totals.get(bulk.gobgpStreamSubject)) : '-',
        'withdraw all, p50 (min..max)': wd ? spread(wd) : 'not measured',
        'withdrawn by': s.withdrawHow,
      });
    }
  }
  for (const s of subjects) if ('close' in s) await (s as { close(): Promise<void> }).close();
  out.json.bulk = raw;
  out.md.push(
    '## Bulk advertisement into BIRD (/32 VIPs, healthy from the start)\n',
    'Resolution: BIRD\'s imported-route counter polled every 2 ms over its control socket.\n',
    table(rows),
  );
}

async function runCapacity(p: Profile, out: Outcome): Promise<void> {
  const c = p.capacity;
  const rows: Row[] = [];
  const raw: CapacityResult[] = [];
  for (const { subject, n } of c.runs) {
    const why = subject.unavailable();
    if (why) {
      rows.push({ subject: subject.name, VIPs: String(n), 'CPU % of one core': `not measured: ${why}` });
      continue;
    }
    progress(`capacity ${subject.name} N=${n}`);
    const r = await attempt(out, `capacity ${subject.name} N=${n}`, () => measureCapacity(subject, n, c.windowMs));
    if (!r) {
      rows.push({ subject: subject.name, VIPs: String(n), 'CPU % of one core': 'FAILED (see log)' });
      continue;
    }
    raw.push(r);
    rows.push({
      subject: r.subject,
      VIPs: String(r.vips),
      'processes (max seen)': String(r.processes),
      window: `${r.windowSec.toFixed(1)} s`,
      'CPU % of one core': r.cpuPercent.toFixed(1),
      'peak RSS': `${r.peakRssMiB.toFixed(0)} MiB`,
    });
  }
  out.json.capacity = raw;
  out.md.push('## Check capacity (HTTP check per VIP, 1 s interval)\n', table(rows));
}

async function runReconcile(p: Profile, out: Outcome): Promise<void> {
  const r = p.reconcile;
  progress(`reconcile ${r.paths} paths`);
  const res: ReconcileResult | undefined = await attempt(out, 'reconcile', () => measureReconcile(r.paths, r.trials));
  out.json.reconcile = res;
  if (!res) {
    out.md.push('## Reconcile cost\n', 'FAILED (see log)\n');
    return;
  }
  const row = (what: string, s: number[] | undefined): Row => {
    const sum = maybeSummary(s);
    return { pass: what, trials: String(s?.length ?? 0), 'p50 (min..max)': sum ? spread(sum) : `not measured: ${res.notMeasured ?? 'no samples'}` };
  };
  out.md.push(
    `## Reconcile cost (${res.paths} paths in GoBGP)\n`,
    table([
      row('baseline: ListPath (only_binary) + prefix diff, by the bench', res.baselineMs),
      row('vipcast GoBGP backend resync(), no drift', res.vipcastCleanMs),
      row('vipcast GoBGP backend resync(), 1% of paths deleted behind its back', res.vipcastDriftMs),
    ]),
  );
}

export const SECTIONS = ['failover', 'bulk', 'capacity', 'reconcile'] as const;
export type Section = (typeof SECTIONS)[number];

const RUNNERS: Record<Section, (p: Profile, out: Outcome) => Promise<void>> = {
  failover: runFailover,
  bulk: runBulk,
  capacity: runCapacity,
  reconcile: runReconcile,
};

/** `only`: the sections to run, in SECTIONS order (default all); `bulk`: overrides of the profile's bulk settings. */
export async function runBench(
  profileName: 'quick' | 'full',
  outDir?: string,
  only: readonly Section[] = SECTIONS,
  bulkOverrides: Partial<Profile['bulk']> = {},
): Promise<{ failures: string[]; markdown: string; dir: string }> {
  const base = PROFILES[profileName];
  const p: Profile = { ...base, bulk: { ...base.bulk, ...bulkOverrides } };
  const t0 = performance.now();
  const machine = await describeMachine();
  const out: Outcome = { failures: [], json: { machine, profile: p.name, sections: only }, md: [] };
  for (const section of SECTIONS) if (only.includes(section)) await RUNNERS[section](p, out);
  const wallSec = (performance.now() - t0) / 1000;
  const head = ['# vipcast benchmark results\n', machineTable(machine, currentLoad(), p.name, wallSec)];
  const failures = out.failures.length ? ['## Failures\n', ...out.failures.map((f) => `- ${f.split('\n')[0]}\n`)] : [];
  const markdown = [...head, ...out.md, ...failures].join('\n');
  const dir = outDir ?? join(tmpdir(), `vipcast-bench-${machine.date.replace(/[:.]/g, '-')}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'results.md'), markdown);
  await writeFile(join(dir, 'results.json'), JSON.stringify({ ...out.json, failures: out.failures, wallSec }, null, 2));
  return { failures: out.failures, markdown, dir };
}

/** `--only bulk,capacity`: a subset of the sections; an unknown name is an error, not a silent skip. */
function parseOnly(args: string[]): Section[] {
  const i = args.indexOf('--only');
  if (i < 0) return [...SECTIONS];
  const names = (args[i + 1] ?? '').split(',').filter(Boolean);
  const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0) throw new Error(`--only takes a comma-separated list of ${SECTIONS.join(', ')}; got "${args[i + 1] ?? ''}"`);
  return names as Section[];
}

/**
 * `--bulk-sizes 10000,100000`, `--bulk-trials 5`, `--bulk-subjects stream,gobgp` (names of
 * BULK_SUBJECTS): a narrower bulk run, e.g. the GoBGP backend against AddPathStream at one size.
 */
export function parseBulkOverrides(args: string[]): Partial<Profile['bulk']> {
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (!v || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  const count = (flag: string, text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} takes positive integers; got "${text}"`);
    return n;
  };
  const o: Partial<Profile['bulk']> = {};
  const sizes = value('--bulk-sizes');
  if (sizes) o.sizes = sizes.split(',').map((t) => count('--bulk-sizes', t));
  const trials = value('--bulk-trials');
  if (trials) o.trials = count('--bulk-trials', trials);
  const subjects = value('--bulk-subjects');
  if (subjects) {
    o.subjects = subjects.split(',');
    const bad = o.subjects.filter((s) => !(s in BULK_SUBJECTS));
    if (bad.length > 0) throw new Error(`--bulk-subjects takes a comma-separated list of ${Object.keys(BULK_SUBJECTS).join(', ')}; got "${subjects}"`);
  }
  return o;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const outDir = outIdx >= 0 ? args[outIdx + 1] : undefined;
  const r = await runBench(args.includes('--quick') ? 'quick' : 'full', outDir, parseOnly(args), parseBulkOverrides(args));
  process.stdout.write(r.markdown + '\n');
  process.stderr.write(`results written to ${r.dir}\n`);
  process.exitCode = r.failures.length ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
