/**
 * The benchmark suite's smoke run (`npm run bench -- --quick`) end to end: every measurement
 * must produce numbers. No timing assertions: CI machines are noisy; this catches a broken
 * measurement (a daemon that no longer starts, a parser that no longer matches BIRD's output),
 * not a slow one. Needs the build (npm test builds first) and the daemons from
 * test/setup/install-deps.sh.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const RUN = join(import.meta.dirname, '../../dist/bench/run.js');

interface Results {
  failover: { samplesMs: Record<string, { samplesMs: number[]; pipelineMs?: number[] }> };
  bulk: Record<string, { advertiseMs: number; totalMs: number }[]>;
  capacity: { subject: string; cpuPercent: number; peakRssMiB: number }[];
  reconcile: { baselineMs: number[]; vipcastCleanMs?: number[] };
  failures: string[];
}

function runQuick(out: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RUN, '--quick', '--out', out], { timeout: 300_000, maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

describe('benchmark suite, quick profile', () => {
  it('runs every measurement and reports numbers for each subject', { timeout: 320_000 }, async () => {
    expect(existsSync(RUN), `${RUN} missing: run npm run build first`).toBe(true);
    const out = await mkdtemp(join(tmpdir(), 'vipcast-bench-test-'));
    try {
      const { code, stderr } = await runQuick(out);
      const results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as Results;
      expect(results.failures, stderr.slice(-3000)).toEqual([]);
      expect(code).toBe(0);

      const failover = Object.entries(results.failover.samplesMs);
      expect(failover.map(([k]) => k)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^ExaBGP.*kill/), expect.stringMatching(/^vipcast built-in.*kill/), expect.stringMatching(/^vipcast \+ GoBGP.*kill/), expect.stringMatching(/SIGSTOP/)]),
      );
      for (const [name, r] of failover) {
        expect(r.samplesMs.length).toBeGreaterThan(0);
        for (const s of r.samplesMs) expect(Number.isFinite(s)).toBe(true);
        // vipcast's own log splits each trial into detection and the path to BIRD.
        if (name.startsWith('vipcast')) expect(r.pipelineMs?.length).toBe(r.samplesMs.length);
      }

      const bulk = Object.entries(results.bulk);
      expect(bulk.length).toBeGreaterThanOrEqual(7);
      for (const [, trials] of bulk) {
        expect(trials.length).toBeGreaterThan(0);
        for (const t of trials) expect(t.totalMs).toBeGreaterThan(0);
      }

      expect(results.capacity.map((c) => c.subject)).toEqual(expect.arrayContaining([expect.stringMatching(/^vipcast/), expect.stringMatching(/^ExaBGP/)]));
      for (const c of results.capacity) {
        expect(c.cpuPercent).toBeGreaterThanOrEqual(0);
        expect(c.peakRssMiB).toBeGreaterThan(0);
      }

      expect(results.reconcile.baselineMs.length).toBeGreaterThan(0);
      expect(results.reconcile.vipcastCleanMs?.length ?? 0).toBeGreaterThan(0);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
