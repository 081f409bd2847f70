/**
 * The GoBGP backend as operators and probes see it through `vipcast run`'s admin API, per GoBGP
 * version: peer state from the daemon in /v1/peers and /metrics, /readyz 503 with the reason
 * while gobgpd is gone (SIGKILL) and the outage logged once, everything back after the restart.
 * Uses the fault suite's rig (real BIRD 2, real gobgpd, the built CLI; test/faults/lib).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBird } from '../harness/bird.js';
import { gobgpVersions } from '../harness/gobgpd.js';
import { hasBuild } from '../harness/vipcast.js';
import { sleep, waitFor } from '../harness/wait.js';
import { httpGet, waitRoute } from '../faults/lib/fixture.js';
import { GobgpRig } from '../faults/lib/gobgp-rig.js';

const VIP = '198.18.40.1/32';

const skipReason = !hasBird() ? 'BIRD 2 not installed' : !hasBuild() ? 'vipcast not built (npm run build)' : undefined;

async function peerView(port: number, address: string): Promise<{ state?: string; reason?: string } | undefined> {
  const peers = JSON.parse((await httpGet(port, '/v1/peers')).body) as Array<{ address: string; state: string; reason?: string }>;
  return peers.find((p) => p.address === address);
}

async function established(port: number, address: string): Promise<number | undefined> {
  const text = (await httpGet(port, '/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith('vipcast_bgp_peer_established{') && l.includes(`peer="${address}"`));
  return line === undefined ? undefined : Number(line.trim().split(/\s+/).pop());
}

for (const version of gobgpVersions()) {
  describe(`vipcast run with GoBGP ${version.label}: admin API`, () => {
    const missing = version.missing ?? skipReason;
    if (missing) {
      it.skip(`skipped: ${missing}`, () => undefined);
      return;
    }
    let rig: GobgpRig | undefined;
    const r = (): GobgpRig => rig!;

    beforeAll(async () => {
      rig = await GobgpRig.start({ tag: `app-sidecar-${version.label.replace(/\W+/g, '')}`, binary: version.binary!, vip: VIP, routerId: '10.0.0.240' });
    }, 120_000);

    afterAll(async () => {
      await rig?.stop();
    });

    it('/v1/peers and /metrics show the session gobgpd reports; /readyz 200', async () => {
      await r().waitEstablished();
      await waitFor(async () => (await peerView(r().adminPort, r().birdAddr))?.state === 'established', { timeoutMs: 20_000, what: '/v1/peers established' });
      await waitFor(async () => (await established(r().adminPort, r().birdAddr)) === 1, { timeoutMs: 10_000, what: 'vipcast_bgp_peer_established 1' });
      expect((await httpGet(r().adminPort, '/readyz')).status).toBe(200);
    });

    it('gobgpd SIGKILLed: /readyz 503 with the reason, peers idle, logged once; back after the restart', async () => {
      const logBefore = r().vipcast.output.length;
      await r().gobgpd.kill('SIGKILL');
      const down = await waitFor(
        async () => {
          const res = await httpGet(r().adminPort, '/readyz');
          return res.status === 503 && res;
        },
        { timeoutMs: 10_000, intervalMs: 50, what: '/readyz 503 while gobgpd is gone' },
      );
      expect(down.body).toMatch(/gobgpd/);
      await waitFor(async () => (await peerView(r().adminPort, r().birdAddr))?.reason === 'gobgpd unreachable', { timeoutMs: 10_000, what: '/v1/peers: gobgpd unreachable' });
      expect((await peerView(r().adminPort, r().birdAddr))?.state).toBe('idle');
      expect(await established(r().adminPort, r().birdAddr)).toBe(0);
      // Many recovery probes (every 200 ms) fail meanwhile.
      await sleep(2_000);
      expect((await httpGet(r().adminPort, '/readyz')).status).toBe(503);
      await r().gobgpd.launch();
      await waitFor(async () => (await httpGet(r().adminPort, '/readyz')).status === 200, { timeoutMs: 15_000, intervalMs: 50, what: '/readyz 200 after the restart' });
      await waitRoute(r().bird, 'vc', VIP, true, 30_000);
      await waitFor(async () => (await established(r().adminPort, r().birdAddr)) === 1, { timeoutMs: 30_000, what: 'vipcast_bgp_peer_established 1 again' });
      const log = r().vipcast.output.slice(logBefore);
      const outage = log.split('\n').filter((l) => l.includes('gobgpd not usable'));
      expect(outage, log.slice(-3_000)).toHaveLength(1);
    });

    it('vipcast kill -9, its VIP goes down meanwhile, restarted: the stale path is gone from gobgpd and BIRD', async () => {
      await waitRoute(r().bird, 'vc', VIP, true, 30_000);
      r().vipcast.signal('SIGKILL');
      await r().vipcast.exited;
      // Nobody withdrew it: the sidecar still advertises for the dead controller.
      expect(await r().inGobgp(VIP)).toBe(true);
      await r().target.down();
      r().launch();
      await waitFor(async () => !(await r().inGobgp(VIP)), { timeoutMs: 20_000, intervalMs: 100, what: `${VIP} removed from gobgpd by the restarted vipcast` });
      await waitRoute(r().bird, 'vc', VIP, false, 15_000);
      await r().target.up();
      await waitRoute(r().bird, 'vc', VIP, true, 30_000);
    });
  });
}
