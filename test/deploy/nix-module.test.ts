/**
 * nix/module.nix evaluated without nixpkgs: test/deploy/nix/module-eval.nix calls the module with
 * stand-ins for the lib functions and pkgs builders it uses and reads its config as the module
 * system would for one definition. Asserted: the settings rendered and checked with
 * `vipcast check` at build time (and the rendered file passes vipcast's check command here), the
 * systemd unit (Restart=on-failure, ExecReload SIGHUP, TimeoutStopSec sized from the grace
 * period, DynamicUser, hardening, capabilities only as needed), secrets as credentials,
 * gobgp.enable wiring services.gobgpd bound to vipcast, the firewall opening, the /healthz
 * watchdog. Starting point: the VM test's own services.vipcast (nix/tests/vipcast-bird.nix).
 * Not covered: nixpkgs' module system and services.gobgpd themselves (the VM test, not run here).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/commands/check.js';
import { parseDuration } from '../../src/config/duration.js';
import { nixDir, nixEval, nixUnavailable as reason, repo, standIns } from './lib/nix.js';

if (reason !== undefined) console.warn(`nix-module.test.ts: skipped: ${reason}`);

interface Unit {
  after?: string[];
  wants?: string[];
  restartTriggers?: string[];
  bindsTo?: string[];
  partOf?: string[];
  path?: string[];
  script?: string;
  serviceConfig: Record<string, unknown>;
}
interface ModuleEval {
  cfg: { stopTimeout: string; settings: Record<string, unknown> };
  enabled: boolean;
  settingsAdded: { bgp?: { gobgp_address?: string }; admin?: { token_file?: string } };
  assertions: Array<{ assertion: boolean; message: string }>;
  firewallPorts: number[];
  vipcast: Unit | null;
  watchdog: Unit | null;
  gobgpdEnabled: boolean;
  gobgpd: Unit | null;
  configFile: { name: string; text: string; checked: boolean; script: string | null; path: string; reloadTrigger: boolean } | null;
}

/** The VM test's node: its services.vipcast exactly as written there. */
const vmVipcast = `((import ${join(nixDir, 'tests', 'vipcast-bird.nix')} { vipcastModule = null; }) { pkgs = { }; lib = { mkForce = x: x; }; }).nodes.node { }`;

/**
 * module.nix with `values` (a Nix expression for services.vipcast). `vm` is the VM test's, with
 * the bgp.gobgp_address that the module's gobgp.enable adds (the stand-in evaluates no fixpoint;
 * the first test checks that the module does add it).
 */
function evalModule(values: string): ModuleEval {
  const vm = `let t = (${vmVipcast}).services.vipcast; in t // { settings = t.settings // { bgp = t.settings.bgp // { gobgp_address = "127.0.0.1:50051"; }; }; }`;
  return nixEval(`let vm = ${vm}; in import ${join(standIns, 'module-eval.nix')} { repo = ${repo}; values = ${values}; }`) as ModuleEval;
}

/** The VM test's values with a settings change (deep-merged, like a NixOS definition). */
const withSettings = (expr: string, rest = '') =>
  `vm // { settings = vm.settings // ${expr}; ${rest} }`;
/** A built-in speaker config (no gobgp): the VM test's VIPs and neighbor, `bgp` extended. */
const builtin = (bgpExtra: string, rest = '') =>
  `vm // { gobgp.enable = false; settings = vm.settings // { bgp = removeAttrs vm.settings.bgp [ "gobgp_address" ] // ${bgpExtra}; }; ${rest} }`;

const seconds = (s: string) => Number(/^(\d+)s$/.exec(s)?.[1]);
const work = mkdtempSync(join(tmpdir(), 'vipcast-nix-module-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(reason !== undefined)(`nix/module.nix${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('the VM test node: checked config, gobgpd bound to vipcast, hardened unit, no capabilities, no port opened', async () => {
    const m = evalModule('vm');
    expect(m.enabled).toBe(true);
    expect(m.assertions.filter((a) => !a.assertion).map((a) => a.message)).toEqual([]);
    // gobgp.enable sets bgp.gobgp_address (a default) to gobgpd's API address.
    expect(m.settingsAdded.bgp?.gobgp_address).toBe('127.0.0.1:50051');

    // The settings are rendered into the store and `vipcast check` runs on them at build time.
    const file = m.configFile!;
    expect(file.checked).toBe(true);
    expect(file.script).toContain('vipcast check --config vipcast.yaml');
    // ... and what is rendered passes vipcast's check command here.
    writeFileSync(join(work, 'vipcast.yaml'), file.text);
    const out: string[] = [];
    const code = await runCheck(join(work, 'vipcast.yaml'), {}, { stdout: (t) => out.push(t), stderr: (t) => out.push(t) });
    expect(code, out.join('')).toBe(0);
    expect(out.join('')).toContain('198.51.100.10/32');

    const unit = m.vipcast!;
    const sc = unit.serviceConfig;
    // From a fixed path (/etc/vipcast/vipcast.yaml is the checked file): a new config alone
    // does not change the unit, it triggers a reload.
    expect(sc.ExecStart).toBe('/nix/store/stand-in-vipcast/bin/vipcast run --config /etc/vipcast/vipcast.yaml');
    expect(file.path).toBe('/nix/store/stand-in-checked-vipcast.yaml');
    expect(file.reloadTrigger).toBe(true);
    expect(sc.ExecReload).toMatch(/\/bin\/kill -HUP \$MAINPID$/);
    expect(sc).toMatchObject({
      Restart: 'on-failure',
      KillMode: 'mixed',
      DynamicUser: true,
      NoNewPrivileges: true,
      ProtectSystem: 'strict',
      ProtectHome: true,
      PrivateTmp: true,
      PrivateDevices: true,
      RestrictSUIDSGID: true,
      AmbientCapabilities: [],
      CapabilityBoundingSet: [],
      RestrictAddressFamilies: ['AF_INET', 'AF_INET6', 'AF_UNIX'],
    });
    // The VM test's grace period is 2s: TimeoutStopSec outlasts it and the withdraw.
    expect(seconds(sc.TimeoutStopSec as string)).toBeGreaterThan(2 + 10);

    // gobgpd: nixpkgs' service, bound to vipcast; vipcast starts after it (so stops before it).
    expect(m.gobgpdEnabled).toBe(true);
    expect(m.gobgpd!.bindsTo).toEqual(['vipcast.service']);
    expect(m.gobgpd!.partOf).toEqual(['vipcast.service']);
    expect(m.gobgpd!.serviceConfig.ExecStart).toMatch(/\/bin\/gobgpd --api-hosts 127\.0\.0\.1:50051 /);
    expect(m.gobgpd!.serviceConfig.ExecStartPre).toEqual([]); // manage: true: starts bare
    // No reload: bare gobgpd does not handle SIGHUP (nixpkgs' `gobgpd -r` would start another).
    expect(m.gobgpd!.serviceConfig.ExecReload).toEqual([]);
    expect(unit.after).toContain('gobgpd.service');
    expect(unit.wants).toContain('gobgpd.service');
    // No bgp.listen: gobgpd only dials out, nothing to open.
    expect(m.firewallPorts).toEqual([]);
  });

  it('a config change reloads in place when vipcast\'s reload applies it (VIPs, health, neighbors, token), else restarts', () => {
    const base = evalModule('vm').vipcast!.restartTriggers;
    expect(base).toHaveLength(1);
    const same = [
      withSettings('{ vips = vm.settings.vips ++ [ { name = "more"; prefix = "198.51.100.11/32"; checks = [ { type = "tcp"; address = "127.0.0.1:8081"; } ]; } ]; }'),
      withSettings('{ health = { interval = "2s"; }; }'),
      withSettings('{ bgp = vm.settings.bgp // { neighbors = [ ]; }; }'),
      withSettings('{ admin = { token_file = "/run/credentials/vipcast.service/admin-token"; }; }'),
    ];
    for (const v of same) expect(evalModule(v).vipcast!.restartTriggers, v).toEqual(base);
    const restart = [
      withSettings('{ bgp = vm.settings.bgp // { local_as = 65009; }; }'),
      withSettings('{ admin = { listen = "127.0.0.1:9180"; }; }'),
      withSettings('{ shutdown = { grace_period = "3s"; }; }'),
    ];
    for (const v of restart) expect(evalModule(v).vipcast!.restartTriggers, v).not.toEqual(base);
  });

  it('gobgp manage: false: gobgpd runs (and first dry-runs) services.gobgpd.settings, and rereads it on reload', () => {
    const m = evalModule(withSettings('{ bgp = vm.settings.bgp // { gobgp.manage = false; }; }'));
    expect(m.gobgpd!.serviceConfig.ExecStart).toMatch(/ -f \/nix\/store\/stand-in-gobgpd\.conf$/);
    expect(m.gobgpd!.serviceConfig.ExecStartPre).toEqual([expect.stringMatching(/gobgpd -f \/nix\/store\/stand-in-gobgpd\.conf -d$/)]);
    expect(m.gobgpd!.serviceConfig.ExecReload).toEqual(['/nix/store/stand-in-coreutils/bin/kill -HUP $MAINPID']);
  });

  it('built-in speaker: NET_BIND_SERVICE and port 179 only when it listens below 1024; no gobgpd', () => {
    const listens = evalModule(builtin('{ listen = { port = 179; }; }'));
    expect(listens.gobgpdEnabled).toBe(false);
    expect(listens.gobgpd).toBeNull();
    expect(listens.vipcast!.after).not.toContain('gobgpd.service');
    expect(listens.vipcast!.serviceConfig.AmbientCapabilities).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(listens.vipcast!.serviceConfig.CapabilityBoundingSet).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(listens.firewallPorts).toEqual([179]);

    const high = evalModule(builtin('{ listen = { port = 1179; }; }'));
    expect(high.vipcast!.serviceConfig.AmbientCapabilities).toEqual([]);
    expect(high.firewallPorts).toEqual([1179]);

    expect(evalModule(builtin('{ listen = { port = 179; }; }', 'openFirewall = false;')).firewallPorts).toEqual([]);
    // Active sessions only: no listener, no capability, nothing opened.
    const active = evalModule(builtin('{ }'));
    expect(active.vipcast!.serviceConfig.AmbientCapabilities).toEqual([]);
    expect(active.firewallPorts).toEqual([]);
  });

  it('bind_interface: CAP_NET_ADMIN, netlink sockets and iproute2, only then', () => {
    const m = evalModule(withSettings('{ vips = map (v: v // { bind_interface = "lo"; }) vm.settings.vips; }'));
    expect(m.vipcast!.serviceConfig.AmbientCapabilities).toEqual(['CAP_NET_ADMIN']);
    expect(m.vipcast!.serviceConfig.RestrictAddressFamilies).toContain('AF_NETLINK');
    expect(m.vipcast!.path).toEqual(['/nix/store/stand-in-iproute2']);
  });

  it('secrets stay files: LoadCredential=, and admin.token_file points at the credential', () => {
    const m = evalModule(`vm // { adminTokenFile = "/run/keys/vipcast-token"; credentialFiles = { tor = "/run/keys/bgp-tor"; }; }`);
    expect(m.vipcast!.serviceConfig.LoadCredential).toEqual(['admin-token:/run/keys/vipcast-token', 'tor:/run/keys/bgp-tor']);
    expect(m.settingsAdded.admin?.token_file).toBe('/run/credentials/vipcast.service/admin-token');
    expect(JSON.stringify(m.configFile)).not.toContain('/run/keys/');
  });

  it('TimeoutStopSec follows shutdown.grace_period; a shorter explicit one fails an assertion', () => {
    const long = evalModule(withSettings('{ shutdown = { graceful_community = true; grace_period = "1m30s"; }; }'));
    expect(long.cfg.stopTimeout).toBe('150s');
    expect(long.vipcast!.serviceConfig.TimeoutStopSec).toBe('150s');
    expect(long.assertions.every((a) => a.assertion)).toBe(true);
    const short = evalModule(withSettings('{ shutdown = { grace_period = "60s"; }; }', 'stopTimeout = "60s";'));
    expect(short.assertions.filter((a) => !a.assertion).map((a) => a.message)).toEqual([expect.stringContaining('stopTimeout (60s) must be longer')]);
    // vipcast's default grace period (5s) when the settings leave it out.
    expect(evalModule(withSettings('{ shutdown = null; }')).cfg.stopTimeout).toBe('65s');
    expect(evalModule('vm // { settings = removeAttrs vm.settings [ "shutdown" ]; }').cfg.stopTimeout).toBe('65s');
  });

  it('duration.nix reads durations as vipcast does (seconds, rounded up; null where vipcast rejects)', () => {
    const samples = ['5s', '500ms', '1m30s', '1.5s', '1h', '0s', '10m', '2', '', '1m30', 'x5s', '5 s'];
    const got = nixEval(`map (import ${join(nixDir, 'duration.nix')}) (builtins.fromJSON ''${JSON.stringify(samples)}'')`) as Array<number | null>;
    const want = samples.map((s) => {
      const d = parseDuration(s);
      return d.ok ? Math.ceil(d.ms / 1000) : null;
    });
    expect(got).toEqual(want);
  });

  it('watchdog: probes /healthz on loopback for a wildcard admin.listen, then restarts and SIGKILLs vipcast', () => {
    const script = (listen: string) => evalModule(withSettings(`{ admin = { listen = "${listen}"; }; }`)).watchdog!.script!;
    expect(script('0.0.0.0:9180')).toContain("'http://127.0.0.1:9180/healthz'");
    expect(script('[::]:9181')).toContain("'http://127.0.0.1:9181/healthz'");
    expect(script('192.0.2.5:9182')).toContain("'http://192.0.2.5:9182/healthz'");
    const s = script('127.0.0.1:9179');
    expect(s).toContain("'http://127.0.0.1:9179/healthz'");
    expect(s.indexOf('systemctl restart --no-block vipcast.service')).toBeGreaterThan(0);
    expect(s.indexOf('systemctl kill --signal=SIGKILL vipcast.service')).toBeGreaterThan(s.indexOf('systemctl restart'));
    expect(evalModule('vm // { watchdog.enable = false; }').watchdog).toBeNull();
  });

  it('disabled: the module adds nothing', () => {
    expect(evalModule('vm // { enable = false; }').enabled).toBe(false);
  });
});
