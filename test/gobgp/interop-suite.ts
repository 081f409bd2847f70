/**
 * The GoBGP backend against a real gobgpd of one version, peered with a real BIRD 2 on loopback.
 * One file per version runs this (so CI can run versions in parallel); within it the scenarios
 * run in order and share one BIRD and two gobgpd (a bare one vipcast manages, one configured by
 * gobgpd.conf for manage: false). Assertions read BIRD (`birdc show route all`) and the daemon
 * (`gobgp global rib`, `gobgp neighbor`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bird, hasBird } from '../harness/bird.js';
import { Gobgpd, gobgpVersions, type GobgpVersion } from '../harness/gobgpd.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { waitFor } from '../harness/wait.js';
import { credentials } from '@grpc/grpc-js';
import { GobgpBackend, GobgpError, type GobgpBackendOptions } from '../../src/gobgp/index.js';
import { DEFAULT_TIMEOUTS } from '../../src/gobgp/api/client.js';
import { connect } from '../../src/gobgp/api/detect.js';
import { CONNECT_RETRY_SEC, neighborToPeer } from '../../src/gobgp/peers.js';
import { BIRD_STRICT_BIND, LOCAL_AS, ROUTER_AS, backendOptions, birdListening, captureLogger, desired, neighbor, vip } from './fixtures.js';

const RICH = vip('192.0.2.10/32', {
  med: 10,
  localPref: 200,
  asPathPrepend: 2,
  communities: ['65001:100'],
  largeCommunities: ['65001:1:2'],
  extendedCommunities: ['rt:65001:5'],
});
const V6 = vip('2001:db8::10/128', { med: 30, communities: ['65001:600'] });
const B = vip('192.0.2.11/32');
const MD5_PASSWORD = 'vipcast-md5-secret';
const C = vip('192.0.2.12/32');

export function interopSuite(label: string): void {
  const version = gobgpVersions().find((v) => v.label === label);
  if (!version) throw new Error(`unknown GoBGP version ${label}`);
  const missing = version.missing ?? (hasBird() ? undefined : 'BIRD 2 not installed (apt-get install bird2)');
  if (missing) {
    describe(`GoBGP ${label}`, () => {
      it.skip(`skipped: ${missing}`, () => undefined);
    });
    console.warn(`GoBGP ${label} interop tests skipped: ${missing}`);
    return;
  }
  defineSuite(version);
}

function defineSuite(version: GobgpVersion): void {
  const binary = version.binary!;
  const birdAddr = loopbackAddress();
  const managedAddr = loopbackAddress();
  const confAddr = loopbackAddress();
  /** BIRD's second address: GoBGP keys neighbors by address, so the MD5 session needs its own. */
  const birdMd5Addr = loopbackAddress();
  /** And its own source address: BIRD matches an incoming session by the neighbor address. */
  const md5Addr = loopbackAddress();
  let birdMd5Port = 0;
  let birdPort = 0;
  let bird: Bird | undefined;
  let managed: Gobgpd | undefined;
  let configured: Gobgpd | undefined;
  const backends: GobgpBackend[] = [];

  const gm = (): Gobgpd => managed!;
  const br = (): Bird => bird!;

  /** A backend that afterAll cleans up even when a test fails. */
  function newBackend(opts: GobgpBackendOptions): GobgpBackend {
    const b = new GobgpBackend(opts);
    backends.push(b);
    return b;
  }

  const managedNeighbor = () => neighbor(birdAddr, birdPort, managedAddr);

  async function birdRoute(table: 'master4' | 'master6', protocol: string, prefix: string): Promise<string | undefined> {
    const routes = await br().routes(table, protocol);
    return routes.find((r) => r.prefix === prefix)?.detail;
  }

  /**
   * Waits for BIRD to report `proto` Established; returns how long it took. On a timeout the
   * error carries both sides' view (BIRD's protocol and log, `gobgp neighbor`, gobgpd's log), as
   * a session that does not come up is decided by their FSMs, not by vipcast.
   */
  async function birdEstablished(proto: string, d: Gobgpd, timeoutMs = 30_000): Promise<number> {
    const t0 = Date.now();
    try {
      await waitFor(async () => (await br().protocolState(proto)) === 'Established', { timeoutMs, what: `BIRD session ${proto} Established` });
    } catch (err) {
      const birdLog = (await br().log().catch(() => '')).split('\n').slice(-40).join('\n');
      const show = await br().birdc(`show protocols all ${proto}`).catch((e: Error) => e.message);
      const nb = await d.cli(['neighbor']).catch((e: Error) => e.message);
      throw new Error(`${(err as Error).message}\n--- birdc show protocols all ${proto}:\n${show}\n--- BIRD log:\n${birdLog}\n--- gobgp neighbor:\n${nb}\n--- gobgpd log:\n${d.log.slice(-6000)}`, { cause: err });
    }
    return Date.now() - t0;
  }

  /** The BIRD neighbor's connect_retry as the daemon reports it (`gobgp neighbor ADDR -j`). */
  async function connectRetry(): Promise<number | undefined> {
    const p = JSON.parse(await gm().cli(['neighbor', birdAddr, '-j'])) as { timers?: { config?: { connect_retry?: number } } };
    return p.timers?.config?.connect_retry;
  }

  /** When BIRD's session `proto` last changed state (`show protocols`, column Since). */
  async function birdSince(proto: string): Promise<string | undefined> {
    const line = (await br().birdc(`show protocols ${proto}`)).split('\n').find((l) => l.startsWith(proto));
    return line?.trim().split(/\s+/)[4];
  }

  /**
   * Waits until BIRD's `proto` is Established and has stayed so, with the same Since, for
   * `quietMs`: an UpdatePeer that resets the session may land after a first Established reading,
   * so one reading is not a baseline to compare against.
   */
  async function birdSettled(proto: string, d: Gobgpd, quietMs = 1_500): Promise<string | undefined> {
    await birdEstablished(proto, d);
    let since = await birdSince(proto);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, quietMs));
      const now = await birdSince(proto);
      if (now === since && (await br().protocolState(proto)) === 'Established') return since;
      await birdEstablished(proto, d);
      since = await birdSince(proto);
    }
    throw new Error(`BIRD session ${proto} did not settle (still changing after 20 × ${quietMs} ms)`);
  }

  async function ribPrefixes(d: Gobgpd, family: 'ipv4' | 'ipv6'): Promise<string[]> {
    return (await d.rib(family)).map((p) => p.prefix).sort();
  }

  describe(`GoBGP ${version.label} (API ${version.api}) with BIRD 2`, () => {
    beforeAll(async () => {
      birdPort = await freePort(birdAddr);
      birdMd5Port = await freePort(birdMd5Addr);
      bird = await Bird.start({
        routerId: '10.0.0.254',
        config: [managedAddr, confAddr, md5Addr]
          .map(
            (addr, i) => `
protocol bgp ${['vm', 'vc', 'vp'][i]} {
  local ${i === 2 ? birdMd5Addr : birdAddr} port ${i === 2 ? birdMd5Port : birdPort} as ${ROUTER_AS};
  neighbor ${addr} as ${LOCAL_AS};${i === 2 ? `\n  password "${MD5_PASSWORD}";` : ''}
  passive on;
  ${BIRD_STRICT_BIND}
  multihop;  # loopback peers: no shared subnet, next hops resolved recursively ('gc' and 'gm' are BIRD keywords)
  hold time 9;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}`,
          )
          .join('\n'),
      });
      // debug: the FSM's connect attempts ("try to connect") are in the log a failure prints.
      await birdListening(br(), ['vm', 'vc', 'vp']);
      managed = await Gobgpd.start({ binary, logLevel: 'debug' });
    });

    afterAll(async () => {
      for (const b of backends) b.detach();
      await managed?.stop();
      await configured?.stop();
      await bird?.stop();
    });

    it('manage: false against a daemon that is not started fails with GOBGP_NOT_STARTED', async () => {
      const { logger } = captureLogger();
      const b = newBackend(backendOptions(gm().apiAddress, { manage: false, logger }));
      const err = await b.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GobgpError);
      expect((err as GobgpError).code).toBe('GOBGP_NOT_STARTED');
      expect(await gm().cli(['global'])).toMatch(/AS:\s+0/);
    });

    it('forcing the other API generation fails with GOBGP_API_UNSUPPORTED', async () => {
      const { logger } = captureLogger();
      const other = version.api === 'v3' ? 'v4' : 'v3';
      const b = newBackend(backendOptions(gm().apiAddress, { apiVersion: other, logger }));
      await expect(b.start()).rejects.toMatchObject({ code: 'GOBGP_API_UNSUPPORTED' });
    });

    let main: GobgpBackend | undefined;

    it('manage: true configures a bare daemon (global, neighbor) and auto-detects the API', async () => {
      const { logger } = captureLogger();
      main = newBackend(backendOptions(gm().apiAddress, { neighbors: [managedNeighbor()], logger }));
      const t0 = Date.now();
      await main.start();
      const startMs = Date.now() - t0;
      expect(main.apiVersion).toBe(version.api);
      expect(main.readiness().ready).toBe(true);
      expect(await gm().cli(['global'])).toMatch(new RegExp(`AS:\\s+${LOCAL_AS}`));
      expect(await gm().cli(['neighbor'])).toContain(birdAddr);
      expect(await connectRetry()).toBe(CONNECT_RETRY_SEC);
      await birdEstablished('vm', gm());
      console.log(`[gobgp ${version.label}] bare daemon: start() ${startMs} ms, BIRD Established ${Date.now() - t0} ms after start()`);
      await waitFor(() => main!.peers().find((p) => p.address === birdAddr && p.state === 'established'), {
        timeoutMs: 15_000,
        what: 'peers() to report the BIRD session established',
      });
    });

    it('VIPs (IPv4 and IPv6) reach BIRD with their attributes', async () => {
      await main!.apply(desired(RICH, V6, B));
      const v4 = await waitFor(() => birdRoute('master4', 'vm', RICH.prefix), { timeoutMs: 20_000, what: `${RICH.prefix} at BIRD` });
      expect(v4).toContain('BGP.origin: IGP');
      // Two prepends plus the AS GoBGP adds towards an eBGP peer.
      expect(v4).toMatch(/BGP\.as_path: 65001 65001 65001\n/);
      expect(v4).toContain('BGP.med: 10');
      expect(v4).toContain('BGP.community: (65001,100)');
      expect(v4).toContain('BGP.large_community: (65001, 1, 2)');
      expect(v4).toContain('BGP.ext_community: (rt, 65001, 5)');
      // eBGP: next-hop-self with the session's local address.
      expect(v4).toContain(`BGP.next_hop: ${managedAddr}`);
      const v6 = await waitFor(() => birdRoute('master6', 'vm', V6.prefix), { timeoutMs: 20_000, what: `${V6.prefix} at BIRD` });
      expect(v6).toContain('BGP.med: 30');
      expect(v6).toContain('BGP.community: (65001,600)');
      expect(v6).toContain('BGP.next_hop: 2001:db8::1');
      // LOCAL_PREF is not sent to eBGP peers (RFC 4271 §5.1.5): check it in the daemon's RIB.
      const rich = (await gm().cli(['global', 'rib', '-a', 'ipv4', RICH.prefix])).split('\n').find((l) => l.includes(RICH.prefix));
      expect(rich).toContain('LocalPref: 200');
      expect(await waitFor(() => birdRoute('master4', 'vm', B.prefix), { timeoutMs: 20_000, what: `${B.prefix} at BIRD` })).toContain('BGP.as_path: 65001\n');
    });

    it('withdrawals arrive and changed attributes replace the path', async () => {
      await main!.apply(desired({ ...RICH, attributes: { ...RICH.attributes, med: 20 } }, B));
      await waitFor(async () => (await birdRoute('master6', 'vm', V6.prefix)) === undefined, { timeoutMs: 20_000, what: `${V6.prefix} withdrawn at BIRD` });
      const v4 = await waitFor(async () => ((await birdRoute('master4', 'vm', RICH.prefix)) ?? '').includes('BGP.med: 20') && birdRoute('master4', 'vm', RICH.prefix), {
        timeoutMs: 20_000,
        what: 'MED 20 at BIRD',
      });
      expect(v4).toContain('BGP.community: (65001,100)');
      expect(await ribPrefixes(gm(), 'ipv4')).toEqual([RICH.prefix, B.prefix].sort());
    });

    it('a path added with `gobgp global rib add` survives our applies and repairs', async () => {
      await gm().cli(['global', 'rib', 'add', '198.51.100.7/32', 'community', '65001:999', '-a', 'ipv4']);
      // Same prefix as one of our VIPs: a separate path (identifier 0) that ours never replaces.
      await gm().cli(['global', 'rib', 'add', B.prefix, 'community', '65001:777', '-a', 'ipv4']);
      await main!.apply(desired(RICH, B, C));
      await main!.resync();
      const rib = await gm().rib('ipv4');
      expect(rib.filter((p) => p.prefix === B.prefix)).toHaveLength(2);
      expect(rib.map((p) => p.prefix)).toContain('198.51.100.7/32');
      // Withdraw our B: the operator's B stays, and BIRD ends up with it.
      await main!.apply(desired(RICH, C));
      await main!.resync();
      const after = await gm().rib('ipv4');
      expect(after.filter((p) => p.prefix === B.prefix)).toHaveLength(1);
      expect(JSON.stringify(after.find((p) => p.prefix === B.prefix)?.attrs)).toContain(String(65001 * 65536 + 777));
      await waitFor(async () => ((await birdRoute('master4', 'vm', B.prefix)) ?? '').includes('(65001,777)'), { timeoutMs: 20_000, what: "the operator's path for B at BIRD" });
      expect(after.map((p) => p.prefix)).toContain('198.51.100.7/32');
    });

    it('a new backend instance (vipcast kill -9 + restart) removes stale paths on its first reconcile', async () => {
      // main holds RICH and C; it dies without a word (no withdraw, no cleanup).
      main!.detach();
      const { logger } = captureLogger();
      const next = newBackend(backendOptions(gm().apiAddress, { neighbors: [managedNeighbor()], logger }));
      main = next; // live for the following tests even if an assertion below fails
      await next.start();
      // Before the manager's first apply, nothing of ours is touched.
      expect(await ribPrefixes(gm(), 'ipv4')).toContain(C.prefix);
      await next.apply(desired(RICH));
      const prefixes = await ribPrefixes(gm(), 'ipv4');
      expect(prefixes).not.toContain(C.prefix);
      expect(prefixes).toContain(RICH.prefix);
      expect(prefixes).toContain('198.51.100.7/32');
      expect(prefixes).toContain(B.prefix); // the operator's
      await waitFor(async () => (await birdRoute('master4', 'vm', C.prefix)) === undefined, { timeoutMs: 20_000, what: `${C.prefix} withdrawn at BIRD` });
    });

    it('a neighbor an older vipcast added with another connect_retry (5 s) is left as it is: the session stays up', async () => {
      const { client } = await connect(gm().apiAddress, 'auto', credentials.createInsecure(), DEFAULT_TIMEOUTS, 2_000);
      try {
        const older = neighborToPeer(managedNeighbor(), undefined);
        // Set from outside; with 3.10 this UpdatePeer itself resets the session, so wait for it.
        await client.updatePeer({ ...older, timers: { config: { ...older.timers!.config, connect_retry: 5 } } });
      } finally {
        client.close();
      }
      expect(await connectRetry()).toBe(5);
      const since = await birdSettled('vm', gm());
      main!.detach();
      const { logger } = captureLogger();
      const next = newBackend(backendOptions(gm().apiAddress, { neighbors: [managedNeighbor()], logger }));
      // The following tests use `main`: even if an assertion below fails, it must be the live one.
      main = next;
      await next.start();
      await next.resync();
      // Not worth an UpdatePeer: 3.10 would drop the session for it.
      expect(await connectRetry()).toBe(5);
      expect(await br().protocolState('vm')).toBe('Established');
      expect(await birdSince('vm')).toBe(since);
    });

    it('peer state follows the session (WatchEvent), with RFC 4271 names', async () => {
      const changes: string[] = [];
      main!.onPeerChange((p) => changes.push(p.state));
      await br().birdc('disable vm');
      try {
        const down = await waitFor(() => main!.peers().find((p) => p.address === birdAddr && p.state !== 'established'), { timeoutMs: 20_000, what: 'peer to leave established' });
        expect(['idle', 'connect', 'active', 'opensent', 'openconfirm']).toContain(down.state);
      } finally {
        // Later tests need the session: never leave it disabled behind a failed assertion.
        await br().birdc('enable vm');
      }
      await waitFor(() => main!.peers().find((p) => p.address === birdAddr && p.state === 'established'), { timeoutMs: 30_000, what: 'peer established again' });
      expect(changes).toContain('established');
      expect(changes.some((s) => s !== 'established')).toBe(true);
    });

    it('gobgpd kill -9 + restart: readiness drops, and global, neighbor and paths are restored within 2 s of the daemon answering', async () => {
      const { logger, lines } = captureLogger();
      main!.detach();
      const b = newBackend(backendOptions(gm().apiAddress, { neighbors: [managedNeighbor()], logger }));
      await b.start();
      await b.apply(desired(RICH, V6));
      await gm().kill('SIGKILL');
      await waitFor(() => !b.readiness().ready, { timeoutMs: 10_000, what: 'readiness false after the daemon died' });
      expect(b.readiness().reason).toMatch(/gobgpd/);
      // Several recovery probes fail while it is down (every 200 ms).
      await new Promise((r) => setTimeout(r, 1_000));
      await gm().launch();
      const answering = Date.now();
      await waitFor(async () => (await ribPrefixes(gm(), 'ipv4')).includes(RICH.prefix) && (await ribPrefixes(gm(), 'ipv6')).includes(V6.prefix), {
        timeoutMs: 10_000,
        intervalMs: 20,
        what: 'paths back in the restarted daemon',
      });
      const restoreMs = Date.now() - answering;
      const recovered = await waitFor(() => lines().find((l) => l.msg === 'gobgpd connection recovered'), { timeoutMs: 5_000, what: 'the recovery log line' });
      console.log(
        `[gobgp ${version.label}] restart: paths in the daemon's RIB ${restoreMs} ms after its API answered the CLI; ` +
          `the backend's own connect-to-restored time ${String(recovered.restoreMs)} ms`,
      );
      expect(restoreMs).toBeLessThan(2_000);
      expect(await gm().cli(['global'])).toMatch(new RegExp(`AS:\\s+${LOCAL_AS}`));
      await waitFor(() => b.readiness().ready, { timeoutMs: 5_000, what: 'readiness true again' });
      await waitFor(async () => (await birdRoute('master4', 'vm', RICH.prefix)) !== undefined, { timeoutMs: 30_000, what: 'RICH at BIRD after the restart' });
      // The outage was logged once (not once per probe), and the recovery once.
      const downLines = lines().filter((l) => String(l.msg).startsWith('gobgpd not usable'));
      expect(downLines).toHaveLength(1);
      expect(lines().filter((l) => l.msg === 'gobgpd connection recovered')).toHaveLength(1);
      expect(recovered.restoreMs).toBeLessThan(2_000);
      main = b;
    });

    it('a hung daemon (SIGSTOP) is noticed by the periodic check through call deadlines, and picked up again', async () => {
      const { logger } = captureLogger();
      main!.detach();
      const b = newBackend(backendOptions(gm().apiAddress, { neighbors: [managedNeighbor()], logger, resyncIntervalMs: 1_000, timeouts: { unaryMs: 1_000, streamMs: 5_000 } }));
      await b.start();
      await b.apply(desired(RICH, V6));
      gm().signal('SIGSTOP');
      try {
        await waitFor(() => !b.readiness().ready, { timeoutMs: 15_000, what: 'readiness false while the daemon hangs' });
        await expect(b.apply(desired(RICH))).rejects.toMatchObject({ code: 'GOBGP_UNAVAILABLE' });
      } finally {
        gm().signal('SIGCONT');
      }
      await waitFor(() => b.readiness().ready, { timeoutMs: 15_000, what: 'readiness true after SIGCONT' });
      // The apply that failed while it hung is part of the desired set the recovery restored.
      await waitFor(async () => !(await ribPrefixes(gm(), 'ipv6')).includes(V6.prefix), { timeoutMs: 10_000, what: 'V6 withdrawn after recovery' });
      expect(await ribPrefixes(gm(), 'ipv4')).toContain(RICH.prefix);
      main = b;
    });

    it('updateNeighbors: a changed hold time is updated, a removed neighbor deleted', async () => {
      await main!.updateNeighbors([neighbor(birdAddr, birdPort, managedAddr, { holdTimeSec: 15 })]);
      const json = await gm().cli(['neighbor', birdAddr, '-j']);
      expect(json.replace(/\s/g, '')).toMatch(/"hold_time":15/);
      await main!.updateNeighbors([]);
      expect(await gm().cli(['neighbor'])).not.toContain(birdAddr);
      await main!.updateNeighbors([managedNeighbor()]);
      await birdEstablished('vm', gm());
    });

    it('a neighbor with password_file: TCP-MD5 session with BIRD', async () => {
      const file = join(await mkdtemp(join(tmpdir(), 'vipcast-md5-')), 'bgp-password');
      await writeFile(file, `${MD5_PASSWORD}\n`); // secrets mounted from files often end with a newline
      await main!.updateNeighbors([managedNeighbor(), neighbor(birdMd5Addr, birdMd5Port, md5Addr, { passwordFile: file })]);
      await birdEstablished('vp', gm());
      await waitFor(() => birdRoute('master4', 'vp', RICH.prefix), { timeoutMs: 20_000, what: `${RICH.prefix} at BIRD via the MD5 session` });
      await main!.updateNeighbors([managedNeighbor()]);
      await rm(dirname(file), { recursive: true, force: true });
    });

    it('withdraw all + resync confirms, stop() deletes the neighbors vipcast configured', async () => {
      // The restart above dropped the operator's paths (GoBGP keeps no API paths): add one again.
      await gm().cli(['global', 'rib', 'add', '198.51.100.7/32', 'community', '65001:999', '-a', 'ipv4']);
      await main!.apply(desired());
      await main!.resync();
      const left = await ribPrefixes(gm(), 'ipv4');
      expect(left).not.toContain(RICH.prefix);
      expect(left).toContain('198.51.100.7/32');
      await waitFor(async () => (await birdRoute('master4', 'vm', RICH.prefix)) === undefined, { timeoutMs: 20_000, what: 'RICH withdrawn at BIRD' });
      await main!.stop('vipcast shutting down');
      expect(await gm().cli(['neighbor'])).not.toContain(birdAddr);
    });

    it('manage: false works against a gobgpd.conf and leaves its neighbors alone', async () => {
      configured = await Gobgpd.start({ binary, configToml: gobgpdConf(confAddr, birdAddr, birdPort), logLevel: 'debug' });
      await birdEstablished('vc', configured);
      const { logger } = captureLogger();
      const b = newBackend(backendOptions(configured.apiAddress, { manage: false, neighbors: [], logger }));
      await b.start();
      expect(b.apiVersion).toBe(version.api);
      await b.apply(desired(RICH, V6));
      const v4 = await waitFor(() => birdRoute('master4', 'vc', RICH.prefix), { timeoutMs: 20_000, what: `${RICH.prefix} at BIRD via vc` });
      expect(v4).toContain('BGP.large_community: (65001, 1, 2)');
      await waitFor(() => birdRoute('master6', 'vc', V6.prefix), { timeoutMs: 20_000, what: `${V6.prefix} at BIRD via vc` });
      // The daemon restarts with its config (global and neighbor) but without API paths: ours come back.
      await configured.kill('SIGKILL');
      await configured.launch();
      await waitFor(async () => (await ribPrefixes(configured!, 'ipv4')).includes(RICH.prefix), { timeoutMs: 10_000, what: 'RICH back in the restarted configured daemon' });
      await b.apply(desired(V6));
      await waitFor(async () => (await birdRoute('master4', 'vc', RICH.prefix)) === undefined, { timeoutMs: 30_000, what: 'RICH withdrawn via vc' });
      await b.stop('bye');
      expect(await configured.cli(['neighbor'])).toContain(birdAddr);
      expect(await ribPrefixes(configured, 'ipv6')).toEqual([V6.prefix]);
    });
  });
}

/** gobgpd.conf (TOML) for manage: false: global and the BIRD neighbor owned by the file. */
function gobgpdConf(localAddr: string, birdAddr: string, birdPort: number): string {
  return `
[global.config]
  as = ${LOCAL_AS}
  router-id = "10.0.0.2"
  port = -1

[[neighbors]]
  [neighbors.config]
    neighbor-address = "${birdAddr}"
    peer-as = ${ROUTER_AS}
  [neighbors.transport.config]
    local-address = "${localAddr}"
    remote-port = ${birdPort}
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
    connect-retry = 5
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`;
}
