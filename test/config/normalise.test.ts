/** Defaults, per-VIP overrides, canonical forms and derived values of the normalised config. */
import { dirname, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FILE, MINIMAL, load, lineOf } from './helpers.js';

describe('defaults', () => {
  test('a minimal config gets every documented default', () => {
    const { config, warnings } = load(MINIMAL);
    expect(warnings).toEqual([]);
    expect(config.source).toBe(resolve(FILE));
    expect(config.bgp).toMatchObject({
      localAs: 65001,
      routerId: '10.0.0.1',
      gobgpAddress: undefined,
      gobgp: { manage: true, apiVersion: 'auto', resyncIntervalMs: 30_000 },
      listen: undefined,
      holdTimeSec: 90,
      nextHop: {},
    });
    expect(config.bgp.neighbors).toEqual([
      expect.objectContaining({ address: '10.0.0.254', port: 179, remoteAs: 65000, passive: false, ebgpMultihop: 0, families: ['ipv4'], holdTimeSec: 90 }),
    ]);
    expect(config.health).toEqual({ intervalMs: 2000, fastIntervalMs: 500, timeoutMs: 1000, rise: 2, fall: 2, jitter: 0.1 });
    expect(config.shutdown).toEqual({ gracefulCommunity: true, gracePeriodMs: 5000 });
    expect(config.admin).toEqual({ host: '127.0.0.1', port: 9179, tokenFile: undefined });
    expect(config.log).toEqual({ level: 'info', format: 'json' });
    const [vip] = config.vips;
    expect(vip).toMatchObject({
      name: 'web',
      prefix: '192.0.2.10/32',
      family: 'ipv4',
      address: '192.0.2.10',
      require: 'all',
      policy: config.health,
      attributes: { origin: 'igp', asPathPrepend: 0, communities: [], largeCommunities: [], extendedCommunities: [] },
      whenDown: 'withdraw',
      holdDownMs: 0,
      drainFile: undefined,
      bindInterface: undefined,
    });
    expect(vip!.checks).toEqual([{ type: 'tcp', label: 'tcp:127.0.0.1:8080', timeoutMs: 1000, passive: true, host: '127.0.0.1', port: 8080 }]);
  });

  test('check defaults per type: passive, method, expect_status, dns port and record, grpc service', () => {
    const { config } = load(
      MINIMAL.replace(
        '      - type: tcp\n        address: 127.0.0.1:8080\n',
        `      - { type: http, url: "https://127.0.0.1:8443/healthz?full=1" }
      - { type: exec, command: [/bin/true] }
      - { type: exec, command: [/bin/check], watch_pid_file: run/app.pid }
      - { type: dns, server: "::1", name: example.com }
      - { type: grpc, address: "[::1]:9000" }
`,
      ),
    );
    const checks = config.vips[0]!.checks;
    expect(checks.map((c) => [c.type, c.label, c.passive])).toEqual([
      ['http', 'http:127.0.0.1:8443/healthz?full=1', true],
      ['exec', 'exec:/bin/true', false],
      ['exec', 'exec:/bin/check', true],
      ['dns', 'dns:example.com/A@[::1]:53', false],
      ['grpc', 'grpc:[::1]:9000', true],
    ]);
    expect(checks[0]).toMatchObject({ method: 'GET', expectStatus: [[200, 299]], headers: {}, tlsSkipVerify: false, bodyContains: undefined });
    expect(checks[2]).toMatchObject({ watchPidFile: resolve(dirname(resolve(FILE)), 'run/app.pid') });
    expect(checks[3]).toMatchObject({ host: '::1', port: 53, record: 'A' });
    expect(checks[4]).toMatchObject({ service: '', tls: false, tlsSkipVerify: false });
  });
});

describe('overrides', () => {
  test('health defaults, then per-VIP keys, then per-check timeout', () => {
    const { config } = load(
      MINIMAL.replace('vips:\n', 'health:\n  interval: 5s\n  rise: 3\n  jitter: 0%\nvips:\n').replace(
        '    checks:\n',
        '    interval: 3s\n    fall: 1\n    timeout: 2s\n    checks:\n      - { type: tcp, address: "127.0.0.1:1", timeout: 250ms }\n',
      ),
    );
    expect(config.health).toMatchObject({ intervalMs: 5000, rise: 3, jitter: 0 });
    const vip = config.vips[0]!;
    expect(vip.policy).toEqual({ intervalMs: 3000, fastIntervalMs: 500, timeoutMs: 2000, rise: 3, fall: 1, jitter: 0 });
    expect(vip.checks.map((c) => c.timeoutMs)).toEqual([250, 2000]);
  });

  test('neighbor hold_time and families override the bgp-level defaults', () => {
    const { config } = load(MINIMAL.replace('  neighbors:\n', '  hold_time: 30s\n  neighbors:\n    - { address: 10.0.0.253, remote_as: 65000, hold_time: 0s, families: [ipv6, ipv4] }\n'));
    expect(config.bgp.neighbors.map((n) => [n.address, n.holdTimeSec, n.families])).toEqual([
      ['10.0.0.253', 0, ['ipv6', 'ipv4']],
      ['10.0.0.254', 30, ['ipv4']],
    ]);
  });

  test('when_down attributes are merged over the VIP attributes (lists replaced)', () => {
    const { config } = load(
      MINIMAL.replace(
        '    checks:\n',
        '    attributes: { med: 10, local_pref: 200, communities: ["65001:1"], as_path_prepend: 1 }\n    when_down: { attributes: { med: 1000, communities: [graceful-shutdown] } }\n    checks:\n',
      ),
    );
    const vip = config.vips[0]!;
    expect(vip.attributes).toMatchObject({ med: 10, localPref: 200, communities: ['65001:1'], asPathPrepend: 1 });
    expect(vip.whenDown).toEqual({
      attributes: { ...vip.attributes, med: 1000, communities: ['65535:0'] },
    });
  });

  test('global bind_interface is every VIP default; a VIP may set its own', () => {
    const text = MINIMAL + '  - { name: db, prefix: 192.0.2.11, bind_interface: dummy0, checks: [{ type: tcp, address: "127.0.0.1:5432" }] }\nbind_interface: lo\n';
    const { config } = load(text);
    expect(config.vips.map((v) => v.bindInterface)).toEqual(['lo', 'dummy0']);
  });

  test('require any and k', () => {
    const two = '    checks:\n      - { type: tcp, address: "127.0.0.1:1" }\n';
    expect(load(MINIMAL.replace('    checks:\n', `    require: any\n${two}`)).config.vips[0]!.require).toBe('any');
    expect(load(MINIMAL.replace('    checks:\n', `    require: 2\n${two}`)).config.vips[0]!.require).toBe(2);
  });
});

describe('canonical forms', () => {
  test('IPv6 prefixes, neighbor and next-hop addresses are lower-case compressed', () => {
    const { config } = load(
      MINIMAL.replace('router_id: 10.0.0.1', 'router_id: 10.0.0.1\n  next_hop: { ipv6: "2001:DB8:0:0:0:0:0:1" }')
        .replace('address: 10.0.0.254', 'address: "2001:0DB8::FE"')
        .replace('prefix: 192.0.2.10', 'prefix: "2001:DB8:0000::10/128"'),
    );
    expect(config.vips[0]).toMatchObject({ prefix: '2001:db8::10/128', address: '2001:db8::10', family: 'ipv6' });
    expect(config.bgp.nextHop.ipv6).toBe('2001:db8::1');
    expect(config.bgp.neighbors[0]).toMatchObject({ address: '2001:db8::fe', families: ['ipv6'] });
  });

  test('communities: well-known names resolved, leading zeros dropped; extended lower-cased', () => {
    const { config } = load(
      MINIMAL.replace(
        '    checks:\n',
        '    attributes:\n      communities: [no-export, NO-ADVERTISE, blackhole, no-export-subconfed, graceful-shutdown, "065001:007"]\n      large_communities: ["4200000000:0001:2"]\n      extended_communities: ["RT:65001:4294967295", "soo:4200000000:65535", "rt:192.0.2.1:7", "0002FDE900000064"]\n    checks:\n',
      ),
    );
    expect(config.vips[0]!.attributes).toMatchObject({
      communities: ['65535:65281', '65535:65282', '65535:666', '65535:65283', '65535:0', '65001:7'],
      largeCommunities: ['4200000000:1:2'],
      extendedCommunities: ['rt:65001:4294967295', 'soo:4200000000:65535', 'rt:192.0.2.1:7', '0002fde900000064'],
    });
  });

  test('expect_status in every written form', () => {
    const forms: Array<[string, Array<[number, number]>]> = [
      ['"200"', [[200, 200]]],
      ['204', [[204, 204]]],
      ['"200-299"', [[200, 299]]],
      ['"200,204, 301-302"', [[200, 200], [204, 204], [301, 302]]],
      ['[200, "300-399"]', [[200, 200], [300, 399]]],
    ];
    for (const [written, ranges] of forms) {
      const { config } = load(MINIMAL.replace('      - type: tcp\n        address: 127.0.0.1:8080\n', `      - { type: http, url: "http://127.0.0.1/", expect_status: ${written} }\n`));
      const check = config.vips[0]!.checks[0]!;
      expect(check.type === 'http' && check.expectStatus, written).toEqual(ranges);
    }
  });

  test('relative paths resolve against the config file directory', () => {
    const { config } = load(MINIMAL.replace('    checks:\n', '    drain_file: drain/web\n    checks:\n') + 'admin: { token_file: /abs/token }\n', 'conf/vipcast.yaml');
    expect(config.vips[0]!.drainFile).toBe(resolve('conf', 'drain/web'));
    expect(config.admin.tokenFile).toBe('/abs/token');
  });

  test('gobgp_address and admin.listen with IPv6 and host names', () => {
    const { config } = load(MINIMAL.replace('router_id: 10.0.0.1', 'router_id: 10.0.0.1\n  gobgp_address: "[::1]:50051"') + 'admin: { listen: "[::1]:9179" }\n');
    expect(config.bgp.gobgpAddress).toBe('[::1]:50051');
    expect(config.admin).toMatchObject({ host: '::1', port: 9179 });
    const named = load(MINIMAL.replace('router_id: 10.0.0.1', 'router_id: 10.0.0.1\n  gobgp_address: GoBGP.local:50051'));
    expect(named.config.bgp.gobgpAddress).toBe('gobgp.local:50051');
  });
});

describe('families and warnings', () => {
  test('neighbors default to the families the VIPs need', () => {
    const text = MINIMAL + '  - { name: v6, prefix: "2001:db8::10", checks: [{ type: tcp, address: "[::1]:80" }] }\n';
    const { config, warnings } = load(text.replace('router_id: 10.0.0.1', 'router_id: 10.0.0.1\n  next_hop: { ipv6: "2001:db8::1" }'));
    expect(config.bgp.neighbors[0]!.families).toEqual(['ipv4', 'ipv6']);
    expect(warnings).toEqual([]);
  });

  test('IPv6 VIPs over an IPv4 session without an IPv6 next hop: a warning at the neighbor', () => {
    const text = MINIMAL + '  - { name: v6, prefix: "2001:db8::10", checks: [{ type: tcp, address: "[::1]:80" }] }\n';
    const { warnings } = load(text);
    expect(warnings.map((w) => [w.path, w.line])).toEqual([['bgp.neighbors[0].address', lineOf(text, '10.0.0.254')]]);
    expect(warnings[0]!.message).toMatch(/next_hop\.ipv6/);
  });

  test('a VIP family no neighbor carries: a warning at the VIP', () => {
    const text = MINIMAL.replace('      remote_as: 65000\n', '      remote_as: 65000\n      families: [ipv6]\n');
    const { warnings } = load(text);
    expect(warnings.map((w) => w.path)).toEqual(['vips[0].prefix']);
  });

  test('no VIPs: valid, with a warning', () => {
    const { config, warnings } = load(MINIMAL.slice(0, MINIMAL.indexOf('vips:')));
    expect(config.vips).toEqual([]);
    expect(config.bgp.neighbors[0]!.families).toEqual(['ipv4']);
    expect(warnings.map((w) => w.path)).toEqual(['vips']);
  });

  test('GoBGP backend: password_file, passive without listen, and listen are accepted', () => {
    const { config } = load(
      MINIMAL.replace('router_id: 10.0.0.1', 'router_id: 10.0.0.1\n  gobgp_address: 127.0.0.1:50051\n  listen: { port: 1790 }').replace(
        '      remote_as: 65000\n',
        '      remote_as: 65000\n      password_file: /run/secrets/bgp\n      passive: true\n',
      ),
    );
    expect(config.bgp.listen).toEqual({ address: '::', port: 1790 });
    expect(config.bgp.neighbors[0]).toMatchObject({ passwordFile: '/run/secrets/bgp', passive: true });
  });

  test('built-in speaker: a passive neighbor is fine with bgp.listen', () => {
    const { config } = load(MINIMAL.replace('router_id: 10.0.0.1', 'router_id: 10.0.0.1\n  listen: { address: 127.0.0.1, port: 1179 }').replace('      remote_as: 65000\n', '      remote_as: 65000\n      passive: true\n'));
    expect(config.bgp.neighbors[0]!.passive).toBe(true);
  });

  test('GoBGP with manage: false and no neighbors', () => {
    const text = 'bgp:\n  local_as: 65001\n  router_id: 10.0.0.1\n  gobgp_address: 127.0.0.1:50051\n  gobgp: { manage: false, api_version: v3 }\n' + MINIMAL.slice(MINIMAL.indexOf('vips:'));
    const { config, warnings } = load(text);
    expect(config.bgp.gobgp).toMatchObject({ manage: false, apiVersion: 'v3' });
    expect(warnings).toEqual([]);
  });
});
