/**
 * 10,000 paths through the GoBGP backend, per GoBGP version: AddPathStream, one drift-repair pass
 * (ListPath + diff), restoring all of them after a daemon restart, and the gobgp CLI for
 * comparison. The numbers are printed (for the benchmark issue and the resync interval), not
 * asserted: only correctness is (the daemon's own RIB summary).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { credentials } from '@grpc/grpc-js';
import { Gobgpd, gobgpVersions } from '../harness/gobgpd.js';
import { waitFor } from '../harness/wait.js';
import { GobgpBackend } from '../../src/gobgp/index.js';
import { connect } from '../../src/gobgp/api/detect.js';
import { desiredPath, type OwnPath } from '../../src/gobgp/paths.js';
import { diffPaths } from '../../src/gobgp/reconcile.js';
import { listOwnPaths } from '../../src/gobgp/sync.js';
import type { VipRoute } from '../../src/backend/types.js';
import { backendOptions, captureLogger, desired, vip } from './fixtures.js';

const N = 10_000;
const CLI_SAMPLE = 100;

const N6 = 200;
const routes: VipRoute[] = Array.from({ length: N }, (_, i) => vip(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`, { communities: ['65001:100'], med: 10 }));
/** A few IPv6 paths ride along so the stream is exercised with MP_REACH_NLRI too. */
const routes6: VipRoute[] = Array.from({ length: N6 }, (_, i) => vip(`2001:db8::${(i + 1).toString(16)}/128`, { communities: ['65001:100'] }));

/** "Destination: 10000, Path: 10000" from `gobgp global rib summary`. */
async function ribCount(d: Gobgpd, family: 'ipv4' | 'ipv6' = 'ipv4'): Promise<number> {
  const out = await d.cli(['global', 'rib', 'summary', '-a', family]);
  return Number(/Path:\s*(\d+)/.exec(out)?.[1] ?? -1);
}

const ms = (t0: bigint): number => Number((process.hrtime.bigint() - t0) / 1_000_000n);

for (const version of gobgpVersions()) {
  describe(`10,000 paths with GoBGP ${version.label}`, () => {
    if (!version.binary) {
      it.skip(`skipped: ${version.missing}`, () => undefined);
      return;
    }
    const binary = version.binary;
    let daemon: Gobgpd | undefined;
    let backend: GobgpBackend | undefined;
    afterAll(async () => {
      backend?.detach();
      await daemon?.stop();
    });

    it('AddPathStream, drift-repair pass, restore after restart, and the CLI', { timeout: 180_000 }, async () => {
      const d = (daemon = await Gobgpd.start({ binary }));
      const { logger } = captureLogger();
      const b = (backend = new GobgpBackend(backendOptions(d.apiAddress, { logger, timeouts: { unaryMs: 10_000, streamMs: 120_000 } })));
      await b.start();
      await b.apply(desired()); // the first apply lists the RIB; later ones diff against it

      let t0 = process.hrtime.bigint();
      const set = desired(...routes, ...routes6);
      await b.apply(set);
      const streamMs = ms(t0);
      expect(await ribCount(d)).toBe(N);
      expect(await ribCount(d, 'ipv6')).toBe(N6);

      // One drift-repair pass as the backend runs it: ListPath (both families) and the diff.
      const { client } = await connect(d.apiAddress, 'auto', credentials.createInsecure());
      const ctx = { localAs: 65001, nextHop: { ipv6: '2001:db8::1' } };
      const want = new Map<string, OwnPath>([...routes, ...routes6].map((r) => [r.prefix, desiredPath(r, ctx)]));
      t0 = process.hrtime.bigint();
      const own = await listOwnPaths(client);
      const listMs = ms(t0);
      const diff = diffPaths(want, own);
      const passMs = ms(t0);
      client.close();
      expect(own).toHaveLength(N + N6);
      expect(diff.add).toHaveLength(0);
      expect(diff.withdraw).toHaveLength(0);

      t0 = process.hrtime.bigint();
      await b.resync();
      const resyncMs = ms(t0);

      // The daemon restarts empty (kill -9): everything comes back through the recovery loop.
      await d.kill('SIGKILL');
      await waitFor(() => !b.readiness().ready, { timeoutMs: 10_000, what: 'readiness false' });
      await d.launch();
      t0 = process.hrtime.bigint();
      await waitFor(async () => (await ribCount(d)) === N && (await ribCount(d, 'ipv6')) === N6, { timeoutMs: 60_000, intervalMs: 50, what: `${N} paths back` });
      const restoreMs = ms(t0);

      // Withdraw everything (shutdown): one AddPathStream of withdrawals, confirmed by ListPath.
      t0 = process.hrtime.bigint();
      await b.apply(desired());
      await b.resync();
      const withdrawMs = ms(t0);
      expect(await ribCount(d)).toBe(0);
      expect(await ribCount(d, 'ipv6')).toBe(0);

      // The CLI, one `gobgp global rib add` per prefix, on a sample.
      t0 = process.hrtime.bigint();
      for (let i = 0; i < CLI_SAMPLE; i++) await d.cli(['global', 'rib', 'add', `172.16.${i >> 8}.${i & 255}/32`, 'community', '65001:100', 'med', '10', '-a', 'ipv4']);
      const cliMs = ms(t0);
      expect(await ribCount(d)).toBe(CLI_SAMPLE);

      // Bare AddPathStream with pre-encoded paths (what the backend's apply adds to it: encoding and the diff).
      b.detach();
      const raw = routes.map((r) => desiredPath({ ...r, prefix: r.prefix.replace(/^10\./, '20.') }, ctx).path);
      const { client: rawClient } = await connect(d.apiAddress, 'auto', credentials.createInsecure());
      t0 = process.hrtime.bigint();
      await rawClient.addPathStream(raw);
      const rawMs = ms(t0);
      rawClient.close();
      expect(await ribCount(d)).toBe(CLI_SAMPLE + N);

      console.log(
        `[gobgp ${version.label}] ${N} IPv4 + ${N6} IPv6 paths: apply via AddPathStream ${streamMs} ms (bare AddPathStream of ${N} pre-encoded: ${rawMs} ms); ` +
          `drift-repair pass ${passMs} ms (ListPath ${listMs} ms + diff ${passMs - listMs} ms); resync() (repair + confirm) ${resyncMs} ms; ` +
          `restore after kill -9 ${restoreMs} ms; withdraw all + confirm ${withdrawMs} ms; gobgp CLI ${(cliMs / CLI_SAMPLE).toFixed(1)} ms/prefix ` +
          `(${CLI_SAMPLE} sequential: ${cliMs} ms, about ${Math.round((cliMs / CLI_SAMPLE) * N)} ms for ${N})`,
      );
    });
  });
}
