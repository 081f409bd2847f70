/**
 * Periodic resync (drift repair, issue 2): besides reconciling on every transition, the manager
 * hands the backend the whole desired set again every resync interval, so a backend that lost
 * routes gets them back without any health change. Fake timers: exact periods.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BgpManager } from '../../src/manager/bgp-manager.js';
import { silentLogger } from '../../src/log/logger.js';
import { RecordingBackend, vipConfig } from './fixtures.js';

const up = { healthy: true, reason: 'ok', detector: 'periodic' as const };

function setup(resyncIntervalMs: number) {
  const backend = new RecordingBackend();
  const manager = new BgpManager({ backend, logger: silentLogger, gracefulCommunity: false, gracePeriodMs: 0, resyncIntervalMs });
  return { backend, manager };
}

describe('BgpManager periodic resync', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('re-applies the whole desired set every interval with no transition in between', async () => {
    const { backend, manager } = setup(5_000);
    manager.setVips([vipConfig('web', 10), vipConfig('dns', 11)]);
    manager.start();
    manager.health('web', up);
    manager.health('dns', up);
    await manager.flush();
    const before = backend.applies.length;
    await vi.advanceTimersByTimeAsync(4_900);
    expect(backend.applies.length).toBe(before);
    await vi.advanceTimersByTimeAsync(200);
    await manager.flush();
    expect(backend.applies.length).toBe(before + 1);
    // The whole set, not a diff: a backend that lost both routes gets both back.
    expect(Object.keys(backend.last()).sort()).toEqual(['192.0.2.10/32', '192.0.2.11/32']);
    await vi.advanceTimersByTimeAsync(5_000);
    await manager.flush();
    expect(backend.applies.length).toBe(before + 2);
  });

  it('an empty desired set is re-applied too (withdraw all stays withdrawn)', async () => {
    const { backend, manager } = setup(1_000);
    manager.setVips([vipConfig('web', 10)]);
    manager.start();
    await manager.flush();
    const before = backend.applies.length;
    await vi.advanceTimersByTimeAsync(1_000);
    await manager.flush();
    expect(backend.applies.length).toBe(before + 1);
    expect(backend.last()).toEqual({});
  });

  it('resync interval 0 disables it; stop() ends it', async () => {
    const off = setup(0);
    off.manager.setVips([vipConfig('web', 10)]);
    off.manager.start();
    await off.manager.flush();
    const offBefore = off.backend.applies.length;
    await vi.advanceTimersByTimeAsync(600_000);
    expect(off.backend.applies.length).toBe(offBefore);

    const on = setup(1_000);
    on.manager.setVips([vipConfig('web', 10)]);
    on.manager.start();
    await on.manager.flush();
    on.manager.stop();
    const onBefore = on.backend.applies.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(on.backend.applies.length).toBe(onBefore);
  });
});
