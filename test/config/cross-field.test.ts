/**
 * Every rule that compares fields is reported in the same run as an unrelated problem,
 * whether that problem is in another VIP or in the very object the rule checks (zod skips an
 * object's refinements once any key failed; src/config/schema/cross-field.ts makes them run
 * whenever the fields they read parsed). And a rule never fires on a field that itself failed.
 */
import * as z from 'zod';
import { describe, expect, test } from 'vitest';
import { needs, partsOf } from '../../src/config/schema/cross-field.js';
import type { ConfigIssueCode } from '../../src/config/types.js';
import { FILE, issuesOf, lineOf } from './helpers.js';

const BGP = `bgp:
  local_as: 65001
  router_id: 10.0.0.1
  neighbors:
    - address: 10.0.0.254
      remote_as: 65000
`;
const GOBGP_BGP = BGP.replace('  router_id: 10.0.0.1\n', '  router_id: 10.0.0.1\n  gobgp_address: 127.0.0.1:50051\n');
const TCP = '      - { type: tcp, address: "127.0.0.1:8080" }\n';

/** One VIP "web"; `extra` goes under the VIP, `checks` replaces its check list. */
function vips(extra = '', checks = TCP): string {
  return `vips:
  - name: web
    prefix: 192.0.2.10
${extra}    checks:
${checks}`;
}

/** The unrelated problem in another VIP: appended to the vips: list (always last in the text). */
const OTHER_VIP = '  - { name: other, prefix: 198.51.100.99, hold_down: 2h, checks: [{ type: tcp, address: "127.0.0.1:1" }] }\n';

interface Expected {
  path: string;
  marker: string;
  code?: ConfigIssueCode;
}

interface Rule extends Expected {
  rule: string;
  text: string;
  code: ConfigIssueCode;
  /** The unrelated problem in the same object: `add` inserted after the line holding `after`. */
  same: { after: string; add: string } & Expected;
}

/*
 * The unrelated problems are ones zod treats as aborting (a wrong type, a failed transform):
 * those are what used to silence an object's refinements. (An out-of-range number from a
 * refine() never did.)
 */
const vipSame = { after: '    prefix: 192.0.2.10\n', add: '    hold_down: 2h\n', path: 'vips[0].hold_down', marker: 'hold_down' };
const checkSame = (after: string): Rule['same'] => ({ after, add: '        label: 5\n', path: 'vips[0].checks[0].label', marker: 'label' });
const bgpSame = { after: '  router_id: 10.0.0.1\n', add: '  hold_time: [90s]\n', path: 'bgp.hold_time', marker: 'hold_time' };
const neighborSame = { after: '      remote_as: 65000\n', add: '      description: 5\n', path: 'bgp.neighbors[0].description', marker: 'description' };
const healthSame = { after: 'health:\n', add: '  jitter: 90%\n', path: 'health.jitter', marker: 'jitter' };

const rules: Rule[] = [
  // --- bgp
  {
    rule: 'gobgp: block without gobgp_address',
    text: BGP.replace('  neighbors:\n', '  gobgp: { manage: true }\n  neighbors:\n') + vips(),
    path: 'bgp.gobgp', marker: 'gobgp:', code: 'conflict', same: bgpSame,
  },
  {
    rule: 'neighbors with gobgp manage: false',
    text: GOBGP_BGP.replace('  neighbors:\n', '  gobgp: { manage: false }\n  neighbors:\n') + vips(),
    path: 'bgp.neighbors', marker: 'neighbors:', code: 'conflict', same: bgpSame,
  },
  {
    rule: 'listen with gobgp manage: false',
    text: 'bgp:\n  local_as: 65001\n  router_id: 10.0.0.1\n  gobgp_address: 127.0.0.1:50051\n  gobgp: { manage: false }\n  listen: { port: 1179 }\n' + vips(),
    path: 'bgp.listen', marker: 'listen', code: 'conflict', same: bgpSame,
  },
  {
    rule: 'built-in speaker without neighbors',
    text: 'bgp:\n  local_as: 65001\n  router_id: 10.0.0.1\n' + vips(),
    path: 'bgp.neighbors', marker: 'bgp:', code: 'required', same: bgpSame,
  },
  {
    rule: 'ttl_security with the GoBGP backend',
    text: GOBGP_BGP + '      ttl_security: true\n' + vips(),
    path: 'bgp.neighbors[0].ttl_security', marker: 'ttl_security', code: 'conflict', same: neighborSame,
  },
  {
    rule: 'passive neighbor without listen (built-in speaker)',
    text: BGP + '      passive: true\n' + vips(),
    path: 'bgp.neighbors[0].passive', marker: 'passive', code: 'conflict', same: neighborSame,
  },
  {
    rule: 'duplicate neighbor address',
    text: BGP + '    - { address: 10.0.0.254, remote_as: 65002 }\n' + vips(),
    path: 'bgp.neighbors[1].address', marker: '65002', code: 'duplicate', same: neighborSame,
  },
  {
    rule: 'local_address of the other family',
    text: BGP + '      local_address: "2001:db8::1"\n' + vips(),
    path: 'bgp.neighbors[0].local_address', marker: 'local_address', code: 'conflict', same: neighborSame,
  },
  {
    rule: 'a family listed twice',
    text: BGP + '      families: [ipv4, ipv4]\n' + vips(),
    path: 'bgp.neighbors[0].families', marker: 'families', code: 'duplicate',
    // A list rule's "same object" is its list: an invalid item next to the duplicates.
    same: { after: 'ipv4, ipv4', add: ', ipx', path: 'bgp.neighbors[0].families[2]', marker: 'families' },
  },
  {
    rule: 'gobgp tls cert_file without key_file',
    text: GOBGP_BGP.replace('  neighbors:\n', '  gobgp:\n    tls:\n      cert_file: /c.pem\n  neighbors:\n') + vips(),
    path: 'bgp.gobgp.tls.key_file', marker: 'tls:', code: 'conflict',
    same: { after: '      cert_file: /c.pem\n', add: '      ca_file: 5\n', path: 'bgp.gobgp.tls.ca_file', marker: 'ca_file' },
  },
  // --- health
  {
    rule: 'health timeout not shorter than interval',
    text: BGP + 'health:\n  interval: 1s\n  timeout: 1s\n' + vips(),
    path: 'health.timeout', marker: 'timeout', code: 'conflict', same: healthSame,
  },
  {
    rule: 'health fast_interval longer than interval',
    text: BGP + 'health:\n  fast_interval: 3s\n' + vips(),
    path: 'health.fast_interval', marker: 'fast_interval', code: 'conflict', same: healthSame,
  },
  {
    // "The same object" here is health:, which the VIP inherits from: its invalid jitter must not hide the VIP's conflict.
    rule: 'VIP interval shorter than the timeout it inherits from health:',
    text: BGP + 'health:\n  timeout: 1s\n' + vips('    interval: 500ms\n'),
    path: 'vips[0].interval', marker: 'interval', code: 'conflict', same: healthSame,
  },
  // --- one VIP
  { rule: 'require above the number of checks', text: BGP + vips('    require: 2\n'), path: 'vips[0].require', marker: 'require', code: 'out_of_range', same: vipSame },
  {
    rule: 'duplicate check label',
    text: BGP + vips('', TCP + '      - { type: tcp, address: "127.0.0.1:8080", passive: false }\n'),
    path: 'vips[0].checks[1]', marker: 'passive: false', code: 'duplicate', same: vipSame,
  },
  {
    rule: 'attributes.next_hop of the other family',
    text: BGP + vips('    attributes: { next_hop: "2001:db8::1" }\n'),
    path: 'vips[0].attributes.next_hop', marker: 'attributes', code: 'conflict', same: vipSame,
  },
  {
    rule: 'when_down next_hop of the other family',
    text: BGP + vips('    when_down:\n      attributes: { next_hop: "2001:db8::1" }\n'),
    path: 'vips[0].when_down.attributes.next_hop', marker: 'next_hop', code: 'conflict', same: vipSame,
  },
  { rule: 'VIP timeout not shorter than its interval', text: BGP + vips('    interval: 1s\n    timeout: 1s\n'), path: 'vips[0].timeout', marker: 'timeout', code: 'conflict', same: vipSame },
  { rule: 'VIP fast_interval longer than its interval', text: BGP + vips('    interval: 1s\n    timeout: 500ms\n    fast_interval: 2s\n'), path: 'vips[0].fast_interval', marker: 'fast_interval', code: 'conflict', same: vipSame },
  {
    rule: 'check timeout not shorter than the VIP interval',
    text: BGP + vips('', '      - type: tcp\n        address: "127.0.0.1:1"\n        timeout: 3s\n'),
    path: 'vips[0].checks[0].timeout', marker: 'timeout: 3s', code: 'conflict', same: checkSame('        timeout: 3s\n'),
  },
  {
    rule: 'connect_interval below the VIP interval',
    text: BGP + vips('', '      - type: tcp\n        address: "127.0.0.1:1"\n        connect_interval: 1s\n'),
    path: 'vips[0].checks[0].connect_interval', marker: 'connect_interval', code: 'out_of_range', same: checkSame('        connect_interval: 1s\n'),
  },
  // --- one check
  {
    rule: 'tls_skip_verify on an http URL',
    text: BGP + vips('', '      - type: http\n        url: "http://127.0.0.1/"\n        tls_skip_verify: true\n'),
    path: 'vips[0].checks[0].tls_skip_verify', marker: 'tls_skip_verify', code: 'conflict', same: checkSame('        tls_skip_verify: true\n'),
  },
  {
    rule: 'body_contains with HEAD',
    text: BGP + vips('', '      - type: http\n        url: "http://127.0.0.1/"\n        method: HEAD\n        body_contains: ok\n'),
    path: 'vips[0].checks[0].body_contains', marker: 'body_contains', code: 'conflict', same: checkSame('        body_contains: ok\n'),
  },
  {
    rule: 'connect_interval without passive',
    text: BGP + vips('', '      - type: tcp\n        address: "127.0.0.1:1"\n        passive: false\n        connect_interval: 5s\n'),
    path: 'vips[0].checks[0].connect_interval', marker: 'connect_interval', code: 'conflict', same: checkSame('        connect_interval: 5s\n'),
  },
  {
    rule: 'grpc tls_skip_verify without tls',
    text: BGP + vips('', '      - type: grpc\n        address: "127.0.0.1:9000"\n        tls_skip_verify: true\n'),
    path: 'vips[0].checks[0].tls_skip_verify', marker: 'tls_skip_verify', code: 'conflict', same: checkSame('        tls_skip_verify: true\n'),
  },
  // --- attributes
  {
    rule: 'a community listed twice (name and number)',
    text: BGP + vips('    attributes:\n      communities: [no-export, "65535:65281"]\n'),
    path: 'vips[0].attributes.communities[1]', marker: 'communities', code: 'duplicate',
    same: { after: '"65535:65281"', add: ', "1:70000"', path: 'vips[0].attributes.communities[2]', marker: 'communities' },
  },
  // --- the VIP list
  {
    rule: 'duplicate VIP name',
    text: BGP + vips() + '  - { name: web, prefix: 192.0.2.11, checks: [{ type: tcp, address: "127.0.0.1:1" }] }\n',
    path: 'vips[1].name', marker: '192.0.2.11', code: 'duplicate',
    same: { after: 'prefix: 192.0.2.11, ', add: 'hold_down: 2h, ', path: 'vips[1].hold_down', marker: '192.0.2.11' },
  },
  {
    rule: 'duplicate VIP prefix',
    text: BGP + vips() + '  - { name: web2, prefix: 192.0.2.10/32, checks: [{ type: tcp, address: "127.0.0.1:1" }] }\n',
    path: 'vips[1].prefix', marker: '192.0.2.10/32', code: 'duplicate',
    same: { after: 'prefix: 192.0.2.10/32, ', add: 'hold_down: 2h, ', path: 'vips[1].hold_down', marker: '192.0.2.10/32' },
  },
];

function describeIssues(text: string): string {
  return issuesOf(text).map((i) => `${i.line} ${i.path} [${i.code}] ${i.message}`).join('\n');
}

/** Exactly these problems (no more: no cascade), each at its path, line and code. */
function expectExactly(text: string, expected: Expected[]): void {
  const issues = issuesOf(text);
  const got = issues.map((i) => ({ path: i.path, line: i.line, file: i.file })).sort((a, b) => a.path.localeCompare(b.path));
  const want = expected.map((e) => ({ path: e.path, line: lineOf(text, e.marker), file: FILE })).sort((a, b) => a.path.localeCompare(b.path));
  expect(got, describeIssues(text)).toEqual(want);
  for (const e of expected) {
    if (e.code) expect(issues.find((i) => i.path === e.path)?.code).toBe(e.code);
  }
}

function insertAfter(text: string, after: string, add: string): string {
  expect(text.split(after)).toHaveLength(2);
  return text.replace(after, after + add);
}

describe('each cross-field rule alone', () => {
  test.each(rules)('$rule', (r) => {
    expectExactly(r.text, [r]);
  });
});

describe('reported together with an unrelated problem in another VIP', () => {
  test.each(rules)('$rule', (r) => {
    const text = r.text + OTHER_VIP;
    expectExactly(text, [r, { path: `vips[${vipCount(text) - 1}].hold_down`, marker: '198.51.100.99', code: 'out_of_range' }]);
  });
});

describe('reported together with an unrelated problem in the same object', () => {
  test.each(rules)('$rule', (r) => {
    expectExactly(insertAfter(r.text, r.same.after, r.same.add), [r, r.same]);
  });
});

function vipCount(text: string): number {
  return text.slice(text.indexOf('vips:')).split('\n').filter((l) => l.startsWith('  - ')).length;
}

describe('no cascade: a rule never fires on a field that itself failed', () => {
  const cases: Array<{ why: string; text: string; expected: Expected[] }> = [
    {
      why: 'require with an empty check list: only the missing checks',
      text: BGP + 'vips:\n  - name: web\n    prefix: 192.0.2.10\n    require: 2\n    checks: []\n',
      expected: [{ path: 'vips[0].checks', marker: 'checks' }],
    },
    {
      why: 'a check whose type is unknown counts for require but gives no timing or label',
      text: BGP + vips('    require: 2\n', TCP + '      - { type: icmp, address: "127.0.0.1:1", timeout: 9s }\n'),
      expected: [{ path: 'vips[0].checks[1].type', marker: 'icmp' }],
    },
    {
      why: 'a second prefix that is not a host route is no duplicate',
      text: BGP + vips() + '  - { name: web, prefix: 192.0.2.0/24, checks: [{ type: tcp, address: "127.0.0.1:1" }] }\n',
      expected: [{ path: 'vips[1].name', marker: '/24', code: 'duplicate' }, { path: 'vips[1].prefix', marker: '/24', code: 'invalid_value' }],
    },
    {
      why: 'an invalid VIP interval: no timing conflicts against it',
      text: BGP + vips('    interval: 10ms\n    timeout: 5s\n', '      - { type: tcp, address: "127.0.0.1:1", timeout: 4s }\n'),
      expected: [{ path: 'vips[0].interval', marker: 'interval' }],
    },
    {
      why: 'an invalid health.interval: the VIPs inheriting it get no timing conflicts',
      text: BGP + 'health:\n  interval: 2\n' + vips('    timeout: 5s\n'),
      expected: [{ path: 'health.interval', marker: 'interval' }],
    },
    {
      why: 'an invalid neighbor address: no family conflict with local_address, no duplicate',
      text: BGP.replace('address: 10.0.0.254', 'address: tor1') + '      local_address: "2001:db8::1"\n    - { address: tor1, remote_as: 65002 }\n' + vips(),
      expected: [{ path: 'bgp.neighbors[0].address', marker: '- address: tor1' }, { path: 'bgp.neighbors[1].address', marker: '65002' }],
    },
    {
      why: 'an invalid gobgp_address: no backend rule guesses which backend was meant',
      text: BGP.replace('  neighbors:\n', '  gobgp_address: 127.0.0.1\n  gobgp: { manage: false }\n  neighbors:\n') + '      ttl_security: true\n' + vips(),
      expected: [{ path: 'bgp.gobgp_address', marker: 'gobgp_address' }],
    },
    {
      why: 'an invalid URL: no tls_skip_verify conflict',
      text: BGP + vips('', '      - type: http\n        url: "not a url"\n        tls_skip_verify: true\n'),
      expected: [{ path: 'vips[0].checks[0].url', marker: 'url' }],
    },
    {
      why: 'an invalid community among duplicates: the valid ones are still compared, the invalid one is not',
      text: BGP + vips('    attributes:\n      communities: [no-export, "1:70000", "65535:65281", "1:70000"]\n'),
      expected: [
        { path: 'vips[0].attributes.communities[1]', marker: 'communities' },
        { path: 'vips[0].attributes.communities[2]', marker: 'communities' },
        { path: 'vips[0].attributes.communities[3]', marker: 'communities' },
      ],
    },
    {
      why: 'a bad community in when_down does not hide its next_hop of the other family',
      text: BGP + vips('    when_down:\n      attributes:\n        communities: ["1:70000"]\n        next_hop: "2001:db8::1"\n'),
      expected: [
        { path: 'vips[0].when_down.attributes.communities[0]', marker: 'communities', code: 'invalid_value' },
        { path: 'vips[0].when_down.attributes.next_hop', marker: 'next_hop', code: 'conflict' },
      ],
    },
    {
      why: 'an invalid when_down next_hop: no family conflict',
      text: BGP + vips('    when_down:\n      attributes:\n        communities: ["1:70000"]\n        next_hop: "2001:db8::zz"\n'),
      expected: [
        { path: 'vips[0].when_down.attributes.communities[0]', marker: 'communities' },
        { path: 'vips[0].when_down.attributes.next_hop', marker: 'next_hop', code: 'invalid_value' },
      ],
    },
    {
      why: 'when_down neither withdraw nor a mapping: nothing more',
      text: BGP + vips('    when_down: drop\n'),
      expected: [{ path: 'vips[0].when_down', marker: 'when_down', code: 'invalid_type' }],
    },
    {
      why: 'an unknown family among duplicates',
      text: BGP + '      families: [ipv4, ipx, ipv4]\n' + vips(),
      expected: [{ path: 'bgp.neighbors[0].families[1]', marker: 'families' }, { path: 'bgp.neighbors[0].families', marker: 'families' }],
    },
  ];
  test.each(cases)('$why', ({ text, expected }) => expectExactly(text, expected));
});

describe('messages', () => {
  test('a repeated prefix names the first VIP only when its name parsed', () => {
    const named = issuesOf(BGP + vips() + '  - { name: web2, prefix: 192.0.2.10/32, checks: [{ type: tcp, address: "127.0.0.1:1" }] }\n');
    expect(named.find((i) => i.path === 'vips[1].prefix')?.message).toMatch(/the VIP "web" \(vips\[0\]\)/);
    const unnamed = issuesOf(BGP + vips().replace('name: web', 'name: Web') + '  - { name: web2, prefix: 192.0.2.10/32, checks: [{ type: tcp, address: "127.0.0.1:1" }] }\n');
    expect(unnamed.find((i) => i.path === 'vips[1].prefix')?.message).toMatch(/the VIP \(vips\[0\]\)/);
  });
});

/** What src/config/schema/cross-field.ts relies on: a zod upgrade that changes it fails here first. */
describe('the zod behaviour the rules rely on', () => {
  const item = z
    .strictObject({ n: z.number(), s: z.string() })
    .transform((o) => ({ N: o.n, S: o.s }));

  test('a refinement with when runs though another key failed, seeing the failures at relative paths', () => {
    const seen: Array<{ value: unknown; ok: boolean[] }> = [];
    const schema = z.strictObject({ a: z.number(), b: z.number(), list: z.array(item) }).superRefine(
      (v, ctx) => {
        const parts = partsOf(ctx);
        seen.push({ value: v.list, ok: [parts.ok('a'), parts.ok('b'), parts.ok('list', 0), parts.ok('list', 1), parts.shape('list', 1), parts.shape('list')] });
      },
      { when: needs('a', 'list[]') },
    );
    const r = schema.safeParse({ a: 1, b: 'x', list: [{ n: 1, s: 'a', extra: 1 }, { n: 'y', s: 'b' }] });
    expect(r.success).toBe(false);
    // Item 0 only has an unknown key: its transform ran. Item 1 failed: it holds its untransformed object.
    expect(seen).toEqual([{ value: [{ N: 1, S: 'a' }, { n: 'y', s: 'b' }], ok: [true, false, true, false, true, true] }]);
  });

  test('needs() keeps a refinement from running on a failed key, or when the value is not an object', () => {
    let runs = 0;
    const schema = z.strictObject({ a: z.number(), b: z.number() }).superRefine(() => void runs++, { when: needs('a') });
    schema.safeParse({ a: 'x', b: 1 });
    schema.safeParse('not an object');
    expect(runs).toBe(0);
    schema.safeParse({ a: 1, b: 'x', c: 'unknown' });
    expect(runs).toBe(1);
  });
});
