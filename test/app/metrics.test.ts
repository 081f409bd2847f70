/**
 * GET /metrics and GET /v1/vips of a running Vipcast (real health engine, real tcp listener on
 * loopback, real admin server): the series issue 2 names exist with exactly the named labels,
 * and the running app keeps them current (health, advertisement, transitions, check durations,
 * peer state). The backend is a recording one: what a BGP peer sees is asserted in test/e2e.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { Vipcast } from '../../src/app/vipcast.js';
import type { PeerListener, PeerStatus } from '../../src/backend/types.js';
import type { CheckSpec } from '../../src/health/types.js';
import { HealthEngine } from '../../src/health/engine.js';
import { silentLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { waitFor } from '../harness/wait.js';
import { RecordingBackend, vipConfig } from '../manager/fixtures.js';
import { appConfig } from './config.js';

/** A recording backend that also lets the test report peer state changes, as a real one does. */
class PeerReportingBackend extends RecordingBackend {
  private listeners: PeerListener[] = [];
  override onPeerChange(l: PeerListener): void {
    this.listeners.push(l);
  }
  report(state: PeerStatus['state']): void {
    this.peerState = state;
    for (const l of this.listeners) l({ address: '127.0.0.2', port: 179, remoteAs: 65000, state, since: new Date() });
  }
}

/** Prometheus text format: every sample of `family` as its label map and value. */
function samples(text: string, family: string, suffixes: string[] = ['']): Array<{ labels: Record<string, string>; value: number }> {
  const names = new Set(suffixes.map((s) => family + s));
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || !names.has(m[1]!)) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

function value(text: string, family: string, labels: Record<string, string>, suffix = ''): number | undefined {
  return samples(text, family, [suffix]).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === Object.keys(labels).length)?.value;
}

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

describe('metrics and /v1/vips of a running vipcast', () => {
  it('exports the named series with exactly their labels, kept current by health, reconcile and peer changes', async () => {
    const host = loopbackAddress();
    const server = net.createServer((s) => s.on('error', () => undefined));
    const port = await freePort(host);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    let listening = true;
    cleanup.push(() => (listening ? new Promise((resolve) => server.close(resolve)) : Promise.resolve()));

    const check: CheckSpec = { type: 'tcp', label: `tcp:${host}:${port}`, host, port, passive: false };
    const policy = { intervalMs: 300, fastIntervalMs: 150, timeoutMs: 250, rise: 1, fall: 1, jitter: 0 };
    const backend = new PeerReportingBackend();
    const app = new Vipcast(appConfig({ vips: [vipConfig('web', 10, { policy, checks: [check] })], shutdown: { gracefulCommunity: false, gracePeriodMs: 0 } }), {
      logger: silentLogger,
      metrics: new Metrics(),
      createBackend: () => backend,
      createHealth: (vips, o) => new HealthEngine(vips, { logger: o.logger, onCheckResult: o.onCheckResult }),
    });
    const { adminPort } = await app.start();
    cleanup.push(() => app.shutdown());
    const base = `http://127.0.0.1:${adminPort}`;
    const metrics = async (): Promise<string> => {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      return res.text();
    };
    const vips = async (): Promise<Array<Record<string, unknown>>> => (await (await fetch(`${base}/v1/vips`)).json()) as Array<Record<string, unknown>>;

    backend.report('established');
    await waitFor(async () => value(await metrics(), 'vipcast_vip_advertised', { vip: 'web' }) === 1, { timeoutMs: 10_000, what: 'vipcast_vip_advertised{vip="web"} 1' });
    const up = await metrics();

    // Exactly the label names issue 2 gives each series (histogram buckets add only `le`).
    const labelSets = (family: string, suffixes?: string[]): string[] =>
      [...new Set(samples(up, family, suffixes).map((s) => Object.keys(s.labels).filter((k) => k !== 'le').sort().join(',')))];
    expect(labelSets('vipcast_vip_advertised')).toEqual(['vip']);
    expect(labelSets('vipcast_vip_healthy')).toEqual(['vip']);
    expect(labelSets('vipcast_vip_transitions_total')).toEqual(['to,vip']);
    expect(labelSets('vipcast_check_duration_seconds', ['_bucket', '_sum', '_count'])).toEqual(['check,vip']);
    expect(labelSets('vipcast_bgp_peer_established')).toEqual(['peer']);
    expect(up).toMatch(/^# TYPE vipcast_vip_transitions_total counter$/m);
    expect(up).toMatch(/^# TYPE vipcast_check_duration_seconds histogram$/m);

    expect(value(up, 'vipcast_vip_healthy', { vip: 'web' })).toBe(1);
    expect(value(up, 'vipcast_vip_transitions_total', { vip: 'web', to: 'up' })).toBe(1);
    expect(value(up, 'vipcast_check_duration_seconds', { vip: 'web', check: check.label }, '_count')).toBeGreaterThanOrEqual(1);
    expect(value(up, 'vipcast_bgp_peer_established', { peer: '127.0.0.2' })).toBe(1);

    const row = (await vips())[0]!;
    expect(Object.keys(row)).toEqual(expect.arrayContaining(['name', 'prefix', 'healthy', 'advertised', 'state', 'reason', 'since']));
    expect(row).toMatchObject({ name: 'web', prefix: '192.0.2.10/32', healthy: true, advertised: true, state: 'up' });
    expect(new Date(row.since as string).toISOString()).toBe(row.since);

    // The service goes away: healthy and advertised drop to 0, a transition to down is counted,
    // and /v1/vips says which check failed and why.
    await new Promise((resolve) => server.close(resolve));
    listening = false;
    await waitFor(async () => value(await metrics(), 'vipcast_vip_advertised', { vip: 'web' }) === 0, { timeoutMs: 10_000, what: 'vipcast_vip_advertised{vip="web"} 0' });
    const down = await metrics();
    expect(value(down, 'vipcast_vip_healthy', { vip: 'web' })).toBe(0);
    expect(value(down, 'vipcast_vip_transitions_total', { vip: 'web', to: 'down' })).toBe(1);
    const failing = (await vips())[0]!;
    expect(failing).toMatchObject({ healthy: false, advertised: false, state: 'down' });
    expect(failing.reason).toContain(check.label);
    expect(failing.reason).toContain('ECONNREFUSED');

    backend.report('active');
    expect(value(await metrics(), 'vipcast_bgp_peer_established', { peer: '127.0.0.2' })).toBe(0);
  });

  it('a VIP that has never been healthy is exported as vipcast_vip_healthy 0 (not missing)', async () => {
    const host = loopbackAddress();
    const port = await freePort(host); // nothing listens: refused from the first run
    const check: CheckSpec = { type: 'tcp', label: `tcp:${host}:${port}`, host, port, passive: false };
    const policy = { intervalMs: 300, fastIntervalMs: 150, timeoutMs: 250, rise: 1, fall: 1, jitter: 0 };
    const app = new Vipcast(appConfig({ vips: [vipConfig('never', 11, { policy, checks: [check] })], shutdown: { gracefulCommunity: false, gracePeriodMs: 0 } }), {
      logger: silentLogger,
      metrics: new Metrics(),
      createBackend: () => new PeerReportingBackend(),
      createHealth: (vips, o) => new HealthEngine(vips, { logger: o.logger, onCheckResult: o.onCheckResult }),
    });
    const { adminPort } = await app.start();
    cleanup.push(() => app.shutdown());
    const text = async (): Promise<string> => (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    // Wait until checks have failed, so the gauge is not merely racing the first round.
    await waitFor(async () => (value(await text(), 'vipcast_check_failures_total', { vip: 'never', check: check.label }) ?? 0) >= 2, { timeoutMs: 10_000, what: 'two failed checks' });
    const t = await text();
    expect(value(t, 'vipcast_vip_healthy', { vip: 'never' })).toBe(0);
    expect(value(t, 'vipcast_vip_advertised', { vip: 'never' })).toBe(0);
  });
});
