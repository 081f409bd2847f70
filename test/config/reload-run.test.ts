/**
 * Reload of a running `vipcast run` (the built binary), issue 2: "An invalid new file is logged
 * with its errors and the running config stays"; a valid one is applied, by a change of the file
 * and by SIGHUP. The speaker's neighbor is a loopback address where nothing listens: what BGP
 * peers see on reload is asserted at BIRD in test/faults/reload-faults.test.ts and test/e2e.
 */
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, loopbackAddress } from '../harness/net.js';
import { hasBuild, VipcastProcess } from '../harness/vipcast.js';
import { sleep, waitFor } from '../harness/wait.js';

describe.skipIf(!hasBuild())('vipcast run: reloading the config file (built binary; run `npm run build` first)', () => {
  let dir: string;
  let file: string;
  let adminPort: number;
  let vipcast: VipcastProcess;
  let n = 0;

  const render = (vips: string[], extra = ''): string => `bgp:
  local_as: 65001
  router_id: 10.0.0.1
  neighbors:
    - { address: ${peer}, port: ${peerPort}, remote_as: 65000, ebgp_multihop: 2 }
health: { interval: 500ms, fast_interval: 200ms, timeout: 300ms, rise: 1, fall: 1 }
vips:
${vips.map((name, i) => `  - { name: ${name}, prefix: 192.0.2.${10 + i}, checks: [{ type: tcp, address: "127.0.0.1:${closedPort}" }] }`).join('\n')}
admin: { listen: 127.0.0.1:${adminPort} }
${extra}`;

  let peer: string;
  let peerPort: number;
  let closedPort: number;

  /** Atomic replace, as editors and the kubelet do. */
  async function publish(text: string): Promise<void> {
    const tmp = join(dir, `.vipcast.yaml.${++n}`);
    await writeFile(tmp, text);
    await rename(tmp, file);
  }

  async function vipNames(): Promise<string[]> {
    const res = await fetch(`http://127.0.0.1:${adminPort}/v1/vips`);
    return ((await res.json()) as Array<{ name: string }>).map((v) => v.name);
  }

  beforeAll(async () => {
    peer = loopbackAddress();
    peerPort = await freePort(peer);
    closedPort = await freePort();
    adminPort = await freePort();
    dir = await mkdtemp(join(tmpdir(), 'vipcast-reload-'));
    file = join(dir, 'vipcast.yaml');
    await publish(render(['web']));
    vipcast = new VipcastProcess(['run', '--config', file]);
    await waitFor(async () => (await vipNames()).join(',') === 'web', { timeoutMs: 20_000, what: () => `admin API (log: ${vipcast.output.slice(-2000)})` });
  });

  afterAll(async () => {
    await vipcast?.stop('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('an invalid file: every problem logged with file:line path, the running config kept', async () => {
    const logged = vipcast.output.length;
    await publish(render(['web', 'Bad_Name']).replace('local_as: 65001', 'local_as: 0'));
    const entry = await waitFor(
      () =>
        vipcast.output
          .slice(logged)
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg: string; problems?: string[] })
          .find((e) => e.problems !== undefined),
      { timeoutMs: 10_000, what: 'the reload error in the log' },
    );
    expect(entry.msg).toMatch(/invalid.*keeping the running one/);
    expect(entry.problems).toEqual([expect.stringMatching(new RegExp(`^${file}:2 bgp\\.local_as: `)), expect.stringMatching(new RegExp(`^${file}:\\d+ vips\\[1\\]\\.name: `))]);
    expect(await vipNames()).toEqual(['web']);
    const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
    expect(await res.text()).toMatch(/^vipcast_config_reloads_total\{outcome="error"\} [1-9]/m);
  });

  it('a valid file replaces it: the new VIP appears, the removed one goes', async () => {
    await publish(render(['web', 'api']));
    await waitFor(async () => (await vipNames()).join(',') === 'web,api', { timeoutMs: 10_000, what: 'web,api after the file change' });
    await publish(render(['api']));
    await waitFor(async () => (await vipNames()).join(',') === 'api', { timeoutMs: 10_000, what: 'api only after the file change' });
  });

  it('SIGTERM after the reloads: exit 0', async () => {
    const { code } = await vipcast.stop('SIGTERM');
    expect(code).toBe(0);
  });
});

describe.skipIf(!hasBuild())('vipcast run: SIGHUP (built binary)', () => {
  let dir: string;
  let vipcast: VipcastProcess;
  let adminPort: number;

  async function vipNames(): Promise<string[]> {
    const res = await fetch(`http://127.0.0.1:${adminPort}/v1/vips`);
    return ((await res.json()) as Array<{ name: string }>).map((v) => v.name);
  }

  afterAll(async () => {
    await vipcast?.stop('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reloads a file the directory watch cannot see (a symlink to a file elsewhere, edited in place)', async () => {
    const peer = loopbackAddress();
    const peerPort = await freePort(peer);
    const closedPort = await freePort();
    adminPort = await freePort();
    const render = (vips: string[]): string => `bgp:
  local_as: 65001
  router_id: 10.0.0.1
  neighbors: [{ address: ${peer}, port: ${peerPort}, remote_as: 65000, ebgp_multihop: 2 }]
vips:
${vips.map((name, i) => `  - { name: ${name}, prefix: 192.0.2.${10 + i}, checks: [{ type: tcp, address: "127.0.0.1:${closedPort}" }] }`).join('\n')}
admin: { listen: 127.0.0.1:${adminPort} }
`;
    dir = await mkdtemp(join(tmpdir(), 'vipcast-sighup-'));
    await mkdir(join(dir, 'etc'));
    await mkdir(join(dir, 'srv'));
    const real = join(dir, 'srv', 'vipcast.yaml');
    await writeFile(real, render(['web']));
    await symlink(real, join(dir, 'etc', 'vipcast.yaml'));
    vipcast = new VipcastProcess(['run', '--config', join(dir, 'etc', 'vipcast.yaml')]);
    await waitFor(async () => (await vipNames()).join(',') === 'web', { timeoutMs: 20_000, what: () => `admin API (log: ${vipcast.output.slice(-2000)})` });
    await writeFile(real, render(['web', 'api']));
    // The watched directory (etc/) did not change: nothing reloads until SIGHUP. Ample time to
    // (wrongly) act; the watcher debounces 200 ms.
    await sleep(1_000);
    expect(await vipNames()).toEqual(['web']);
    vipcast.signal('SIGHUP');
    await waitFor(async () => (await vipNames()).join(',') === 'web,api', { timeoutMs: 10_000, what: 'web,api after SIGHUP' });
  });
});
