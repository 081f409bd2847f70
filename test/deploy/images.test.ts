/**
 * The container images as shipped (deploy/build-images.sh), run for real on podman:
 *   - every Containerfile takes its base image as a build argument (no registry needed), and
 *     vipcast's is multi-stage (checked on the files, engine or not);
 *   - vipcast: non-root, `vipcast run` as entrypoint, the config at /etc/vipcast/vipcast.yaml,
 *     no setuid/setgid files; the prebuilt koffi (C FFI) loads and sets a socket's TTL; the Kubernetes vipcast container (from the rendered DaemonSet: its
 *     args with `check`, its env with NODE_IP for status.hostIP, the ConfigMap mounted read-only
 *     as the kubelet lays it out) loads the shared config on a read-only root; the Kubernetes
 *     preStop (SIGTERM through tini) makes vipcast drain and exit 0.
 *   - gobgp sidecar: non-root gobgpd with its API on loopback; `wait-vipcast-exit` (its
 *     preStop) waits while vipcast's admin port is open and returns once it is closed; in the
 *     gobgp-config overlay, its exact command renders gobgpd.conf with the node's IP.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { sleep, waitFor } from '../harness/wait.js';
import { DOCKER_HOST, engineUnavailable, run } from './lib/engine.js';
import { findKustomize } from './lib/kustomize.js';

const repo = join(import.meta.dirname, '..', '..');
const reason = await engineUnavailable(['podman']);
if (reason !== undefined) console.warn(`images.test.ts: skipped: ${reason}`);
const prefix = `vipcast-images-test-${process.pid}`;
const started: string[] = [];
let work = '';

async function logsOf(name: string): Promise<string> {
  const { stdout, stderr } = await podman('logs', name).catch((err: unknown) => ({ stdout: String(err), stderr: '' }));
  return `${stdout}${stderr}`;
}

async function podman(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('podman', args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
}

interface K8sContainer {
  name: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string }>;
  securityContext?: { runAsUser?: number; runAsGroup?: number; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
}
interface K8sObject {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: { template: { spec: { containers: K8sContainer[]; volumes: Array<{ name: string; configMap?: { name: string }; emptyDir?: object }> } } };
}

/** The node's address for the Downward API's status.hostIP. */
const HOST_IP = '192.0.2.21';

/** `-e` flags for a container's env as the kubelet sets it (fieldRef status.hostIP = HOST_IP). */
function envArgs(c: K8sContainer): string[] {
  return (c.env ?? []).flatMap((e) => {
    if (e.value !== undefined) return ['-e', `${e.name}=${e.value}`];
    if (e.valueFrom?.fieldRef?.fieldPath === 'status.hostIP') return ['-e', `${e.name}=${HOST_IP}`];
    throw new Error(`env ${e.name}: no stand-in for ${JSON.stringify(e.valueFrom)}`);
  });
}

/** podman flags for a container's securityContext. */
function securityArgs(c: K8sContainer): string[] {
  const sc = c.securityContext ?? {};
  expect(sc.capabilities?.drop).toEqual(['ALL']);
  expect(sc.allowPrivilegeEscalation).toBe(false);
  return ['--user', `${sc.runAsUser}:${sc.runAsGroup}`, '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];
}

/**
 * A ConfigMap volume laid out as the kubelet does: each key a symlink through `..data`, which
 * points at a timestamped directory (swapped atomically on an update).
 */
function kubeletConfigMapVolume(dir: string, data: Record<string, string>): string {
  rmSync(dir, { recursive: true, force: true });
  const stamp = '..2026_01_01_00_00_00.000000001';
  mkdirSync(join(dir, stamp), { recursive: true, mode: 0o755 });
  for (const [key, text] of Object.entries(data)) {
    writeFileSync(join(dir, stamp, key), text, { mode: 0o644 });
    symlinkSync(`..data/${key}`, join(dir, key));
  }
  symlinkSync(stamp, join(dir, '..data'));
  return dir;
}

/** A built-in speaker config whose neighbor never answers: vipcast runs, nothing to reach. */
const standalone = `bgp:
  local_as: 65001
  router_id: 192.0.2.1
  neighbors:
    - { address: 127.0.0.1, port: 1179, remote_as: 65000 }
vips:
  - name: web
    prefix: 198.51.100.10/32
    checks:
      - { type: tcp, address: "127.0.0.1:1" }
shutdown: { graceful_community: true, grace_period: 1s }
admin: { listen: "127.0.0.1:9179" }
`;

describe('Containerfiles (static)', () => {
  const files = readdirSync(join(repo, 'deploy'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(repo, 'deploy', e.name, 'Containerfile'))
    .filter((f) => readdirSync(dirname(f)).includes('Containerfile'));

  it('every image starts FROM the BASE_IMAGE build argument (builds where no registry is reachable)', () => {
    expect(files.map((f) => f.split('/').at(-2)).sort()).toEqual(['demo-backend', 'gobgp', 'image', 'router']);
    for (const f of files) {
      const lines = readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
      expect(lines[0], f).toMatch(/^ARG BASE_IMAGE=localhost\/debian:bookworm$/);
      const froms = lines.filter((l) => /^FROM\b/i.test(l));
      expect(froms.length, f).toBeGreaterThan(0);
      for (const from of froms) expect(from, f).toMatch(/^FROM \$\{BASE_IMAGE\}( AS \w+)?$/);
    }
  });

  it('vipcast: multi-stage (the runtime stage copies only node, node_modules, dist, proto from the builder) and runs as non-root', () => {
    const text = readFileSync(join(repo, 'deploy', 'image', 'Containerfile'), 'utf8');
    expect(text).toMatch(/^FROM \$\{BASE_IMAGE\} AS builder$/m);
    expect(text).toMatch(/^FROM \$\{BASE_IMAGE\} AS runtime$/m);
    const runtime = text.slice(text.indexOf('AS runtime'));
    const copied = [...runtime.matchAll(/^COPY --from=builder (\S+)/gm)].map((m) => m[1]);
    expect(copied).toEqual(['/usr/local/bin/node', '/src/package.json', '/src/node_modules', '/src/dist', '/src/proto']);
    expect(runtime).toMatch(/^USER 10001:10001$/m);
  });
});

describe.skipIf(reason !== undefined)(`container images${reason ? ` (skipped: ${reason})` : ''}`, () => {
  beforeAll(async () => {
    const t0 = Date.now();
    await run('bash', [join(repo, 'deploy', 'build-images.sh'), 'vipcast', 'gobgp'], {
      cwd: repo,
      env: { ...process.env, DOCKER_HOST },
      timeout: 900_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    console.log(`images ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    work = mkdtempSync(join(tmpdir(), 'vipcast-images-'));
  }, 960_000);

  afterAll(async () => {
    for (const name of started) await podman('rm', '-f', '-t', '1', name).catch(() => undefined);
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('vipcast: non-root, `vipcast run` with the config at /etc/vipcast/vipcast.yaml, no setuid files', async () => {
    const { stdout } = await podman('image', 'inspect', '--format', '{{json .Config}}', 'localhost/vipcast:dev');
    const cfg = JSON.parse(stdout) as { User: string; Entrypoint: string[]; Cmd: string[] };
    expect(cfg.User).toBe('10001:10001');
    expect(cfg.Entrypoint).toEqual(['/usr/bin/tini', '--', '/usr/local/bin/vipcast']);
    expect(cfg.Cmd).toEqual(['run', '--config', '/etc/vipcast/vipcast.yaml']);
    const check = await podman('run', '--rm', '--read-only', 'localhost/vipcast:dev', 'check', '--config', '/etc/vipcast/vipcast.yaml');
    expect(check.stdout).toContain('198.51.100.10/32');
    const suid = await podman('run', '--rm', '--user', '0', '--entrypoint', '/usr/bin/find', 'localhost/vipcast:dev', '/', '-xdev', '-type', 'f', '-perm', '/6000');
    expect(suid.stdout.trim()).toBe('');
    const id = await podman('run', '--rm', '--entrypoint', '/usr/bin/id', 'localhost/vipcast:dev', '-u');
    expect(id.stdout.trim()).toBe('10001');
  });

  it('vipcast: the prebuilt koffi loads in the image (uid 10001, read-only root, no capabilities) and sets a socket\'s TTL', async () => {
    // The built-in speaker's TTL / GTSM / TCP-MD5 socket options go through koffi; the image
    // carries the platform's prebuilt binary (@koromix/koffi-linux-*), nothing compiled.
    const script = `import net from 'node:net';
const m = await import('/opt/vipcast/dist/src/net/socket-options.js');
const ok = m.socketOptionsAvailable();
if (ok !== true) { console.error(String(ok)); process.exit(1); }
const srv = net.createServer(() => undefined).listen(0, '127.0.0.1', () => {
  const c = net.connect(srv.address().port, '127.0.0.1', () => {
    m.setHopLimit(c, 7);
    console.log('hop limit ' + m.getHopLimit(c));
    c.destroy();
    srv.close();
  });
  c.on('error', (e) => { console.error(e); process.exit(1); });
});`;
    const out = await podman('run', '--rm', '--read-only', '--cap-drop', 'ALL', '--network', 'none', '--entrypoint', '/usr/local/bin/node',
      'localhost/vipcast:dev', '--input-type=module', '-e', script);
    expect(out.stdout.trim()).toBe('hop limit 7');
  });

  it('the Kubernetes vipcast container reads the ConfigMap as mounted, NODE_IP from its env (vipcast check, read-only root)', async (ctx) => {
    const k = findKustomize();
    if ('reason' in k) return ctx.skip(k.reason);
    const docs = parseAllDocuments(k.render(join(repo, 'deploy', 'kubernetes', 'base'))).map((d) => d.toJS() as K8sObject);
    const ds = docs.find((d) => d.kind === 'DaemonSet')!;
    const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'vipcast-config')!;
    const c = ds.spec!.template.spec.containers.find((x) => x.name === 'vipcast')!;
    // The container's own args with `check` for `run`: same file, same mount, same env.
    expect(c.args![0]).toBe('run');
    const file = c.args![c.args!.indexOf('--config') + 1]!;
    const mount = c.volumeMounts!.find((m) => m.mountPath === dirname(file))!;
    expect(mount.readOnly).toBe(true);
    const volume = kubeletConfigMapVolume(join(work, 'vipcast-config'), cm.data!);
    const base = ['run', '--rm', '--read-only', ...securityArgs(c), '-v', `${volume}:${mount.mountPath}:ro,Z`];
    const env = envArgs(c);
    expect(env).toContain('NODE_IP=192.0.2.21');
    const out = await podman(...base, ...env, 'localhost/vipcast:dev', 'check', ...c.args!.slice(1));
    expect(out.stdout).toContain('router id 192.0.2.21');
    expect(out.stdout).not.toContain('${NODE_IP}');
    // Negative control: without NODE_IP the config is invalid: exit 2, naming the variable.
    const unset = await podman(...base, 'localhost/vipcast:dev', 'check', ...c.args!.slice(1)).then(
      () => ({ code: 0, out: '' }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: err.code, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
    );
    expect(unset.code).toBe(2);
    expect(unset.out).toMatch(/vipcast\.yaml:\d+.*NODE_IP/);
  });

  it('gobgp-config: the sidecar renders gobgpd.conf with the node IP and gobgpd runs it (its exact command)', async (ctx) => {
    const k = findKustomize();
    if ('reason' in k) return ctx.skip(k.reason);
    const docs = parseAllDocuments(k.render(join(repo, 'deploy', 'kubernetes', 'overlays', 'gobgp-config'))).map((d) => d.toJS() as K8sObject);
    const ds = docs.find((d) => d.kind === 'DaemonSet')!;
    const c = ds.spec!.template.spec.containers.find((x) => x.name === 'gobgp')!;
    const vols = ds.spec!.template.spec.volumes;
    const mounts: string[] = [];
    for (const m of c.volumeMounts!) {
      const v = vols.find((x) => x.name === m.name)!;
      if (v.configMap) {
        const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === v.configMap!.name)!;
        mounts.push('-v', `${kubeletConfigMapVolume(join(work, m.name), cm.data!)}:${m.mountPath}:ro,Z`);
      } else {
        expect(v.emptyDir, m.name).toBeDefined(); // an emptyDir is an empty, mode 0777 directory
        const empty = join(work, m.name);
        rmSync(empty, { recursive: true, force: true });
        await run('mkdir', ['-p', '-m', '0777', empty]);
        mounts.push('-v', `${empty}:${m.mountPath}:Z`);
      }
    }
    const name = `${prefix}-gobgp-config`;
    started.push(name);
    await podman('run', '-d', '--name', name, '--read-only', ...securityArgs(c), ...envArgs(c), ...mounts,
      '--entrypoint', c.command![0]!, 'localhost/vipcast-gobgp:dev', ...c.command!.slice(1));
    await waitFor(async () => (await logsOf(name)).includes('gobgpd started') || undefined, { timeoutMs: 30_000, what: 'gobgpd started' }).catch(
      async (err: unknown) => {
        throw new Error(`${String(err)}\n${await logsOf(name)}`);
      },
    );
    const global = await podman('exec', name, 'gobgp', '-u', '127.0.0.1', '-p', '50051', 'global');
    expect(global.stdout).toMatch(/Router-ID:\s*192\.0\.2\.21/);
    const neighbors = await podman('exec', name, 'gobgp', '-u', '127.0.0.1', '-p', '50051', 'neighbor');
    expect(neighbors.stdout).toContain('192.0.2.254');
  });

  it('the Kubernetes preStop (SIGTERM through tini) makes vipcast drain and exit 0', async () => {
    const conf = join(work, 'standalone.yaml');
    writeFileSync(conf, standalone);
    const name = `${prefix}-prestop`;
    started.push(name);
    await podman('run', '-d', '--name', name, '--read-only', '--cap-drop', 'ALL', '--network', 'none', '-v', `${conf}:/etc/vipcast/vipcast.yaml:ro,Z`, 'localhost/vipcast:dev');
    await waitFor(async () => (await logsOf(name)).includes('vipcast started') || undefined, { timeoutMs: 30_000, what: 'vipcast started' }).catch(
      async (err: unknown) => {
        throw new Error(`${String(err)}\n${await logsOf(name)}`);
      },
    );
    // The preStop command of the base DaemonSet's vipcast container.
    const preStop = 'kill -TERM 1; i=0; while kill -0 1 2>/dev/null && [ $i -lt 40 ]; do sleep 1; i=$((i+1)); done';
    const t0 = Date.now();
    await podman('exec', name, '/bin/sh', '-c', preStop).catch(() => undefined); // ends with the container
    await waitFor(async () => (await podman('inspect', '--format', '{{.State.Running}}', name)).stdout.trim() === 'false' || undefined, {
      timeoutMs: 30_000,
      what: 'vipcast to exit after the preStop',
    });
    const code = (await podman('inspect', '--format', '{{.State.ExitCode}}', name)).stdout.trim();
    expect(code).toBe('0');
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(await logsOf(name)).toMatch(/shut|stopp/i);
  });

  it('gobgp sidecar: non-root gobgpd, API on loopback; wait-vipcast-exit waits while vipcast is healthy, not for a hung one', async () => {
    const name = `${prefix}-gobgp`;
    started.push(name);
    await podman('run', '-d', '--name', name, '--read-only', '--cap-drop', 'ALL', '--tmpfs', '/tmp', 'localhost/vipcast-gobgp:dev');
    await waitFor(async () => (await logsOf(name)).includes('gobgpd started') || undefined, {
      timeoutMs: 30_000,
      what: 'gobgpd started',
    });
    const ps = await podman('exec', name, 'gobgp', '-u', '127.0.0.1', '-p', '50051', 'global');
    expect(ps.stdout + ps.stderr).toMatch(/not started|AS:/i);
    const uid = await podman('exec', name, 'bash', '-c', 'stat -c %u /proc/1');
    expect(uid.stdout.trim()).toBe('10002');
    // Nothing on 9179: returns at once.
    let t0 = Date.now();
    await podman('exec', name, '/usr/local/bin/gobgp-sidecar', 'wait-vipcast-exit', '127.0.0.1:9179', '20');
    expect(Date.now() - t0).toBeLessThan(8_000);
    // A healthy, draining vipcast (its /healthz answers 200) in the pod's network namespace: the
    // hook waits until it goes away. Stand-in: node from the vipcast image, serving 200 for 4 s.
    const healthy = `${prefix}-healthz`;
    started.push(healthy);
    const serve = "require('http').createServer((q,s)=>s.end('ok')).listen(9179,'127.0.0.1');setTimeout(()=>process.exit(0),4000)";
    await podman('run', '-d', '--name', healthy, '--network', `container:${name}`, '--entrypoint', '/usr/local/bin/node', 'localhost/vipcast:dev', '-e', serve);
    await sleep(1_000);
    t0 = Date.now();
    await podman('exec', name, '/usr/local/bin/gobgp-sidecar', 'wait-vipcast-exit', '127.0.0.1:9179', '20');
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThan(1_000);
    expect(waited).toBeLessThan(15_000);
    // Something that accepts but never answers /healthz (a hung vipcast): no waiting, so the
    // liveness restart that runs this hook drops the routes at once.
    await podman('exec', '-d', name, 'bash', '-c', 'exec gobgpd --api-hosts 127.0.0.1:9179 --pprof-disable -l panic >/dev/null 2>&1 & sleep 8; kill %1');
    await sleep(1_500);
    t0 = Date.now();
    await podman('exec', name, '/usr/local/bin/gobgp-sidecar', 'wait-vipcast-exit', '127.0.0.1:9179', '20');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
