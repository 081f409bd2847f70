/**
 * "Global not started" as a restart signal, per GoBGP version: someone stops the daemon's BGP
 * (`gobgp global del all`, StopBgp) while the process and its API stay up, so no stream breaks
 * and no call is refused for lack of a connection. The periodic check must see it and, with
 * manage: true, start the daemon's BGP again and restore vipcast's paths.
 *
 * v4 (4.8.0) cannot be started again after StopBgp: every call, StartBgp too, answers UNKNOWN
 * "server stopped" until the process restarts. There is nothing to restore; vipcast must report
 * it: not ready, with the daemon's words, logged once (not an error every resync interval).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gobgpd, gobgpVersions } from '../harness/gobgpd.js';
import { waitFor } from '../harness/wait.js';
import { GobgpBackend } from '../../src/gobgp/index.js';
import { LOCAL_AS, backendOptions, captureLogger, desired, vip } from './fixtures.js';

const RESYNC_MS = 1_000;
const A = vip('192.0.2.51/32', { communities: ['65001:51'] });

for (const version of gobgpVersions()) {
  describe(`GoBGP ${version.label}: StopBgp behind vipcast's back`, () => {
    if (!version.binary) {
      it.skip(`skipped: ${version.missing}`, () => undefined);
      return;
    }
    const binary = version.binary;
    let daemon: Gobgpd | undefined;
    let backend: GobgpBackend | undefined;

    beforeAll(async () => {
      daemon = await Gobgpd.start({ binary });
    });

    afterAll(async () => {
      backend?.detach();
      await daemon?.stop();
    });

    if (version.api === 'v3') it('is noticed by the periodic check; global and paths are restored', async () => {
      const readiness: boolean[] = [];
      const { logger, lines } = captureLogger();
      backend = new GobgpBackend(backendOptions(daemon!.apiAddress, { logger, resyncIntervalMs: RESYNC_MS }));
      await backend.start();
      await backend.apply(desired(A));
      expect((await daemon!.rib('ipv4')).map((p) => p.prefix)).toEqual([A.prefix]);
      const timer = setInterval(() => readiness.push(backend!.readiness().ready), 50);
      try {
        await daemon!.cli(['global', 'del', 'all']);
        await waitFor(
          async () => {
            const global = await daemon!.cli(['global']).catch((e: Error) => e.message);
            if (!new RegExp(`AS:\\s+${LOCAL_AS}\\b`).test(global)) return false;
            return (await daemon!.rib('ipv4')).some((p) => p.prefix === A.prefix);
          },
          {
            timeoutMs: 15 * RESYNC_MS,
            intervalMs: 100,
            what: () => `global BGP and ${A.prefix} restored after StopBgp (vipcast log: ${JSON.stringify(lines().slice(-5).map((l) => l.msg))})`,
          },
        );
      } finally {
        clearInterval(timer);
      }
      // The stop was reported (readiness went false at least once) and is over.
      expect(readiness).toContain(false);
      await waitFor(() => backend!.readiness().ready, { timeoutMs: 5_000, what: 'readiness true again' });
    });

    if (version.api === 'v4') it('cannot start again (v4): readiness false with the daemon\'s reason, logged once', async () => {
      const { logger, lines } = captureLogger();
      backend = new GobgpBackend(backendOptions(daemon!.apiAddress, { logger, resyncIntervalMs: RESYNC_MS }));
      await backend.start();
      await backend.apply(desired(A));
      expect(backend.readiness().ready).toBe(true);
      await daemon!.cli(['global', 'del', 'all']);
      await waitFor(() => !backend!.readiness().ready, { timeoutMs: 10 * RESYNC_MS, what: () => `readiness false (log: ${JSON.stringify(lines().slice(-5).map((l) => l.msg))})` });
      expect(backend.readiness().reason).toMatch(/server stopped/);
      // Several resync intervals and reconnect probes later: still down, and said once.
      await new Promise((resolve) => setTimeout(resolve, 5 * RESYNC_MS));
      expect(backend.readiness().ready).toBe(false);
      const loud = lines().filter((l) => (l.level as number) >= 40 && JSON.stringify(l).includes('server stopped'));
      expect(loud.length).toBe(1);
    });
  });
}
