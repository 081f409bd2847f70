/**
 * Drift repair every resync interval, per GoBGP version, with the daemon up the whole time (no
 * reconnect, no apply, no resync() call): someone else changes vipcast's paths in the daemon with
 * the gobgp CLI, using vipcast's own path identifier, and the periodic repair puts them back.
 * An operator's path (identifier 0) for the same prefix is left alone throughout.
 * Assertions read the daemon's RIB (`gobgp global rib -j`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gobgpd, gobgpVersions, type RibPath } from '../harness/gobgpd.js';
import { waitFor } from '../harness/wait.js';
import { GobgpBackend } from '../../src/gobgp/index.js';
import { VIPCAST_PATH_ID } from '../../src/gobgp/paths.js';
import { backendOptions, captureLogger, desired, vip } from './fixtures.js';

const RESYNC_MS = 1_000;
const A = vip('192.0.2.21/32', { communities: ['65001:21'] });
const B = vip('192.0.2.22/32', { communities: ['65001:22'] });
const STRAY = '192.0.2.29/32';
const community = (text: string): number => {
  const [hi, lo] = text.split(':').map(Number);
  return hi! * 65536 + lo!;
};

/** The communities of every path for `prefix`, one sorted list per path. */
function communitiesOf(rib: RibPath[], prefix: string): number[][] {
  return rib
    .filter((p) => p.prefix === prefix)
    .map((p) => p.attrs.flatMap((a) => (a['type'] === 8 ? ((a['communities'] as number[] | undefined) ?? []) : [])).sort())
    .sort((x, y) => (x[0] ?? 0) - (y[0] ?? 0));
}

for (const version of gobgpVersions()) {
  describe(`GoBGP ${version.label}: periodic drift repair (resync every ${RESYNC_MS} ms)`, () => {
    if (!version.binary) {
      it.skip(`skipped: ${version.missing}`, () => undefined);
      return;
    }
    const binary = version.binary;
    let daemon: Gobgpd | undefined;
    let backend: GobgpBackend | undefined;
    const d = (): Gobgpd => daemon!;
    const ours = ['identifier', String(VIPCAST_PATH_ID)];

    beforeAll(async () => {
      daemon = await Gobgpd.start({ binary });
      const { logger } = captureLogger();
      backend = new GobgpBackend(backendOptions(daemon.apiAddress, { logger, resyncIntervalMs: RESYNC_MS }));
      await backend.start();
      await backend.apply(desired(A, B));
      // The operator's own path for A's prefix (identifier 0): never vipcast's to touch.
      await daemon.cli(['global', 'rib', 'add', A.prefix, 'community', '65001:999', '-a', 'ipv4']);
    });

    afterAll(async () => {
      backend?.detach();
      await daemon?.stop();
    });

    it('a path of ours deleted behind our back is added again', async () => {
      await d().cli(['global', 'rib', 'del', B.prefix, ...ours, '-a', 'ipv4']);
      expect(communitiesOf(await d().rib('ipv4'), B.prefix)).toEqual([]);
      await waitFor(async () => communitiesOf(await d().rib('ipv4'), B.prefix).length === 1, { timeoutMs: 10 * RESYNC_MS, intervalMs: 100, what: `${B.prefix} re-added by the periodic repair` });
      expect(communitiesOf(await d().rib('ipv4'), B.prefix)).toEqual([[community('65001:22')]]);
      expect(backend!.readiness().ready).toBe(true);
    });

    it('a path of ours replaced with other attributes gets ours back; the operator path beside it stays', async () => {
      await d().cli(['global', 'rib', 'add', A.prefix, ...ours, 'community', '65001:666', '-a', 'ipv4']);
      expect(communitiesOf(await d().rib('ipv4'), A.prefix)).toContainEqual([community('65001:666')]);
      await waitFor(async () => !JSON.stringify(communitiesOf(await d().rib('ipv4'), A.prefix)).includes(String(community('65001:666'))), {
        timeoutMs: 10 * RESYNC_MS,
        intervalMs: 100,
        what: `${A.prefix}'s attributes repaired`,
      });
      expect(communitiesOf(await d().rib('ipv4'), A.prefix)).toEqual([[community('65001:21')], [community('65001:999')]]);
    });

    it('a path carrying our identifier that we do not want is withdrawn; the operator path stays', async () => {
      await d().cli(['global', 'rib', 'add', STRAY, ...ours, 'community', '65001:29', '-a', 'ipv4']);
      await waitFor(async () => communitiesOf(await d().rib('ipv4'), STRAY).length === 0, { timeoutMs: 10 * RESYNC_MS, intervalMs: 100, what: `${STRAY} withdrawn by the periodic repair` });
      const rib = await d().rib('ipv4');
      expect(communitiesOf(rib, A.prefix)).toEqual([[community('65001:21')], [community('65001:999')]]);
      expect(communitiesOf(rib, B.prefix)).toEqual([[community('65001:22')]]);
    });
  });
}
