/**
 * One test per config rule: each asserts the YAML path, the line and the stable code of the
 * problem, never the wording beyond the key path.
 */
import { describe, expect, test } from 'vitest';
import type { ConfigIssueCode } from '../../src/config/types.js';
import { expectIssue, issuesOf, lineOf } from './helpers.js';

/** BGP section for the built-in speaker with one neighbor; `extra` is appended under bgp:. */
function bgp(extra = '', neighborExtra = ''): string {
  return `bgp:
  local_as: 65001
  router_id: 10.0.0.1
${extra}  neighbors:
    - address: 10.0.0.254
      remote_as: 65000
${neighborExtra}`;
}

/** One VIP with one tcp check; `vipExtra` under the VIP, `checks` replaces the check list. */
function vip(vipExtra = '', checks = '      - { type: tcp, address: "127.0.0.1:8080" }\n'): string {
  return `vips:
  - name: web
    prefix: 192.0.2.10
${vipExtra}    checks:
${checks}`;
}

interface Case {
  rule: string;
  text: string;
  path: string;
  marker: string;
  code: ConfigIssueCode;
}

const cases: Case[] = [
  // --- structure
  { rule: 'unknown top-level key', text: bgp() + vip() + 'colour: red\n', path: 'colour', marker: 'colour', code: 'unknown_key' },
  { rule: 'unknown key in a check', text: bgp() + vip('', '      - type: http\n        urll: "http://x/"\n'), path: 'vips[0].checks[0].urll', marker: 'urll', code: 'unknown_key' },
  { rule: 'unknown key in a neighbor', text: bgp('', '      remote_asn: 1\n') + vip(), path: 'bgp.neighbors[0].remote_asn', marker: 'remote_asn', code: 'unknown_key' },
  { rule: 'missing bgp', text: vip(), path: 'bgp', marker: 'vips:', code: 'required' },
  { rule: 'missing local_as: reported at the parent', text: 'bgp:\n  router_id: 10.0.0.1\n  neighbors: [{ address: 10.0.0.254, remote_as: 65000 }]\n' + vip(), path: 'bgp.local_as', marker: 'bgp:', code: 'required' },
  { rule: 'missing neighbor remote_as: at the list item', text: 'bgp:\n  local_as: 65001\n  router_id: 10.0.0.1\n  neighbors:\n    - address: 10.0.0.254\n' + vip(), path: 'bgp.neighbors[0].remote_as', marker: '- address', code: 'required' },
  { rule: 'wrong type', text: bgp('  hold_time: [1]\n') + vip(), path: 'bgp.hold_time', marker: 'hold_time', code: 'invalid_type' },
  // --- numbers and ranges
  { rule: 'local_as 0', text: bgp().replace('local_as: 65001', 'local_as: 0') + vip(), path: 'bgp.local_as', marker: 'local_as', code: 'out_of_range' },
  { rule: 'remote_as above 32 bits', text: bgp().replace('remote_as: 65000', 'remote_as: 4294967296') + vip(), path: 'bgp.neighbors[0].remote_as', marker: 'remote_as', code: 'out_of_range' },
  { rule: 'neighbor port 0', text: bgp('', '      port: 0\n') + vip(), path: 'bgp.neighbors[0].port', marker: 'port: 0', code: 'out_of_range' },
  { rule: 'ebgp_multihop above 255', text: bgp('', '      ebgp_multihop: 256\n') + vip(), path: 'bgp.neighbors[0].ebgp_multihop', marker: 'ebgp_multihop', code: 'out_of_range' },
  { rule: 'hold_time 2s (RFC 4271: 0 or >= 3s)', text: bgp('  hold_time: 2s\n') + vip(), path: 'bgp.hold_time', marker: 'hold_time', code: 'out_of_range' },
  { rule: 'hold_time not whole seconds', text: bgp('', '      hold_time: 3500ms\n') + vip(), path: 'bgp.neighbors[0].hold_time', marker: 'hold_time', code: 'out_of_range' },
  { rule: 'hold_time above 65535s', text: bgp('  hold_time: 65536s\n') + vip(), path: 'bgp.hold_time', marker: 'hold_time', code: 'out_of_range' },
  { rule: 'rise 0', text: bgp() + 'health:\n  rise: 0\n' + vip(), path: 'health.rise', marker: 'rise', code: 'out_of_range' },
  { rule: 'fall overridden per VIP out of range', text: bgp() + vip('    fall: 101\n'), path: 'vips[0].fall', marker: 'fall', code: 'out_of_range' },
  { rule: 'med negative', text: bgp() + vip('    attributes: { med: -1 }\n'), path: 'vips[0].attributes.med', marker: 'attributes', code: 'out_of_range' },
  { rule: 'local_pref above 32 bits', text: bgp() + vip('    attributes:\n      local_pref: 4294967296\n'), path: 'vips[0].attributes.local_pref', marker: 'local_pref', code: 'out_of_range' },
  { rule: 'as_path_prepend above 16', text: bgp() + vip('    attributes:\n      as_path_prepend: 17\n'), path: 'vips[0].attributes.as_path_prepend', marker: 'as_path_prepend', code: 'out_of_range' },
  // --- durations and percentages
  { rule: 'duration without a unit', text: bgp() + 'health:\n  interval: 2\n' + vip(), path: 'health.interval', marker: 'interval', code: 'invalid_type' },
  { rule: 'malformed duration', text: bgp() + 'health:\n  interval: 2 seconds\n' + vip(), path: 'health.interval', marker: 'interval', code: 'invalid_value' },
  { rule: 'interval below the floor', text: bgp() + 'health:\n  interval: 10ms\n  timeout: 5ms\n  fast_interval: 10ms\n' + vip(), path: 'health.interval', marker: '  interval: 10ms', code: 'out_of_range' },
  { rule: 'jitter as a number', text: bgp() + 'health:\n  jitter: 10\n' + vip(), path: 'health.jitter', marker: 'jitter', code: 'invalid_type' },
  { rule: 'jitter above 50%', text: bgp() + 'health:\n  jitter: 60%\n' + vip(), path: 'health.jitter', marker: 'jitter', code: 'out_of_range' },
  { rule: 'resync_interval below 1s', text: bgp('  gobgp_address: 127.0.0.1:50051\n  gobgp: { resync_interval: 500ms }\n') + vip(), path: 'bgp.gobgp.resync_interval', marker: 'gobgp:', code: 'out_of_range' },
  { rule: 'hold_down above 1h', text: bgp() + vip('    hold_down: 2h\n'), path: 'vips[0].hold_down', marker: 'hold_down', code: 'out_of_range' },
  { rule: 'grace_period as a number', text: bgp() + vip() + 'shutdown:\n  grace_period: 5\n', path: 'shutdown.grace_period', marker: 'grace_period', code: 'invalid_type' },
  // --- timing relations
  { rule: 'health.timeout not shorter than interval', text: bgp() + 'health:\n  interval: 1s\n  timeout: 1s\n' + vip(), path: 'health.timeout', marker: 'timeout', code: 'conflict' },
  { rule: 'VIP interval shorter than the inherited timeout', text: bgp() + vip('    interval: 1s\n'), path: 'vips[0].interval', marker: 'interval', code: 'conflict' },
  { rule: 'check timeout not shorter than the VIP interval', text: bgp() + vip('', '      - { type: tcp, address: "127.0.0.1:1", timeout: 3s }\n'), path: 'vips[0].checks[0].timeout', marker: 'timeout: 3s', code: 'conflict' },
  { rule: 'fast_interval longer than interval', text: bgp() + 'health:\n  fast_interval: 3s\n' + vip(), path: 'health.fast_interval', marker: 'fast_interval', code: 'conflict' },
  // --- addresses and prefixes
  { rule: 'router_id must be IPv4', text: bgp().replace('router_id: 10.0.0.1', 'router_id: "::1"') + vip(), path: 'bgp.router_id', marker: 'router_id', code: 'invalid_value' },
  { rule: 'neighbor address not an IP', text: bgp().replace('address: 10.0.0.254', 'address: tor1') + vip(), path: 'bgp.neighbors[0].address', marker: 'tor1', code: 'invalid_value' },
  { rule: 'neighbor zone id', text: bgp().replace('address: 10.0.0.254', 'address: "fe80::1%eth0"') + vip(), path: 'bgp.neighbors[0].address', marker: 'fe80', code: 'invalid_value' },
  { rule: 'local_address of the other family', text: bgp('', '      local_address: "2001:db8::1"\n') + vip(), path: 'bgp.neighbors[0].local_address', marker: 'local_address', code: 'conflict' },
  { rule: 'next_hop.ipv6 not IPv6', text: bgp('  next_hop: { ipv6: 10.0.0.1 }\n') + vip(), path: 'bgp.next_hop.ipv6', marker: 'next_hop', code: 'invalid_value' },
  { rule: 'VIP prefix not a host route', text: bgp() + vip().replace('prefix: 192.0.2.10', 'prefix: 192.0.2.0/24'), path: 'vips[0].prefix', marker: 'prefix', code: 'invalid_value' },
  { rule: 'IPv6 VIP prefix /64', text: bgp() + vip().replace('prefix: 192.0.2.10', 'prefix: "2001:db8::/64"'), path: 'vips[0].prefix', marker: 'prefix', code: 'invalid_value' },
  { rule: 'VIP prefix not an address', text: bgp() + vip().replace('prefix: 192.0.2.10', 'prefix: web.example.com'), path: 'vips[0].prefix', marker: 'prefix', code: 'invalid_value' },
  { rule: 'attributes.next_hop of the other family', text: bgp() + vip('    attributes: { next_hop: "2001:db8::1" }\n'), path: 'vips[0].attributes.next_hop', marker: 'attributes', code: 'conflict' },
  { rule: 'gobgp_address without port', text: bgp('  gobgp_address: 127.0.0.1\n') + vip(), path: 'bgp.gobgp_address', marker: 'gobgp_address', code: 'invalid_value' },
  { rule: 'admin.listen without host', text: bgp() + vip() + 'admin:\n  listen: "9179"\n', path: 'admin.listen', marker: 'listen', code: 'invalid_value' },
  { rule: 'admin.listen unbracketed IPv6', text: bgp() + vip() + 'admin:\n  listen: "::1:9179"\n', path: 'admin.listen', marker: 'listen', code: 'invalid_value' },
  // --- names, uniqueness
  { rule: 'VIP name with upper case', text: bgp() + vip().replace('name: web', 'name: Web'), path: 'vips[0].name', marker: 'name', code: 'invalid_value' },
  {
    rule: 'duplicate VIP name',
    text: bgp() + vip() + '  - { name: web, prefix: 192.0.2.11, checks: [{ type: tcp, address: "127.0.0.1:1" }] }\n',
    path: 'vips[1].name', marker: '192.0.2.11', code: 'duplicate',
  },
  {
    rule: 'duplicate VIP prefix after canonicalisation',
    text: bgp() + vip() + '  - name: web2\n    prefix: 192.0.2.10/32\n    checks: [{ type: tcp, address: "127.0.0.1:1" }]\n',
    path: 'vips[1].prefix', marker: '192.0.2.10/32', code: 'duplicate',
  },
  {
    rule: 'duplicate neighbor (IPv6 written two ways)',
    text: 'bgp:\n  local_as: 65001\n  router_id: 10.0.0.1\n  neighbors:\n    - { address: "2001:db8::1", remote_as: 65000 }\n    - { address: "2001:DB8:0::1", remote_as: 65002 }\n' + vip(),
    path: 'bgp.neighbors[1].address', marker: 'DB8', code: 'duplicate',
  },
  { rule: 'duplicate family', text: bgp('', '      families: [ipv4, ipv4]\n') + vip(), path: 'bgp.neighbors[0].families', marker: 'families', code: 'duplicate' },
  { rule: 'unknown family', text: bgp('', '      families: [ipx]\n') + vip(), path: 'bgp.neighbors[0].families[0]', marker: 'families', code: 'invalid_value' },
  {
    rule: 'duplicate check label',
    text: bgp() + vip('', '      - { type: tcp, address: "127.0.0.1:8080" }\n      - { type: tcp, address: "127.0.0.1:8080", passive: false }\n'),
    path: 'vips[0].checks[1]', marker: 'passive: false', code: 'duplicate',
  },
  // --- require, when_down, attributes
  { rule: 'require above the number of checks', text: bgp() + vip('    require: 2\n'), path: 'vips[0].require', marker: 'require', code: 'out_of_range' },
  { rule: 'require 0', text: bgp() + vip('    require: 0\n'), path: 'vips[0].require', marker: 'require', code: 'out_of_range' },
  { rule: 'require neither all, any nor a number', text: bgp() + vip('    require: most\n'), path: 'vips[0].require', marker: 'require', code: 'invalid_type' },
  { rule: 'no checks', text: bgp() + 'vips:\n  - name: web\n    prefix: 192.0.2.10\n    checks: []\n', path: 'vips[0].checks', marker: 'checks', code: 'out_of_range' },
  { rule: 'when_down neither withdraw nor attributes', text: bgp() + vip('    when_down: drop\n'), path: 'vips[0].when_down', marker: 'when_down', code: 'invalid_type' },
  { rule: 'when_down attributes with a bad community', text: bgp() + vip('    when_down:\n      attributes:\n        communities: ["1:70000"]\n'), path: 'vips[0].when_down.attributes.communities[0]', marker: 'communities', code: 'invalid_value' },
  { rule: 'community part above 65535', text: bgp() + vip('    attributes:\n      communities: ["65536:1"]\n'), path: 'vips[0].attributes.communities[0]', marker: 'communities', code: 'invalid_value' },
  { rule: 'unknown well-known community name', text: bgp() + vip('    attributes:\n      communities: [no-exports]\n'), path: 'vips[0].attributes.communities[0]', marker: 'communities', code: 'invalid_value' },
  { rule: 'duplicate community (name and number)', text: bgp() + vip('    attributes:\n      communities: [no-export, "65535:65281"]\n'), path: 'vips[0].attributes.communities[1]', marker: 'communities', code: 'duplicate' },
  { rule: 'large community with two parts', text: bgp() + vip('    attributes:\n      large_communities: ["65001:1"]\n'), path: 'vips[0].attributes.large_communities[0]', marker: 'large_communities', code: 'invalid_value' },
  { rule: 'extended community value too large for a 4-octet AS', text: bgp() + vip('    attributes:\n      extended_communities: ["rt:4200000000:70000"]\n'), path: 'vips[0].attributes.extended_communities[0]', marker: 'extended', code: 'invalid_value' },
  { rule: 'extended community of unknown kind', text: bgp() + vip('    attributes:\n      extended_communities: ["color:1:2"]\n'), path: 'vips[0].attributes.extended_communities[0]', marker: 'extended', code: 'invalid_value' },
  { rule: 'origin unknown', text: bgp() + vip('    attributes:\n      origin: bgp\n'), path: 'vips[0].attributes.origin', marker: 'origin', code: 'invalid_value' },
  { rule: 'bind_interface with a slash', text: bgp() + vip('    bind_interface: eth0/1\n'), path: 'vips[0].bind_interface', marker: 'bind_interface', code: 'invalid_value' },
  { rule: 'global bind_interface too long', text: bgp() + vip() + 'bind_interface: averyveryverylongname\n', path: 'bind_interface', marker: 'bind_interface', code: 'invalid_value' },
  { rule: 'drain_file empty', text: bgp() + vip('    drain_file: ""\n'), path: 'vips[0].drain_file', marker: 'drain_file', code: 'out_of_range' },
  // --- checks
  { rule: 'unknown check type', text: bgp() + vip('', '      - { type: icmp, address: "127.0.0.1:1" }\n'), path: 'vips[0].checks[0].type', marker: 'icmp', code: 'invalid_value' },
  { rule: 'check without type', text: bgp() + vip('', '      - { address: "127.0.0.1:1" }\n'), path: 'vips[0].checks[0].type', marker: '- { address', code: 'required' },
  { rule: 'invalid URL', text: bgp() + vip('', '      - type: http\n        url: "not a url"\n'), path: 'vips[0].checks[0].url', marker: 'url', code: 'invalid_value' },
  { rule: 'URL scheme not http(s)', text: bgp() + vip('', '      - type: http\n        url: "ftp://127.0.0.1/"\n'), path: 'vips[0].checks[0].url', marker: 'url', code: 'invalid_value' },
  { rule: 'tls_skip_verify on plain http', text: bgp() + vip('', '      - type: http\n        url: "http://127.0.0.1/"\n        tls_skip_verify: true\n'), path: 'vips[0].checks[0].tls_skip_verify', marker: 'tls_skip_verify', code: 'conflict' },
  { rule: 'body_contains with HEAD', text: bgp() + vip('', '      - type: http\n        url: "http://127.0.0.1/"\n        method: HEAD\n        body_contains: ok\n'), path: 'vips[0].checks[0].body_contains', marker: 'body_contains', code: 'conflict' },
  { rule: 'http method unknown', text: bgp() + vip('', '      - type: http\n        url: "http://127.0.0.1/"\n        method: POST\n'), path: 'vips[0].checks[0].method', marker: 'method', code: 'invalid_value' },
  { rule: 'expect_status outside 100-599', text: bgp() + vip('', '      - type: http\n        url: "http://127.0.0.1/"\n        expect_status: "200-600"\n'), path: 'vips[0].checks[0].expect_status', marker: 'expect_status', code: 'invalid_value' },
  { rule: 'expect_status reversed range', text: bgp() + vip('', '      - type: http\n        url: "http://127.0.0.1/"\n        expect_status: [200, "299-200"]\n'), path: 'vips[0].checks[0].expect_status', marker: 'expect_status', code: 'invalid_value' },
  { rule: 'header name with a space', text: bgp() + vip('', '      - type: http\n        url: "http://127.0.0.1/"\n        headers: { "X Bad": v }\n'), path: 'vips[0].checks[0].headers.X Bad', marker: 'headers', code: 'invalid_value' },
  { rule: 'tcp address without port', text: bgp() + vip('', '      - { type: tcp, address: "127.0.0.1" }\n'), path: 'vips[0].checks[0].address', marker: 'type: tcp', code: 'invalid_value' },
  { rule: 'exec command as a string', text: bgp() + vip('', '      - type: exec\n        command: "/bin/check --quick"\n'), path: 'vips[0].checks[0].command', marker: 'command', code: 'invalid_type' },
  { rule: 'exec command empty', text: bgp() + vip('', '      - type: exec\n        command: []\n'), path: 'vips[0].checks[0].command', marker: 'command', code: 'out_of_range' },
  { rule: 'passive on an exec check', text: bgp() + vip('', '      - type: exec\n        command: [/bin/true]\n        passive: true\n'), path: 'vips[0].checks[0].passive', marker: 'passive', code: 'invalid_type' },
  { rule: 'passive on a dns check', text: bgp() + vip('', '      - type: dns\n        server: 127.0.0.1\n        name: example.com\n        passive: false\n'), path: 'vips[0].checks[0].passive', marker: 'passive', code: 'invalid_type' },
  { rule: 'dns record unknown', text: bgp() + vip('', '      - type: dns\n        server: 127.0.0.1\n        name: example.com\n        record: AXFR\n'), path: 'vips[0].checks[0].record', marker: 'record', code: 'invalid_value' },
  { rule: 'dns name invalid', text: bgp() + vip('', '      - type: dns\n        server: 127.0.0.1\n        name: "exa mple.com"\n'), path: 'vips[0].checks[0].name', marker: 'exa mple', code: 'invalid_value' },
  { rule: 'grpc tls_skip_verify without tls', text: bgp() + vip('', '      - type: grpc\n        address: "127.0.0.1:9000"\n        tls_skip_verify: true\n'), path: 'vips[0].checks[0].tls_skip_verify', marker: 'tls_skip_verify', code: 'conflict' },
  { rule: 'passive not a boolean', text: bgp() + vip('', '      - { type: tcp, address: "127.0.0.1:1", passive: "yes" }\n'), path: 'vips[0].checks[0].passive', marker: 'type: tcp', code: 'invalid_type' },
  // --- backend cross-field rules
  { rule: 'password_file empty', text: bgp('', '      password_file: ""\n') + vip(), path: 'bgp.neighbors[0].password_file', marker: 'password_file', code: 'out_of_range' },
  { rule: 'gobgp block without gobgp_address', text: bgp('  gobgp:\n    manage: false\n') + vip(), path: 'bgp.gobgp', marker: 'gobgp:', code: 'conflict' },
  { rule: 'passive neighbor without listen (built-in)', text: bgp('', '      passive: true\n') + vip(), path: 'bgp.neighbors[0].passive', marker: 'passive', code: 'conflict' },
  { rule: 'built-in speaker without neighbors', text: 'bgp:\n  local_as: 65001\n  router_id: 10.0.0.1\n' + vip(), path: 'bgp.neighbors', marker: 'bgp:', code: 'required' },
  { rule: 'neighbors with gobgp manage: false', text: bgp('  gobgp_address: 127.0.0.1:50051\n  gobgp: { manage: false }\n') + vip(), path: 'bgp.neighbors', marker: 'neighbors', code: 'conflict' },
  { rule: 'gobgp tls cert without key', text: bgp('  gobgp_address: 127.0.0.1:50051\n  gobgp:\n    tls: { cert_file: /c.pem }\n') + vip(), path: 'bgp.gobgp.tls.key_file', marker: 'tls:', code: 'conflict' },
  { rule: 'gobgp api_version unknown', text: bgp('  gobgp_address: 127.0.0.1:50051\n  gobgp:\n    api_version: v5\n') + vip(), path: 'bgp.gobgp.api_version', marker: 'api_version', code: 'invalid_value' },
  // --- other sections
  { rule: 'log level unknown', text: bgp() + vip() + 'log:\n  level: verbose\n', path: 'log.level', marker: 'level', code: 'invalid_value' },
  { rule: 'log format unknown', text: bgp() + vip() + 'log: { format: text }\n', path: 'log.format', marker: 'log:', code: 'invalid_value' },
  { rule: 'graceful_community not a boolean', text: bgp() + vip() + 'shutdown:\n  graceful_community: "yes"\n', path: 'shutdown.graceful_community', marker: 'graceful_community', code: 'invalid_type' },
  { rule: 'admin token_file not a string', text: bgp() + vip() + 'admin:\n  token_file: 12\n', path: 'admin.token_file', marker: 'token_file', code: 'invalid_type' },
];

describe('config rules', () => {
  test.each(cases)('$rule', ({ text, path, marker, code }) => {
    expectIssue(text, path, marker, code);
  });
});

describe('the messages that must say why', () => {
  test('an unknown key names the key', () => {
    const issue = expectIssue(bgp() + vip() + 'colour: red\n', 'colour', 'colour', 'unknown_key');
    expect(issue.message).toContain('colour');
  });
  test('a duration without unit suggests one', () => {
    const issue = expectIssue(bgp() + 'health:\n  interval: 2\n' + vip(), 'health.interval', 'interval', 'invalid_type');
    expect(issue.message).toMatch(/"2s"/);
  });
  test('a short prefix says only host routes', () => {
    const issue = expectIssue(bgp() + vip().replace('prefix: 192.0.2.10', 'prefix: 192.0.2.0/24'), 'vips[0].prefix', 'prefix', 'invalid_value');
    expect(issue.message).toMatch(/host route/);
  });
});

describe('all problems at once', () => {
  test('one file with mistakes in every section reports each, sorted by line', () => {
    const text = `bgp:
  local_as: 0
  router_id: 10.0.0.1
  neighbors:
    - address: 10.0.0.254
      remote_as: 65000
      bogus: 1
health:
  jitter: 90%
vips:
  - name: Web
    prefix: 192.0.2.0/24
    checks:
      - type: http
        url: "nope"
  - name: db
    prefix: 192.0.2.11
    require: 5
    checks:
      - { type: tcp, address: "127.0.0.1:5432" }
shutdown:
  grace_period: 5
admin:
  listen: nowhere
log:
  level: loud
extra: true
`;
    const issues = issuesOf(text);
    const got = issues.map((i) => `${i.line} ${i.path}`);
    expect(got).toEqual([
      `${lineOf(text, 'local_as')} bgp.local_as`,
      `${lineOf(text, 'bogus')} bgp.neighbors[0].bogus`,
      `${lineOf(text, 'jitter')} health.jitter`,
      `${lineOf(text, 'Web')} vips[0].name`,
      `${lineOf(text, '192.0.2.0/24')} vips[0].prefix`,
      `${lineOf(text, 'nope')} vips[0].checks[0].url`,
      `${lineOf(text, 'require')} vips[1].require`,
      `${lineOf(text, 'grace_period')} shutdown.grace_period`,
      `${lineOf(text, 'nowhere')} admin.listen`,
      `${lineOf(text, 'loud')} log.level`,
      `${lineOf(text, 'extra')} extra`,
    ]);
  });
});
