/**
 * deploy/kubernetes: every kustomization (base and overlays) is rendered with the real
 * kustomize and every resulting manifest is validated against the Kubernetes API schemas
 * (strict: unknown fields are errors). Then the design is asserted on the rendered objects:
 * probes, the sidecar's fail-safe liveness, drain timing, securityContext, resources, the
 * config mounted straight from the ConfigMap (per-node values from the environment, so a change
 * reloads in place), and that the shipped vipcast.yaml / gobgpd.conf are accepted by vipcast's
 * loader and by gobgpd.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { findKustomize } from './lib/kustomize.js';
import { validateManifest } from './lib/k8s-validate.js';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument --
   rendered manifests are untyped JSON, walked by the assertions below */
type Obj = Record<string, any>;

const root = join(import.meta.dirname, '..', '..', 'deploy', 'kubernetes');
const overlays = readdirSync(join(root, 'overlays')).sort();
const kustomizations = ['base', ...overlays.map((o) => `overlays/${o}`)];
const kustomize = findKustomize();
const reason = 'reason' in kustomize ? kustomize.reason : undefined;
if (reason !== undefined) console.warn(`kubernetes.test.ts: skipped: ${reason}`);

const rendered = new Map<string, string>();
/** Fresh objects each call (tests mutate them), one kustomize run per kustomization. */
function render(dir: string): Obj[] {
  if ('reason' in kustomize) throw new Error(kustomize.reason);
  if (!rendered.has(dir)) rendered.set(dir, kustomize.render(join(root, dir)));
  const docs = parseAllDocuments(rendered.get(dir)!);
  for (const d of docs) if (d.errors.length > 0) throw new Error(`${dir}: ${d.errors.map(String).join('; ')}`);
  return docs.map((d) => d.toJS() as Obj).filter((o) => o !== null);
}

const byKind = (docs: Obj[], kind: string): Obj[] => docs.filter((d) => d.kind === kind);
const one = (docs: Obj[], kind: string): Obj => {
  const found = byKind(docs, kind);
  expect(found, `exactly one ${kind}`).toHaveLength(1);
  return found[0]!;
};
const container = (ds: Obj, name: string): Obj | undefined =>
  (ds.spec.template.spec.containers as Obj[]).find((c) => c.name === name);

/** The node's address in these tests (the Downward API's status.hostIP). */
const NODE_IP = '192.0.2.21';

/** The ConfigMap's vipcast.yaml, exactly as mounted into every pod. */
function configText(docs: Obj[]): string {
  const cm = byKind(docs, 'ConfigMap').find((c) => String(c.metadata.name).startsWith('vipcast-config'));
  expect(cm, 'vipcast-config ConfigMap').toBeDefined();
  return String(cm!.data['vipcast.yaml']);
}

/** What vipcast loads on a node: the ConfigMap's file with NODE_IP in its environment. */
function nodeConfig(docs: Obj[]) {
  return parseConfig(configText(docs), 'vipcast.yaml', { NODE_IP });
}

describe.skipIf(reason !== undefined)(`Kubernetes manifests${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('finds the base and the overlays', () => {
    expect(overlays).toEqual(expect.arrayContaining(['bind-interface', 'builtin-speaker', 'gobgp-config']));
  });

  it('the validator rejects what the API server would (negative controls)', async () => {
    const ds = render('base').find((d) => d.kind === 'DaemonSet')!;
    const typo = structuredClone(ds);
    typo.spec.template.spec.containers[0].livenesProbe = typo.spec.template.spec.containers[0].livenessProbe;
    expect((await validateManifest(typo)).map((p) => p.path)).toContain('.spec.template.spec.containers[0].livenesProbe');
    const wrongType = structuredClone(ds);
    wrongType.spec.template.spec.terminationGracePeriodSeconds = '45';
    expect(await validateManifest(wrongType)).not.toHaveLength(0);
    const missing = structuredClone(ds);
    delete missing.spec.selector;
    expect(await validateManifest(missing)).not.toHaveLength(0);
  });

  describe.each(kustomizations)('%s', (dir) => {
    it('renders, and every manifest is valid against the Kubernetes schemas (strict)', async () => {
      const docs = render(dir);
      expect(docs.map((d) => d.kind).sort()).toEqual(expect.arrayContaining(['ConfigMap', 'DaemonSet', 'Namespace', 'ServiceAccount']));
      for (const doc of docs) {
        expect(await validateManifest(doc), `${doc.kind}/${doc.metadata?.name}`).toEqual([]);
      }
    });

    it('every namespaced object is in vipcast-system and every ConfigMap volume names a rendered ConfigMap', () => {
      const docs = render(dir);
      for (const d of docs) if (d.kind !== 'Namespace') expect(d.metadata.namespace, `${d.kind}/${d.metadata.name}`).toBe('vipcast-system');
      const ds = one(docs, 'DaemonSet');
      const names = byKind(docs, 'ConfigMap').map((c) => c.metadata.name as string);
      for (const v of ds.spec.template.spec.volumes as Obj[]) if (v.configMap) expect(names, `volume ${v.name}`).toContain(v.configMap.name);
    });

    it('ships a vipcast.yaml that vipcast accepts, on the ports the probes use', () => {
      const docs = render(dir);
      const ds = one(docs, 'DaemonSet');
      const cfg = nodeConfig(docs);
      const vipcast = container(ds, 'vipcast')!;
      const adminPort = (vipcast.ports as Obj[]).find((p) => p.name === 'admin')!.containerPort;
      expect(cfg.admin.port).toBe(adminPort);
      // hostNetwork: kubelet and Prometheus reach the admin API on the node's address.
      expect(cfg.admin.host).toBe('0.0.0.0');
      const ann = ds.spec.template.metadata.annotations;
      expect(ann['prometheus.io/scrape']).toBe('true');
      expect(Number(ann['prometheus.io/port'])).toBe(adminPort);
      expect(ann['prometheus.io/path']).toBe('/metrics');
      expect(vipcast.args).toEqual(['run', '--config', '/etc/vipcast/vipcast.yaml']);
      const sidecar = container(ds, 'gobgp');
      if (cfg.bgp.gobgpAddress !== undefined) {
        expect(sidecar, 'a GoBGP backend needs the sidecar').toBeDefined();
        const api = (sidecar!.env as Obj[]).find((e) => e.name === 'GOBGP_API_HOSTS')!.value;
        expect(api).toBe(cfg.bgp.gobgpAddress);
      } else {
        expect(sidecar, 'the built-in speaker runs without the sidecar').toBeUndefined();
      }
    });

    it('config: the ConfigMap mounted as a directory (no subPath), NODE_IP from status.hostIP, no per-node rendering', () => {
      const docs = render(dir);
      const ds = one(docs, 'DaemonSet');
      const spec = ds.spec.template.spec;
      const vipcast = container(ds, 'vipcast')!;
      const file = vipcast.args[vipcast.args.indexOf('--config') + 1] as string;
      // The config file's directory is a ConfigMap volume, mounted whole: a subPath mount would
      // never see an update, and vipcast watches the directory (the kubelet's ..data swap).
      const mount = (vipcast.volumeMounts as Obj[]).find((m) => m.mountPath === file.slice(0, file.lastIndexOf('/')));
      expect(mount, `a volume mounted at the directory of ${file}`).toBeDefined();
      expect(mount!.subPath).toBeUndefined();
      expect(mount!.subPathExpr).toBeUndefined();
      expect(mount!.readOnly).toBe(true);
      const volume = (spec.volumes as Obj[]).find((v) => v.name === mount!.name)!;
      const cm = byKind(docs, 'ConfigMap').find((c) => c.metadata.name === volume.configMap?.name);
      expect(cm, `volume ${mount!.name} is the vipcast-config ConfigMap`).toBeDefined();
      expect(Object.keys(cm!.data)).toContain(file.slice(file.lastIndexOf('/') + 1));
      expect(volume.configMap.items, 'items would remap (or drop) keys').toBeUndefined();
      // No hash suffix: a changed ConfigMap keeps its name, so the pod template (and the pods)
      // stay as they are and the kubelet updates the mounted file in place.
      expect(cm!.metadata.name).toBe('vipcast-config');
      // The node's address from the Downward API, expanded by vipcast's loader.
      const env = (vipcast.env as Obj[]).find((e) => e.name === 'NODE_IP');
      expect(env?.valueFrom).toEqual({ fieldRef: { fieldPath: 'status.hostIP' } });
      const text = configText(docs);
      expect(text).toContain('${NODE_IP}');
      expect(text).not.toContain('@NODE_IP@');
      const cfg = nodeConfig(docs);
      expect(cfg.bgp.routerId).toBe(NODE_IP);
      for (const n of cfg.bgp.neighbors) if (n.localAddress !== undefined) expect(n.localAddress).toBe(NODE_IP);
      // Without NODE_IP the config is invalid, naming the variable (no silent empty router id).
      expect(() => parseConfig(text, 'vipcast.yaml', {})).toThrow(/NODE_IP/);
      // Nothing renders a per-node copy before vipcast starts.
      expect(spec.initContainers ?? []).toEqual([]);
    });

    it('probes: vipcast /healthz and /readyz; the sidecar lives only while vipcast /healthz answers', () => {
      const ds = one(render(dir), 'DaemonSet');
      const spec = ds.spec.template.spec;
      expect(spec.hostNetwork).toBe(true);
      const vipcast = container(ds, 'vipcast')!;
      expect(vipcast.livenessProbe.httpGet).toMatchObject({ path: '/healthz', port: 'admin' });
      expect(vipcast.readinessProbe.httpGet).toMatchObject({ path: '/readyz', port: 'admin' });
      const sidecar = container(ds, 'gobgp');
      if (sidecar) {
        const adminPort = (vipcast.ports as Obj[]).find((p) => p.name === 'admin')!.containerPort;
        // Same network namespace: the sidecar's liveness is vipcast's health (the fail-safe).
        expect(sidecar.livenessProbe.httpGet).toEqual({ path: '/healthz', port: adminPort });
      }
    });

    it('termination: preStop starts the drain and the grace period outlasts it', () => {
      const docs = render(dir);
      const ds = one(docs, 'DaemonSet');
      const cfg = nodeConfig(docs);
      const grace = ds.spec.template.spec.terminationGracePeriodSeconds as number;
      const vipcast = container(ds, 'vipcast')!;
      const preStop = (vipcast.lifecycle.preStop.exec.command as string[]).join(' ');
      expect(preStop).toContain('kill -TERM 1');
      const bound = Number(/-lt (\d+)/.exec(preStop)?.[1]);
      // Drain = grace_period (graceful-shutdown community held) + the withdraw and its
      // confirmation; give the withdraw at least 10 s, and the preStop loop must end first.
      expect(grace * 1000).toBeGreaterThan(cfg.shutdown.gracePeriodMs + 10_000);
      expect(bound).toBeGreaterThan(cfg.shutdown.gracePeriodMs / 1000 + 10);
      expect(bound).toBeLessThan(grace);
      const sidecar = container(ds, 'gobgp');
      if (sidecar) {
        const cmd = sidecar.lifecycle.preStop.exec.command as string[];
        expect(cmd.slice(0, 2)).toEqual(['/usr/local/bin/gobgp-sidecar', 'wait-vipcast-exit']);
        expect(Number(cmd[3])).toBeLessThan(grace);
        expect(Number(cmd[3])).toBeGreaterThan(cfg.shutdown.gracePeriodMs / 1000 + 10);
      }
    });

    it('securityContext: non-root, read-only root, no privilege escalation, capabilities only where needed', () => {
      const docs = render(dir);
      const ds = one(docs, 'DaemonSet');
      const cfg = nodeConfig(docs);
      const spec = ds.spec.template.spec;
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      expect(spec.automountServiceAccountToken).toBe(false);
      const needsAdmin = cfg.vips.some((v) => v.bindInterface !== undefined);
      const needsBind = cfg.bgp.gobgpAddress === undefined && cfg.bgp.listen !== undefined && cfg.bgp.listen.port < 1024;
      for (const c of [...((spec.initContainers as Obj[] | undefined) ?? []), ...(spec.containers as Obj[])]) {
        const sc = c.securityContext;
        expect(sc.readOnlyRootFilesystem, c.name).toBe(true);
        expect(sc.allowPrivilegeEscalation, c.name).toBe(false);
        expect(sc.capabilities.drop, c.name).toEqual(['ALL']);
        expect(c.resources.requests.cpu && c.resources.requests.memory, c.name).toBeTruthy();
        expect(c.resources.limits.memory, c.name).toBeTruthy();
        const added: string[] = sc.capabilities.add ?? [];
        const want = c.name === 'vipcast' ? [...(needsAdmin ? ['NET_ADMIN'] : []), ...(needsBind ? ['NET_BIND_SERVICE'] : [])] : [];
        expect(added.sort(), c.name).toEqual(want.sort());
        // Kubernetes gives added capabilities to uid 0 only; everything else runs as non-root.
        if (want.length > 0) expect(sc.runAsUser, c.name).toBe(0);
        else expect(sc.runAsUser, c.name).toBeGreaterThan(0);
      }
    });
  });

  it('gobgp-config: the sidecar renders gobgpd.conf (gobgpd has no env expansion), which gobgpd accepts (--dry-run)', () => {
    const docs = render('overlays/gobgp-config');
    const cfg = nodeConfig(docs);
    expect(cfg.bgp.gobgp.manage).toBe(false);
    const cm = byKind(docs, 'ConfigMap').find((c) => String(c.metadata.name).startsWith('gobgpd-config'))!;
    // gobgpd does not follow a changed file: its ConfigMap keeps the content hash, so a change
    // to it rolls the DaemonSet (vipcast-config, without the hash, reloads in place).
    expect(cm.metadata.name).toMatch(/^gobgpd-config-[a-z0-9]{10}$/);
    const ds = one(docs, 'DaemonSet');
    const sidecar = container(ds, 'gobgp')!;
    const confPath = (sidecar.env as Obj[]).find((e) => e.name === 'GOBGP_CONFIG')?.value as string;
    expect(confPath).toBe('/etc/gobgp/gobgpd.conf');
    expect((sidecar.env as Obj[]).find((e) => e.name === 'NODE_IP')?.valueFrom).toEqual({ fieldRef: { fieldPath: 'status.hostIP' } });
    const mounts = sidecar.volumeMounts as Obj[];
    const volumes = ds.spec.template.spec.volumes as Obj[];
    const tplMount = mounts.find((m) => volumes.find((v) => v.name === m.name)?.configMap?.name === cm.metadata.name)!;
    expect(tplMount.readOnly).toBe(true);
    const outMount = mounts.find((m) => m.mountPath === '/etc/gobgp')!;
    expect(volumes.find((v) => v.name === outMount.name)?.emptyDir).toBeDefined();
    // The sidecar's command renders the template into its own emptyDir, then starts as usual.
    const cmd = (sidecar.command as string[]).join(' ');
    expect(cmd).toContain(`${tplMount.mountPath}/gobgpd.conf >${confPath}`);
    expect(cmd).toMatch(/&& exec \/usr\/local\/bin\/gobgp-sidecar$/);
    const conf = String(cm.data['gobgpd.conf']).replaceAll('@NODE_IP@', NODE_IP);
    expect(conf).toContain(`router-id = "${NODE_IP}"`);
    expect(conf).toMatch(/port = -1/);
    if (!existsSync('/usr/bin/gobgpd')) return; // asserted structurally above; Debian gobgpd checks it for real
    const dir = mkdtempSync(join(tmpdir(), 'vipcast-gobgpd-'));
    const dryRun = (text: string) => {
      writeFileSync(join(dir, 'gobgpd.conf'), text);
      const r = spawnSync('/usr/bin/gobgpd', ['--dry-run', '-f', join(dir, 'gobgpd.conf'), '-t', 'toml'], { encoding: 'utf8', timeout: 20_000 });
      return { status: r.status, out: `${r.stdout}${r.stderr}` };
    };
    try {
      expect(dryRun(conf)).toMatchObject({ status: 0, out: expect.stringContaining('Finished reading the config file') });
      // Negative control: gobgpd's dry run does reject an unknown key.
      const bad = dryRun(conf.replace(/^ {2}port = -1$/m, '  port = -1\n  bogus-key = 1'));
      expect(bad.status).not.toBe(0);
      expect(bad.out).toContain('invalid keys: bogus-key');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
