/**
 * Config file faults while `vipcast run` is running (issue 6), asserted at a real BIRD 2. The
 * file is replaced atomically (write + rename, as the kubelet's symlink swap and editors do) and
 * vipcast's directory watch picks it up: an invalid file must change nothing (BIRD counters
 * unchanged), a changed attribute must reach BIRD as one UPDATE without a withdraw (no flap), and
 * a removed VIP must be withdrawn while the other stays untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hasBird } from '../harness/bird.js';
import { hasBuild } from '../harness/vipcast.js';
import { sleep, waitFor } from '../harness/wait.js';
import { assertAlive, birdStats, vipsView, waitRoute, type BirdStats } from './lib/fixture.js';
import { Rig } from './lib/rig.js';

const WEB = '198.51.100.67/32';
const API = '198.51.100.68/32';

const report = (what: string, ms: number): void => console.info(`[faults] builtin: ${what}: ${ms} ms`);

describe.skipIf(!hasBird() || !hasBuild())('config file replaced under a running vipcast', () => {
  let rig: Rig;
  let n = 0;

  const vips = (med: number, withApi: boolean): string => `vips:
  - name: web
    prefix: ${WEB}
    checks: [{ type: tcp, address: "${rig.target.address}" }]
    attributes: { med: ${med} }${
      withApi
        ? `
  - name: api
    prefix: ${API}
    checks: [{ type: tcp, address: "${rig.target.address}" }]`
        : ''
    }`;

  /** Atomic replace in the same directory, as Kubernetes and editors do. */
  async function replaceConfig(text: string): Promise<void> {
    const tmp = join(rig.dir, `.vipcast.yaml.${++n}`);
    await writeFile(tmp, text);
    await rename(tmp, rig.configFile);
  }

  async function med(prefix: string): Promise<string | undefined> {
    const route = (await rig.bird.routes('master4', 'vc')).find((r) => r.prefix === prefix);
    return /BGP\.med: (\d+)/.exec(route?.detail ?? '')?.[1];
  }

  beforeAll(async () => {
    // Rig.start needs the target for the default VIP block; the config is rewritten right after.
    rig = await Rig.start({ tag: 'reload', vip: WEB });
    await replaceConfig(rig.config(vips(10, true)));
    await waitRoute(rig.bird, 'vc', API, true, 15_000);
    await waitFor(async () => (await med(WEB)) === '10', { timeoutMs: 10_000, what: 'MED 10 at BIRD' });
  });

  afterAll(async () => {
    await rig?.stop();
  });

  it('an invalid file: nothing changes (running config kept, no UPDATE at BIRD)', async () => {
    const before: BirdStats = await birdStats(rig.bird, 'vc');
    const view = await vipsView(rig.adminPort);
    for (const bad of ['bgp: [unclosed\n', rig.config(vips(10, true)).replace('local_as: 65001', 'local_as: 0'), '\x00\x01\x02']) {
      await replaceConfig(bad);
      await sleep(1_500); // the watcher debounces 200 ms; give it ample time to (wrongly) act
      await assertAlive(rig.vipcast, rig.adminPort);
    }
    const after = await birdStats(rig.bird, 'vc');
    expect([after.state, after.importUpdates, after.importWithdraws]).toEqual(['Established', before.importUpdates, before.importWithdraws]);
    expect((await vipsView(rig.adminPort)).map((v) => [v.name, v.state])).toEqual(view.map((v) => [v.name, v.state]));
    expect(await med(WEB)).toBe('10');
  });

  it('a changed attribute (MED 10 -> 20): BIRD sees it as one UPDATE, no withdraw', async () => {
    const before = await birdStats(rig.bird, 'vc');
    const t0 = Date.now();
    await replaceConfig(rig.config(vips(20, true)));
    await waitFor(async () => (await med(WEB)) === '20', { timeoutMs: 10_000, intervalMs: 25, what: 'MED 20 at BIRD' });
    report('reload: changed MED at BIRD after', Date.now() - t0);
    await sleep(500);
    const after = await birdStats(rig.bird, 'vc');
    expect(after.importWithdraws - before.importWithdraws).toBe(0);
    expect(after.importUpdates - before.importUpdates).toBe(1);
    expect(after.state).toBe('Established');
  });

  it('a removed VIP: withdrawn at BIRD; the other VIP untouched', async () => {
    const before = await birdStats(rig.bird, 'vc');
    const t0 = Date.now();
    await replaceConfig(rig.config(vips(20, false)));
    await waitRoute(rig.bird, 'vc', API, false, 10_000);
    report('reload: removed VIP withdrawn at BIRD after', Date.now() - t0);
    await sleep(500);
    const after = await birdStats(rig.bird, 'vc');
    expect([after.importUpdates - before.importUpdates, after.importWithdraws - before.importWithdraws]).toEqual([0, 1]);
    await waitRoute(rig.bird, 'vc', WEB, true, 1_000);
  });
});
