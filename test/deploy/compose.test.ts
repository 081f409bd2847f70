/**
 * docker-compose.yml for real, on podman: vipcast + gobgpd sidecar + BIRD router + demo
 * backend. Everything is asserted at the router (`birdc show route ... all` inside its
 * container), never from vipcast's own logs:
 *   - `up`: the VIP reaches the router with its community;
 *   - stopping the backend withdraws it, starting it advertises it again;
 *   - `docker-compose stop vipcast`: the route first carries GRACEFUL_SHUTDOWN (65535:0), then
 *     is withdrawn, and vipcast exits 0;
 *   - fail-safe: a hung vipcast (frozen with `podman pause`) gets gobgpd stopped by the
 *     sidecar's /healthz watchdog, so the route goes; unfrozen, vipcast restores it.
 * Images come from deploy/build-images.sh (podman layer cache: seconds when nothing changed).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, sleep } from '../harness/wait.js';
import { DOCKER_HOST, engineUnavailable, run } from './lib/engine.js';

const repo = join(import.meta.dirname, '..', '..');
const project = 'vipcast-deploy-test';
const VIP = '198.51.100.10/32';
const env = { ...process.env, DOCKER_HOST, COMPOSE_PROJECT_NAME: project, COMPOSE_INTERACTIVE_NO_CLI: '1' };
const reason = await engineUnavailable(['podman', 'docker-compose']);
if (reason !== undefined) console.warn(`compose.test.ts: skipped: ${reason}`);

async function compose(...args: string[]): Promise<string> {
  const { stdout } = await run('docker-compose', ['-f', join(repo, 'docker-compose.yml'), '-p', project, ...args], {
    cwd: repo,
    env,
    timeout: 180_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

async function containerId(service: string): Promise<string> {
  const id = (await compose('ps', '-q', service)).trim().split('\n')[0] ?? '';
  if (!id) throw new Error(`no container for service ${service}`);
  return id;
}

/** The VIP's route at the router as BIRD shows it, or '' when BIRD has none. */
async function routeAtRouter(): Promise<string> {
  const args = ['exec', await containerId('router'), 'birdc', '-s', '/run/bird/bird.ctl', 'show', 'route', VIP, 'all'];
  try {
    const { stdout } = await run('podman', args, { timeout: 20_000 });
    return stdout.includes(VIP) ? stdout : '';
  } catch (err) {
    // birdc exits 1 with "Network not found" when BIRD has no such route.
    if (String((err as { stdout?: string }).stdout).includes('Network not found')) return '';
    throw err;
  }
}

/**
 * Removes the stack. docker-compose v1 over podman can leave the `pod` container (and so the
 * network) behind when it removes the containers that share its namespace in parallel, so
 * leftovers are removed by the project's label too.
 */
async function cleanup(): Promise<void> {
  await compose('down', '-t', '5', '--remove-orphans').catch(() => undefined); // finished below
  const { stdout } = await run('podman', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]).catch(() => ({ stdout: '' }));
  for (const id of stdout.split('\n').filter(Boolean)) await run('podman', ['rm', '-f', '-t', '2', id]).catch(() => undefined);
  await run('podman', ['network', 'rm', '-f', `${project}_fabric`]).catch(() => undefined);
}

async function logsOf(service: string): Promise<string> {
  try {
    return (await compose('logs', '--no-color', '--tail', '40', service)).slice(-4000);
  } catch (err) {
    return String(err);
  }
}

describe.skipIf(reason !== undefined)(`docker-compose stack on podman${reason ? ` (skipped: ${reason})` : ''}`, () => {
  beforeAll(async () => {
    const t0 = Date.now();
    await run('bash', [join(repo, 'deploy', 'build-images.sh')], { cwd: repo, env, timeout: 900_000, maxBuffer: 16 * 1024 * 1024 });
    console.log(`images ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await cleanup(); // leftovers of an aborted run
    await compose('up', '-d');
  }, 960_000);

  afterAll(async () => {
    if (reason === undefined) await cleanup();
  }, 120_000);

  it('up: the VIP reaches the router with its community, next hop the vipcast pod', { timeout: 120_000 }, async () => {
    const route = await waitFor(async () => (await routeAtRouter()) || undefined, { timeoutMs: 90_000, intervalMs: 500, what: `${VIP} at the router` }).catch(
      async (err: unknown) => {
        throw new Error(`${String(err)}\nvipcast:\n${await logsOf('vipcast')}\ngobgpd:\n${await logsOf('gobgpd')}`);
      },
    );
    expect(route).toMatch(/BGP\.as_path: 65001\b/);
    expect(route).toMatch(/BGP\.next_hop: 172\.31\.179\.3\b/);
    expect(route).toMatch(/BGP\.community:.*\(65001,100\)/);
    expect(route).not.toContain('(65535,0)');
    // The session stays up across vipcast's drift repair (resync_interval 10s): no re-created
    // neighbor, no flap. BIRD's protocol line carries the time it last changed state.
    const since = async () => {
      const { stdout } = await run('podman', ['exec', await containerId('router'), 'birdc', '-s', '/run/bird/bird.ctl', 'show', 'protocols', 'vipcast']);
      const line = stdout.split('\n').find((l) => l.startsWith('vipcast'));
      expect(line, stdout).toMatch(/\bup\b.*Established/);
      return line!.split(/\s+/)[4];
    };
    const first = await since();
    await sleep(12_000);
    expect(await since()).toBe(first);
  });

  it('stopping the backend withdraws the VIP; starting it advertises it again', { timeout: 150_000 }, async () => {
    await compose('stop', '-t', '2', 'backend');
    await waitFor(async () => (await routeAtRouter()) === '', { timeoutMs: 30_000, intervalMs: 250, what: 'withdrawal after the backend stopped' });
    await compose('start', 'backend');
    // Generous: the restarted container is a new host on the bridge, and vipcast's HTTP check
    // has been seen to need ~30 s to drop its connection to the vanished one.
    await waitFor(async () => (await routeAtRouter()) || undefined, { timeoutMs: 90_000, intervalMs: 250, what: 're-advertisement after the backend started' });
  });

  it('docker-compose stop vipcast: GRACEFUL_SHUTDOWN first, then the withdraw, and vipcast exits 0', { timeout: 120_000 }, async () => {
    const before = await waitFor(async () => (await routeAtRouter()) || undefined, { timeoutMs: 30_000, what: 'the route before stopping' });
    expect(before).not.toContain('(65535,0)');
    const id = await containerId('vipcast');
    // Sample inside the router (birdc takes milliseconds; a podman exec per sample can take a
    // second under load). Bounded: 600 rounds, and it stops after the route has been gone for 20.
    const sampler = `i=0; g=0; while [ $i -lt 600 ] && [ $g -lt 20 ]; do
      out=$(birdc -s /run/bird/bird.ctl show route ${VIP} all 2>&1)
      case "$out" in *"(65535,0)"*) echo graceful; g=0;; *"Network not found"*) echo gone; g=$((g+1));; *${VIP}*) echo normal; g=0;; *) echo other;; esac
      i=$((i+1)); sleep 0.05; done`;
    const sampling = run('podman', ['exec', await containerId('router'), 'sh', '-c', sampler], { timeout: 120_000, maxBuffer: 4 * 1024 * 1024 });
    await sleep(500);
    await compose('stop', '-t', '30', 'vipcast');
    const samples = (await sampling).stdout.split('\n').filter(Boolean);
    const seen = samples.filter((v, i) => v !== samples[i - 1]);
    expect(seen, `route states seen at the router: ${seen.join(' -> ')}`).toEqual(['normal', 'graceful', 'gone']);
    const { stdout } = await run('podman', ['inspect', '--format', '{{.State.ExitCode}}', id]);
    expect(stdout.trim()).toBe('0');
  });

  it('fail-safe: a hung vipcast gets its routes withdrawn by the sidecar watchdog; resumed, it restores them', { timeout: 240_000 }, async () => {
    await compose('start', 'vipcast');
    await waitFor(async () => (await routeAtRouter()) || undefined, { timeoutMs: 60_000, intervalMs: 250, what: 'the route after restarting vipcast' });
    const id = await containerId('vipcast');
    await run('podman', ['pause', id]);
    try {
      // Watchdog: grace 10 s since the last good /healthz, 3 failures 2 s apart; then gobgpd stops.
      await waitFor(async () => (await routeAtRouter()) === '', { timeoutMs: 60_000, intervalMs: 500, what: 'withdrawal while vipcast is frozen' });
    } finally {
      await run('podman', ['unpause', id]).catch(() => undefined);
    }
    // compose restarted the sidecar (on-failure); vipcast reconfigures the fresh gobgpd.
    await waitFor(async () => (await routeAtRouter()) || undefined, { timeoutMs: 60_000, intervalMs: 500, what: 'the route after vipcast resumed' }).catch(
      async (err: unknown) => {
        throw new Error(`${String(err)}\nvipcast:\n${await logsOf('vipcast')}\ngobgpd:\n${await logsOf('gobgpd')}`);
      },
    );
  });
});
