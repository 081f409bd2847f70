/**
 * bind_interface and the ordered shutdown (issue 2): the VIP's address goes onto the interface
 * at start and comes off only after the backend applied (and confirmed) the withdraw, never
 * before (ExaBGP #993: clients refused while routers still send traffic). The `ip` command is
 * recorded, not run: test/net covers the real iproute2 calls in a network namespace.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Vipcast } from '../../src/app/vipcast.js';
import type { DesiredSet } from '../../src/backend/types.js';
import { silentLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { InterfaceBinder } from '../../src/net/bind-interface.js';
import { waitFor } from '../harness/wait.js';
import { RecordingBackend, vipConfig } from '../manager/fixtures.js';
import { appConfig } from './config.js';
import { ScriptedHealth } from './scripted-health.js';

const policy = { intervalMs: 200, fastIntervalMs: 100, timeoutMs: 100, rise: 1, fall: 1, jitter: 0 };

/** One timeline for backend applies, confirmations and `ip` commands. */
class TimelineBackend extends RecordingBackend {
  constructor(readonly events: string[]) {
    super();
  }
  override async apply(desired: DesiredSet): Promise<void> {
    await super.apply(desired);
    this.events.push(`apply ${[...desired.keys()].sort().join(',') || '-'}`);
  }
  override resync(): Promise<void> {
    this.events.push('confirm');
    return super.resync();
  }
}

async function boot(names: Array<[string, number]>) {
  const events: string[] = [];
  const backend = new TimelineBackend(events);
  const binder = new InterfaceBinder(silentLogger, async (args) => {
    await Promise.resolve();
    events.push(`ip ${args.join(' ')}`);
  });
  let health!: ScriptedHealth;
  const vips = names.map(([name, n]) => vipConfig(name, n, { policy, bindInterface: 'lo' }));
  const app = new Vipcast(appConfig({ vips, shutdown: { gracefulCommunity: true, gracePeriodMs: 200 } }), {
    logger: silentLogger,
    metrics: new Metrics(),
    binder,
    createBackend: () => backend,
    createHealth: (v) => (health = new ScriptedHealth(v)),
  });
  await app.start();
  return { app, backend, health, events };
}

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup) await fn();
  cleanup = [];
});

describe('bind_interface around the ordered shutdown and reload', () => {
  it('the address is added at start and removed only after the withdraw was applied and confirmed', async () => {
    const { app, backend, health, events } = await boot([['web', 10]]);
    cleanup.push(() => app.shutdown());
    expect(events).toContain('ip -4 addr add 192.0.2.10/32 dev lo');
    health.set('web', true);
    await waitFor(() => Object.keys(backend.last()).length === 1, { what: 'advertise' });
    await app.shutdown();
    const withdraw = events.lastIndexOf('apply -');
    const confirm = events.lastIndexOf('confirm');
    const del = events.indexOf('ip -4 addr del 192.0.2.10/32 dev lo');
    expect(withdraw).toBeGreaterThan(-1);
    expect(del).toBeGreaterThan(confirm);
    expect(confirm).toBeGreaterThan(withdraw);
    // The GRACEFUL_SHUTDOWN re-advertisement came before the withdraw.
    const communities = backend.applies.map((s) => s.get('192.0.2.10/32')?.attributes.communities.join(' ') ?? '-');
    expect(communities.slice(-2)).toEqual(['65001:100 65535:0', '-']);
  });

  it('a VIP removed by a reload: withdrawn first, then its address removed; the kept VIP keeps its address', async () => {
    const { app, backend, health, events } = await boot([['web', 10], ['dns', 11]]);
    cleanup.push(() => app.shutdown());
    health.set('web', true);
    health.set('dns', true);
    await waitFor(() => Object.keys(backend.last()).length === 2, { what: 'both advertised' });
    events.length = 0;
    await app.reload(appConfig({ vips: [vipConfig('web', 10, { policy, bindInterface: 'lo' })], shutdown: { gracefulCommunity: true, gracePeriodMs: 200 } }));
    const withdraw = events.indexOf('apply 192.0.2.10/32');
    const del = events.indexOf('ip -4 addr del 192.0.2.11/32 dev lo');
    expect(withdraw).toBeGreaterThan(-1);
    expect(del).toBeGreaterThan(withdraw);
    expect(events.filter((e) => e.includes('192.0.2.10/32 dev lo'))).toEqual([]);
  });
});
