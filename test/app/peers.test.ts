/**
 * GET /v1/peers, /readyz and vipcast_bgp_peer_established of a running vipcast with the real
 * built-in speaker, its neighbor a loopback address where nothing listens: the peer row carries
 * the fields with an RFC 4271 state name (never established), and /readyz is 200
 * because a peer is configured and the speaker runs. The established case, asserted at a real
 * BIRD, is test/e2e/builtin-bird.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Vipcast } from '../../src/app/vipcast.js';
import { createBackend } from '../../src/backend/create.js';
import { silentLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { waitFor } from '../harness/wait.js';
import { appConfig } from './config.js';
import { ScriptedHealth } from './scripted-health.js';

const RFC4271_STATES = ['idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup) await fn();
  cleanup = [];
});

describe('peers of a running vipcast (built-in speaker, unreachable neighbor)', () => {
  it('/v1/peers: {address, remote_as, state, since} with an RFC 4271 state; /readyz 200; established gauge 0', async () => {
    const peer = loopbackAddress();
    const port = await freePort(peer);
    const config = appConfig({ shutdown: { gracefulCommunity: false, gracePeriodMs: 0 } });
    config.bgp = {
      ...config.bgp,
      routerId: '10.0.0.1',
      neighbors: [{ address: peer, port, remoteAs: 65000, passive: false, ebgpMultihop: 2, families: ['ipv4'], holdTimeSec: 9 }],
    };
    const backend = await createBackend(config, silentLogger);
    const app = new Vipcast(config, { logger: silentLogger, metrics: new Metrics(), createBackend: () => backend, createHealth: (v) => new ScriptedHealth(v) });
    const { adminPort } = await app.start();
    cleanup.push(() => app.shutdown());
    const base = `http://127.0.0.1:${adminPort}`;

    // The speaker's first attempt reports a state change (the gauge appears); the state then
    // cycles through connect/active/idle with the connect-retry backoff.
    const series = `vipcast_bgp_peer_established{peer="${peer}"} 0`;
    await waitFor(async () => (await (await fetch(`${base}/metrics`)).text()).includes(series), { timeoutMs: 10_000, what: series });
    const rows = (await (await fetch(`${base}/v1/peers`)).json()) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ address: peer, port, remote_as: 65000 });
    expect(RFC4271_STATES).toContain(row.state);
    expect(row.state).not.toBe('established');
    expect(new Date(row.since as string).toISOString()).toBe(row.since);

    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(/0\/1 peers established/);
  });
});
