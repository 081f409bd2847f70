/**
 * shutdown.graceful_community: false (issue 2: "if graceful_community, re-advertise ... with
 * 65535:0"): a drain and the shutdown withdraw at once, no route ever carries GRACEFUL_SHUTDOWN,
 * and there is no grace period to sit through. Fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BgpManager } from '../../src/manager/bgp-manager.js';
import { silentLogger } from '../../src/log/logger.js';
import { RecordingBackend, vipConfig } from './fixtures.js';

const up = { healthy: true, reason: 'ok', detector: 'periodic' as const };

function setup() {
  const backend = new RecordingBackend();
  const manager = new BgpManager({ backend, logger: silentLogger, gracefulCommunity: false, gracePeriodMs: 60_000, resyncIntervalMs: 0 });
  manager.setVips([vipConfig('web', 10), vipConfig('dns', 11)]);
  manager.start();
  manager.health('web', up);
  manager.health('dns', up);
  return { backend, manager };
}

const carriesGracefulShutdown = (backend: RecordingBackend): boolean =>
  backend.applies.some((set) => [...set.values()].some((r) => r.attributes.communities.includes('65535:0')));

describe('graceful_community: false', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a drain withdraws that VIP at once, without 65535:0; the other stays', async () => {
    const { backend, manager } = setup();
    await manager.flush();
    manager.drain('web', 'api');
    await manager.flush();
    expect(Object.keys(backend.last())).toEqual(['192.0.2.11/32']);
    expect(manager.view().find((v) => v.name === 'web')?.state).toBe('drained');
    expect(carriesGracefulShutdown(backend)).toBe(false);
  });

  it('shutdown withdraws everything without 65535:0 and without waiting the grace period, then confirms', async () => {
    const { backend, manager } = setup();
    await manager.flush();
    let done = false;
    const stopping = manager.shutdown().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    await stopping;
    expect(done).toBe(true);
    expect(backend.last()).toEqual({});
    expect(backend.resyncs).toBe(1);
    expect(carriesGracefulShutdown(backend)).toBe(false);
  });
});
