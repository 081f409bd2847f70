import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Vipcast } from '../../src/app/vipcast.js';
import { silentLogger } from '../../src/log/logger.js';
import { RecordingBackend, vipConfig } from '../manager/fixtures.js';
import { ScriptedHealth } from './scripted-health.js';
import { appConfig } from './config.js';
import { waitFor } from '../harness/wait.js';
import type { VipcastConfig } from '../../src/config/types.js';

const policy = { intervalMs: 200, fastIntervalMs: 100, timeoutMs: 100, rise: 1, fall: 1, jitter: 0 };

async function boot(config: VipcastConfig) {
  const backend = new RecordingBackend();
  let health!: ScriptedHealth;
  const app = new Vipcast(config, {
    logger: silentLogger,
    createBackend: () => backend,
    createHealth: (vips) => (health = new ScriptedHealth(vips)),
  });
  const { adminPort } = await app.start();
  return { app, backend, health, adminPort };
}

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup) await fn();
  cleanup = [];
});

describe('Vipcast app wiring', () => {
  it('drain file withdraws the VIP and its removal re-advertises', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-drain-'));
    const drainFile = join(dir, 'web');
    const { app, backend, health } = await boot(appConfig({ vips: [vipConfig('web', 10, { policy, drainFile })], shutdown: { gracefulCommunity: false, gracePeriodMs: 0 } }));
    cleanup.push(() => app.abort(), () => rm(dir, { recursive: true, force: true }));
    health.set('web', true);
    await waitFor(() => Object.keys(backend.last()).length === 1, { what: 'advertise' });
    await writeFile(drainFile, '');
    await waitFor(() => Object.keys(backend.last()).length === 0, { what: 'drain file to withdraw' });
    expect(app.manager.view()[0]).toMatchObject({ state: 'drained', reason: 'drain file present' });
    await rm(drainFile);
    await waitFor(() => Object.keys(backend.last()).length === 1, { what: 'undrain to re-advertise' });
  });

  it('a VIP failing since start shows the failing check as its reason', async () => {
    const { app, health } = await boot(appConfig());
    cleanup.push(() => app.abort());
    // The engine's status changes without a transition (down -> down).
    (health.status('web') as { reason: string }).reason = 'http: connect ECONNREFUSED 127.0.0.1:8080';
    expect(app.vipView()[0]).toMatchObject({ state: 'down', reason: 'http: connect ECONNREFUSED 127.0.0.1:8080' });
  });

  it('watchdog withdraws everything while the health loop is stalled, and /healthz says so', async () => {
    const { app, backend, health, adminPort } = await boot(appConfig());
    cleanup.push(() => app.abort());
    health.set('web', true);
    await waitFor(() => Object.keys(backend.last()).length === 1, { what: 'advertise' });
    health.frozen = true;
    await waitFor(() => Object.keys(backend.last()).length === 0, { what: 'watchdog withdraw', timeoutMs: 5000 });
    const res = await fetch(`http://127.0.0.1:${adminPort}/healthz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { reason: string }).reason).toMatch(/stalled/);
    health.frozen = false;
    await waitFor(() => Object.keys(backend.last()).length === 1, { what: 'recovery re-advertise', timeoutMs: 5000 });
    expect((await fetch(`http://127.0.0.1:${adminPort}/healthz`)).status).toBe(200);
  });

  it('reload keeps unchanged VIPs, starts new ones and withdraws removed ones', async () => {
    const config = appConfig({ vips: [vipConfig('web', 10, { policy }), vipConfig('dns', 11, { policy })] });
    const { app, backend, health } = await boot(config);
    cleanup.push(() => app.abort());
    health.set('web', true);
    health.set('dns', true);
    await waitFor(() => Object.keys(backend.last()).length === 2, { what: 'both advertised' });
    const before = backend.applies.length;
    await app.reload(appConfig({ vips: [vipConfig('web', 10, { policy }), vipConfig('ntp', 12, { policy })] }));
    expect(Object.keys(backend.last())).toEqual(['192.0.2.10/32']);
    expect(backend.applies.length).toBe(before + 1);
    health.set('ntp', true);
    await waitFor(() => Object.keys(backend.last()).length === 2, { what: 'new VIP advertised' });
  });

  it('shutdown advertises GRACEFUL_SHUTDOWN, withdraws, confirms and stops the backend', async () => {
    const { app, backend, health } = await boot(appConfig());
    health.set('web', true);
    await waitFor(() => Object.keys(backend.last()).length === 1, { what: 'advertise' });
    const done = app.shutdown();
    // Draining is alive: the GoBGP sidecar's preStop waits on /healthz meanwhile.
    expect(app.liveness()).toMatchObject({ ok: true, reason: expect.stringMatching(/shutting down/) });
    await done;
    const communities = backend.applies.map((s) => s.get('192.0.2.10/32')?.attributes.communities.join(' ') ?? '-');
    expect(communities.slice(-2)).toEqual(['65001:100 65535:0', '-']);
    expect(backend.resyncs).toBe(1);
    expect(health.stopped).toBe(true);
    expect(app.readiness().ready).toBe(false);
  });
});
