import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BgpManager } from '../../src/manager/bgp-manager.js';
import { Metrics } from '../../src/metrics/metrics.js';
import type { VipConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/log/logger.js';
import { RecordingBackend, attrs, vipConfig } from './fixtures.js';

function setup(opts: { graceful?: boolean; graceMs?: number } = {}) {
  const backend = new RecordingBackend();
  const metrics = new Metrics();
  const manager = new BgpManager({
    backend,
    logger: silentLogger,
    metrics,
    gracefulCommunity: opts.graceful ?? false,
    gracePeriodMs: opts.graceMs ?? 0,
    resyncIntervalMs: 0,
  });
  return { backend, manager, metrics };
}

const up = { healthy: true, reason: 'ok', detector: 'periodic' as const };
const down = { healthy: false, reason: 'http: status 503', detector: 'periodic' as const };

describe('BgpManager', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('advertises healthy VIPs only and withdraws on down', async () => {
    const { backend, manager } = setup();
    manager.setVips([vipConfig('web', 10), vipConfig('dns', 11)]);
    manager.start();
    await manager.flush();
    expect(backend.last()).toEqual({});
    manager.health('web', up);
    await manager.flush();
    expect(Object.keys(backend.last())).toEqual(['192.0.2.10/32']);
    manager.health('web', down);
    await manager.flush();
    expect(backend.last()).toEqual({});
    const web = manager.view().find((v) => v.name === 'web')!;
    expect(web).toMatchObject({ state: 'down', advertised: false, reason: 'http: status 503' });
  });

  it('keeps advertising with when_down attributes instead of withdrawing', async () => {
    const { backend, manager } = setup();
    manager.setVips([vipConfig('web', 10, { whenDown: { attributes: attrs({ med: 1000 }) } })]);
    manager.start();
    await manager.flush();
    expect(backend.applies.at(-1)!.get('192.0.2.10/32')!.attributes.med).toBe(1000);
    manager.health('web', up);
    await manager.flush();
    expect(backend.applies.at(-1)!.get('192.0.2.10/32')!.attributes.med).toBeUndefined();
  });

  it('hold-down delays re-advertising after a withdraw', async () => {
    const { backend, manager } = setup();
    manager.setVips([vipConfig('web', 10, { holdDownMs: 5000 })]);
    manager.start();
    manager.health('web', up);
    await manager.flush();
    manager.health('web', down);
    await manager.flush();
    manager.health('web', up);
    await manager.flush();
    expect(backend.last()).toEqual({});
    expect(manager.view()[0]!.reason).toMatch(/hold-down/);
    await vi.advanceTimersByTimeAsync(4900);
    expect(backend.last()).toEqual({});
    await vi.advanceTimersByTimeAsync(200);
    await manager.flush();
    expect(Object.keys(backend.last())).toEqual(['192.0.2.10/32']);
  });

  it('drains in order: GRACEFUL_SHUTDOWN first, withdraw after the grace period, undrain re-advertises', async () => {
    const { backend, manager } = setup({ graceful: true, graceMs: 3000 });
    manager.setVips([vipConfig('web', 10)]);
    manager.start();
    manager.health('web', up);
    await manager.flush();
    expect(manager.drain('web', 'api')).toBe(true);
    await manager.flush();
    expect(backend.last()).toEqual({ '192.0.2.10/32': ['65001:100', '65535:0'] });
    expect(manager.view()[0]!.state).toBe('draining');
    await vi.advanceTimersByTimeAsync(3001);
    await manager.flush();
    expect(backend.last()).toEqual({});
    expect(manager.view()[0]!.state).toBe('drained');
    manager.undrain('web', 'api');
    await manager.flush();
    expect(backend.last()).toEqual({ '192.0.2.10/32': ['65001:100'] });
  });

  it('a VIP drained by two sources stays drained until both are cleared', async () => {
    const { backend, manager } = setup();
    manager.setVips([vipConfig('web', 10)]);
    manager.start();
    manager.health('web', up);
    manager.drain('web', 'api');
    manager.drain('web', 'file');
    manager.undrain('web', 'api');
    await manager.flush();
    expect(backend.last()).toEqual({});
    manager.undrain('web', 'file');
    await manager.flush();
    expect(Object.keys(backend.last())).toEqual(['192.0.2.10/32']);
  });

  it('shutdown: community on every advertised VIP, grace, withdraw all, then confirm via resync', async () => {
    const { backend, manager } = setup({ graceful: true, graceMs: 2000 });
    manager.setVips([vipConfig('web', 10), vipConfig('dns', 11)]);
    manager.start();
    manager.health('web', up);
    manager.health('dns', up);
    await manager.flush();
    const done = manager.shutdown();
    await vi.advanceTimersByTimeAsync(10);
    expect(backend.last()).toEqual({ '192.0.2.10/32': ['65001:100', '65535:0'], '192.0.2.11/32': ['65001:100', '65535:0'] });
    expect(backend.resyncs).toBe(0);
    await vi.advanceTimersByTimeAsync(2000);
    await done;
    expect(backend.last()).toEqual({});
    expect(backend.resyncs).toBe(1);
  });

  it('shutdown skips the grace period when no session is established', async () => {
    const { backend, manager } = setup({ graceful: true, graceMs: 60_000 });
    manager.setVips([vipConfig('web', 10)]);
    manager.start();
    manager.health('web', up);
    await manager.flush();
    backend.peerState = 'active';
    await manager.shutdown();
    expect(backend.last()).toEqual({});
  });

  it('retries a failed apply with the current desired set', async () => {
    const { backend, manager, metrics } = setup();
    manager.setVips([vipConfig('web', 10)]);
    manager.start();
    await manager.flush();
    backend.fail = 2;
    manager.health('web', up);
    await manager.flush();
    expect(backend.last()).toEqual({});
    await vi.advanceTimersByTimeAsync(1000);
    await manager.flush();
    expect(Object.keys(backend.last())).toEqual(['192.0.2.10/32']);
    const text = await metrics.registry.getSingleMetricAsString('vipcast_reconcile_total');
    expect(text).toContain('outcome="error"} 2');
  });

  it('reload keeps unchanged VIPs and withdraws removed ones', async () => {
    const { backend, manager } = setup();
    manager.setVips([vipConfig('web', 10), vipConfig('dns', 11)]);
    manager.start();
    manager.health('web', up);
    manager.health('dns', up);
    await manager.flush();
    const applies = backend.applies.length;
    manager.setVips([vipConfig('web', 10), vipConfig('dns', 11)]);
    await manager.flush();
    expect(backend.applies.length).toBe(applies);
    manager.setVips([vipConfig('web', 10)]);
    await manager.flush();
    expect(Object.keys(backend.last())).toEqual(['192.0.2.10/32']);
  });

  it('a VIP removed by a reload leaves no metric series behind (state, transitions, its checks)', async () => {
    const { manager, metrics } = setup();
    const check = { type: 'tcp', label: 'tcp:192.0.2.99:53', host: '192.0.2.99', port: 53, passive: true } as VipConfig['checks'][number];
    manager.setVips([vipConfig('web', 10), vipConfig('dns', 11, { checks: [check] })]);
    manager.health('web', up);
    manager.health('dns', up);
    manager.health('dns', down);
    metrics.checkDuration.observe({ vip: 'dns', check: check.label }, 0.001);
    metrics.checkFailures.inc({ vip: 'dns', check: check.label });
    const exported = async (): Promise<string> => metrics.registry.metrics();
    expect(await exported()).toContain('vip="dns"');
    manager.setVips([vipConfig('web', 10)]);
    await manager.flush();
    const text = await exported();
    expect(text).not.toContain('vip="dns"');
    expect(text).toContain('vipcast_vip_transitions_total{vip="web",to="up"} 1');
  });

  it('a check removed from a VIP that stays drops its series; the kept check keeps them', async () => {
    const { manager, metrics } = setup();
    const tcp = (port: number): VipConfig['checks'][number] => ({ type: 'tcp', label: `tcp:192.0.2.99:${port}`, host: '192.0.2.99', port, passive: true });
    manager.setVips([vipConfig('dns', 11, { checks: [tcp(53), tcp(853)] })]);
    for (const port of [53, 853]) metrics.checkFailures.inc({ vip: 'dns', check: `tcp:192.0.2.99:${port}` });
    manager.setVips([vipConfig('dns', 11, { checks: [tcp(53)] })]);
    const text = await metrics.registry.getSingleMetricAsString('vipcast_check_failures_total');
    expect(text).toContain('check="tcp:192.0.2.99:53"');
    expect(text).not.toContain('check="tcp:192.0.2.99:853"');
  });

  it('counts transitions per state entered', async () => {
    const { manager, metrics } = setup();
    manager.setVips([vipConfig('web', 10)]);
    manager.health('web', up);
    manager.health('web', down);
    manager.health('web', up);
    const text = await metrics.registry.getSingleMetricAsString('vipcast_vip_transitions_total');
    expect(text).toContain('vip="web",to="up"} 2');
    expect(text).toContain('vip="web",to="down"} 1');
  });
});
