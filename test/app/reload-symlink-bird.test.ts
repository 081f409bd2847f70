/**
 * Issue 2, reload: "a change of the config file (Kubernetes swaps a symlink when a ConfigMap
 * changes) reloads it: unchanged VIPs keep their state and are not re-advertised; removed VIPs
 * are withdrawn; new ones start checking. An invalid new file ... the running config stays."
 * `vipcast run` (built binary) with the built-in speaker, peered with a real BIRD 2 on loopback;
 * the config is mounted as the kubelet mounts a ConfigMap (vipcast.yaml -> ..data/vipcast.yaml,
 * ..data -> ..gen_N, swapped atomically). Every assertion reads BIRD: its routes and its
 * per-protocol import counters, so an unchanged VIP re-advertised would show as an UPDATE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bird, hasBird } from '../harness/bird.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { hasBuild, VipcastProcess } from '../harness/vipcast.js';
import { sleep, waitFor } from '../harness/wait.js';
import { birdBgpConfig, birdStats, tempDir, TcpTarget, waitRoute } from '../faults/lib/fixture.js';

const WEB = '198.51.100.81/32';
const API = '198.51.100.82/32';
const NTP = '198.51.100.83/32';

describe.skipIf(!hasBird() || !hasBuild())('ConfigMap symlink swap under a running vipcast, seen at BIRD', () => {
  const birdAddr = loopbackAddress();
  const ourAddr = loopbackAddress();
  let bird: Bird;
  let target: TcpTarget;
  let dir: string;
  let vipcast: VipcastProcess;
  let birdPort: number;
  let adminPort: number;
  let generation = 0;

  const render = (vips: Array<{ name: string; prefix: string; med: number; timeout?: string }>): string => `
bgp:
  local_as: 65001
  router_id: ${ourAddr}
  hold_time: 9s
  next_hop: { ipv4: 198.18.0.1 }
  neighbors:
    - { address: ${birdAddr}, port: ${birdPort}, remote_as: 65000, local_address: ${ourAddr}, ebgp_multihop: 2 }
health: { interval: 300ms, fast_interval: 100ms, timeout: 200ms, rise: 1, fall: 1 }
vips:
${vips.map((v) => `  - { name: ${v.name}, prefix: ${v.prefix}, attributes: { med: ${v.med} }, checks: [{ type: tcp, address: "${target.address}"${v.timeout ? `, timeout: ${v.timeout}` : ''} }] }`).join('\n')}
shutdown: { graceful_community: false, grace_period: 0s }
admin: { listen: 127.0.0.1:${adminPort} }
`;

  /** A new ..gen_N directory, then ..data swapped to it atomically (what the kubelet does). */
  async function publish(text: string): Promise<void> {
    const gen = `..gen_${++generation}`;
    await mkdir(join(dir, 'config', gen), { recursive: true });
    await writeFile(join(dir, 'config', gen, 'vipcast.yaml'), text);
    await symlink(gen, join(dir, 'config', '..data_tmp'));
    await rename(join(dir, 'config', '..data_tmp'), join(dir, 'config', '..data'));
  }

  async function med(prefix: string): Promise<string | undefined> {
    const route = (await bird.routes('master4', 'vc')).find((r) => r.prefix === prefix);
    return /BGP\.med: (\d+)/.exec(route?.detail ?? '')?.[1];
  }

  async function prefixes(): Promise<string[]> {
    return (await bird.routes('master4', 'vc')).map((r) => r.prefix).sort();
  }

  beforeAll(async () => {
    birdPort = await freePort(birdAddr);
    adminPort = await freePort();
    target = await TcpTarget.create();
    dir = await tempDir('symlink-reload');
    // BIRD refuses a directly connected eBGP neighbor on loopback: multihop, and our next hop
    // (198.18.0.1) resolves through a static route inside BIRD only.
    bird = await Bird.start({
      routerId: '10.255.0.81',
      config: `protocol static st4 { ipv4; route 198.18.0.0/15 via "lo"; }\n${birdBgpConfig(birdAddr, birdPort, [{ name: 'vc', neighbor: ourAddr, neighborAs: 65001 }])}`,
    });
    await mkdir(join(dir, 'config'));
    await publish(render([{ name: 'web', prefix: WEB, med: 10 }, { name: 'api', prefix: API, med: 10 }]));
    await symlink('..data/vipcast.yaml', join(dir, 'config', 'vipcast.yaml'));
    vipcast = new VipcastProcess(['run', '--config', join(dir, 'config', 'vipcast.yaml')]);
    await waitRoute(bird, 'vc', WEB, true, 30_000);
    await waitRoute(bird, 'vc', API, true, 10_000);
  });

  afterAll(async () => {
    await vipcast?.stop('SIGKILL');
    await bird?.stop();
    await target?.down();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a changed VIP (MED 10 -> 20): one UPDATE at BIRD, no withdraw; the unchanged VIP is not re-advertised', async () => {
    const before = await birdStats(bird, 'vc');
    await publish(render([{ name: 'web', prefix: WEB, med: 20 }, { name: 'api', prefix: API, med: 10 }]));
    await waitFor(async () => (await med(WEB)) === '20', { timeoutMs: 10_000, what: () => `MED 20 at BIRD (vipcast log: ${vipcast.output.slice(-2000)})` });
    await sleep(500); // any (wrong) re-advertisement of api would be counted by now
    const after = await birdStats(bird, 'vc');
    expect([after.importUpdates - before.importUpdates, after.importWithdraws - before.importWithdraws]).toEqual([1, 0]);
    expect(await med(API)).toBe('10');
    expect(after.state).toBe('Established');
  });

  it('a changed check (its timeout) on an up VIP: no UPDATE and no withdraw at BIRD (the VIP keeps its health)', async () => {
    const before = await birdStats(bird, 'vc');
    const reloads = (): number => vipcast.output.split('configuration reloaded').length - 1;
    const reloadsBefore = reloads();
    await publish(render([{ name: 'web', prefix: WEB, med: 20 }, { name: 'api', prefix: API, med: 10, timeout: '150ms' }]));
    // The log only tells when to look; the assertion is BIRD's.
    await waitFor(() => reloads() > reloadsBefore, { timeoutMs: 10_000, what: 'the reload' });
    await sleep(1_500); // several rounds of the new check (interval 300 ms); a withdraw would be counted
    const after = await birdStats(bird, 'vc');
    expect([after.importUpdates - before.importUpdates, after.importWithdraws - before.importWithdraws]).toEqual([0, 0]);
    expect(await prefixes()).toEqual([API, WEB].sort());
  });

  it('a removed VIP is withdrawn and a new one starts checking and is advertised; the kept VIP untouched', async () => {
    const before = await birdStats(bird, 'vc');
    await publish(render([{ name: 'api', prefix: API, med: 10 }, { name: 'ntp', prefix: NTP, med: 10 }]));
    await waitRoute(bird, 'vc', WEB, false, 10_000);
    await waitRoute(bird, 'vc', NTP, true, 10_000);
    await sleep(500);
    const after = await birdStats(bird, 'vc');
    // One UPDATE (ntp) and one withdraw (web): api was neither re-advertised nor withdrawn.
    expect([after.importUpdates - before.importUpdates, after.importWithdraws - before.importWithdraws]).toEqual([1, 1]);
    expect(await prefixes()).toEqual([API, NTP].sort());
  });

  it('an invalid new file: nothing changes at BIRD, and the next valid swap still applies', async () => {
    const before = await birdStats(bird, 'vc');
    await publish(render([{ name: 'api', prefix: API, med: 10 }]).replace('local_as: 65001', 'local_as: 0'));
    await sleep(1_500); // the watcher debounces 200 ms; ample time to (wrongly) act
    const after = await birdStats(bird, 'vc');
    expect([after.importUpdates, after.importWithdraws, after.state]).toEqual([before.importUpdates, before.importWithdraws, 'Established']);
    expect(await prefixes()).toEqual([API, NTP].sort());
    await publish(render([{ name: 'api', prefix: API, med: 10 }]));
    await waitRoute(bird, 'vc', NTP, false, 10_000);
    expect(await prefixes()).toEqual([API]);
  });
});
