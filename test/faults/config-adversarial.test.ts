/**
 * Config adversarial input (issue 6). Two parts:
 * - Generated: starting from a valid config that uses every section, each leaf gets a value of
 *   the wrong type and each mapping an unknown key, one variant at a time; then a table of
 *   values of the right type but out of range or contradictory. Every variant must make
 *   `vipcast check` (its in-process entry, runCheck) exit 2 with a line naming the key.
 * - Pathological files through the real CLI process: huge, binary, not YAML, deeply nested,
 *   alias bombs ("billion laughs"). Each must exit 2 cleanly within a time bound.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCheck } from '../../src/cli/commands/check.js';
import { hasBuild, VIPCAST_BIN } from '../harness/vipcast.js';
import { tempDir } from './lib/fixture.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = Array<string | number>;

const VALID: { [k: string]: Json } = {
  bgp: {
    local_as: 65001,
    router_id: '10.0.0.1',
    hold_time: '9s',
    listen: { address: '127.0.0.1', port: 1179 },
    next_hop: { ipv4: '10.0.0.1', ipv6: '2001:db8::1' },
    neighbors: [{ address: '10.0.0.254', remote_as: 65000, port: 179, description: 'tor', passive: false, ebgp_multihop: 2, local_address: '10.0.0.1', families: ['ipv4', 'ipv6'], hold_time: '9s' }],
  },
  health: { interval: '2s', fast_interval: '500ms', timeout: '1s', rise: 2, fall: 2, jitter: '10%' },
  vips: [
    {
      name: 'web',
      prefix: '192.0.2.10/32',
      require: 'all',
      checks: [
        { type: 'http', url: 'http://127.0.0.1:8080/healthz', expect_status: '200-299', body_contains: 'ok', tls_skip_verify: false },
        { type: 'tcp', address: '127.0.0.1:8080' },
        { type: 'exec', command: ['/bin/true', '--quick'] },
        { type: 'dns', server: '127.0.0.1:53', name: 'example.com', record: 'A' },
        { type: 'grpc', address: '127.0.0.1:9000', service: '' },
      ],
      interval: '1s',
      timeout: '500ms',
      attributes: { communities: ['65001:100'], large_communities: ['65001:1:2'], med: 10, local_pref: 100, as_path_prepend: 2 },
      when_down: 'withdraw',
      drain_file: '/run/vipcast/drain/web',
      hold_down: '5s',
    },
    { name: 'api6', prefix: '2001:db8::10/128', checks: [{ type: 'tcp', address: '[::1]:8443' }] },
  ],
  shutdown: { graceful_community: true, grace_period: '5s' },
  admin: { listen: '127.0.0.1:9179', token_file: '/run/secrets/vipcast-token' },
  log: { level: 'info', format: 'json' },
};

const fmt = (p: Path): string => p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${k}` : k), '');

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function setAt(root: Json, path: Path, value: Json): Json {
  const out = clone(root);
  let node = out as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, Json>;
  node[path[path.length - 1]!] = value;
  return out;
}

/** Every leaf (scalar or scalar list) and every mapping of the valid config, with its path. */
function walk(node: Json, path: Path, leaves: Path[], maps: Path[]): void {
  if (Array.isArray(node)) {
    if (node.every((x) => typeof x !== 'object' || x === null)) return void leaves.push(path);
    node.forEach((x, i) => walk(x, [...path, i], leaves, maps));
  } else if (node !== null && typeof node === 'object') {
    maps.push(path);
    for (const [k, v] of Object.entries(node)) walk(v, [...path, k], leaves, maps);
  } else {
    leaves.push(path);
  }
}

/** A value of another type than the valid one. */
function wrongType(v: Json): Json {
  if (typeof v === 'number') return 'not-a-number';
  if (typeof v === 'boolean') return 'maybe';
  if (typeof v === 'string') return { nested: [1, 2] };
  return 'not-a-list';
}

async function check(dir: string, name: string, doc: Json | string): Promise<{ code: number; stderr: string }> {
  const file = join(dir, `${name.replace(/[^a-z0-9]+/gi, '_').slice(0, 80)}.yaml`);
  await writeFile(file, typeof doc === 'string' ? doc : stringify(doc));
  let stderr = '';
  const code = await runCheck(file, {}, { stdout: () => undefined, stderr: (t) => (stderr += t) });
  return { code, stderr };
}

/** A line "file:LINE PATH: message" naming exactly this key (or a key below it). */
function namesKey(stderr: string, path: string): boolean {
  return stderr.split('\n').some((l) => l.includes(` ${path}:`) || l.includes(` ${path}.`) || l.includes(` ${path}[`));
}

const leaves: Path[] = [];
const maps: Path[] = [];
walk(VALID, [], leaves, maps);

/** Right type, wrong value: [path, value, key that must be named]. */
const RANGE_CASES: Array<[string, Path, Json, string?]> = [
  ['AS 0 (RFC 7607)', ['bgp', 'local_as'], 0],
  ['AS above 32 bits', ['bgp', 'local_as'], 4294967296],
  ['fractional AS', ['bgp', 'neighbors', 0, 'remote_as'], 1.5],
  ['IPv6 router id', ['bgp', 'router_id'], '2001:db8::1'],
  ['router id 300.1.1.1', ['bgp', 'router_id'], '300.1.1.1'],
  ['hold time 2s (RFC 4271 §4.2)', ['bgp', 'hold_time'], '2s'],
  ['hold time 1.5s', ['bgp', 'neighbors', 0, 'hold_time'], '1500ms'],
  ['duration without unit text', ['health', 'interval'], 'soon'],
  ['negative duration', ['health', 'timeout'], '-1s'],
  ['port 0', ['bgp', 'listen', 'port'], 0],
  ['port 65536', ['bgp', 'neighbors', 0, 'port'], 65536],
  ['IPv6 next_hop.ipv4', ['bgp', 'next_hop', 'ipv4'], '2001:db8::1'],
  ['neighbor address not an IP', ['bgp', 'neighbors', 0, 'address'], 'tor.example'],
  ['local_address of the other family', ['bgp', 'neighbors', 0, 'local_address'], '2001:db8::2', 'bgp.neighbors[0].local_address'],
  ['multihop 256', ['bgp', 'neighbors', 0, 'ebgp_multihop'], 256],
  ['no families', ['bgp', 'neighbors', 0, 'families'], []],
  ['unknown family', ['bgp', 'neighbors', 0, 'families'], ['ipx']],
  ['a family twice', ['bgp', 'neighbors', 0, 'families'], ['ipv4', 'ipv4']],
  ['password_file empty', ['bgp', 'neighbors', 0, 'password_file'], ''],
  ['gobgp block without gobgp_address', ['bgp', 'gobgp'], { manage: true }],
  ['rise 0', ['health', 'rise'], 0],
  ['fall -1', ['health', 'fall'], -1],
  ['jitter 200%', ['health', 'jitter'], '200%'],
  ['VIP name with capitals', ['vips', 0, 'name'], 'Web_1'],
  ['empty VIP name', ['vips', 0, 'name'], ''],
  ['duplicate VIP name', ['vips', 1, 'name'], 'web', 'vips[1].name'],
  ['prefix not an address', ['vips', 0, 'prefix'], 'not-an-ip'],
  ['prefix /24 (not a host route)', ['vips', 0, 'prefix'], '192.0.2.0/24'],
  ['require "most"', ['vips', 0, 'require'], 'most'],
  ['require 9 of 5 checks', ['vips', 0, 'require'], 9],
  ['unknown check type', ['vips', 0, 'checks', 0, 'type'], 'icmp'],
  ['invalid URL', ['vips', 0, 'checks', 0, 'url'], 'not a url'],
  ['status range 600-700', ['vips', 0, 'checks', 0, 'expect_status'], '600-700'],
  ['tcp address without port', ['vips', 0, 'checks', 1, 'address'], '127.0.0.1'],
  ['empty exec command', ['vips', 0, 'checks', 2, 'command'], []],
  ['DNS record type XYZ', ['vips', 0, 'checks', 3, 'record'], 'XYZ'],
  ['community 70000:1', ['vips', 0, 'attributes', 'communities'], ['70000:1']],
  ['large community with two parts', ['vips', 0, 'attributes', 'large_communities'], ['1:2']],
  ['MED -1', ['vips', 0, 'attributes', 'med'], -1],
  ['MED above 32 bits', ['vips', 0, 'attributes', 'med'], 4294967296],
  ['prepend 100', ['vips', 0, 'attributes', 'as_path_prepend'], 100],
  ['when_down "nothing"', ['vips', 0, 'when_down'], 'nothing'],
  ['empty drain_file', ['vips', 0, 'drain_file'], ''],
  ['interface name with a slash', ['vips', 0, 'bind_interface'], 'eth0/1'],
  ['grace period 11m', ['shutdown', 'grace_period'], '11m'],
  ['admin listen without port', ['admin', 'listen'], '127.0.0.1'],
  ['admin port 99999', ['admin', 'listen'], '127.0.0.1:99999'],
  ['log level "loud"', ['log', 'level'], 'loud'],
  ['log format "xml"', ['log', 'format'], 'xml'],
  ['no VIPs list', ['vips'], 'web'],
  ['bgp as a list', ['bgp'], [1, 2]],
];

describe('config adversarial: every invalid shape names its key', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('config');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('control: the base config is valid', async () => {
    const r = await check(dir, 'valid', VALID);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it(`wrong type at each of the ${leaves.length} leaves: exit 2 naming the key`, async () => {
    const misses: string[] = [];
    for (const p of leaves) {
      const r = await check(dir, `type-${fmt(p)}`, setAt(VALID, p, wrongType(getAt(VALID, p))));
      if (r.code !== 2 || !namesKey(r.stderr, fmt(p))) misses.push(`${fmt(p)}: exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`);
    }
    expect(misses).toEqual([]);
  });

  it(`an unknown key in each of the ${maps.length} mappings: exit 2 naming it`, async () => {
    const misses: string[] = [];
    for (const p of maps) {
      const key = [...p, 'bogus_key'];
      const r = await check(dir, `unknown-${fmt(key)}`, setAt(VALID, key, 1));
      if (r.code !== 2 || !r.stderr.includes('bogus_key')) misses.push(`${fmt(key)}: exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`);
    }
    expect(misses).toEqual([]);
  });

  it.each(RANGE_CASES)('%s: exit 2 naming the key', async (what, path, value, named) => {
    const r = await check(dir, `range-${what}`, setAt(VALID, path, value));
    expect(r.code, r.stderr).toBe(2);
    expect(namesKey(r.stderr, named ?? fmt(path)), r.stderr).toBe(true);
  });

  it('all problems at once: three bad keys in three sections give three lines', async () => {
    let doc = setAt(VALID, ['bgp', 'local_as'], 0);
    doc = setAt(doc, ['health', 'rise'], 0);
    doc = setAt(doc, ['log', 'level'], 'loud');
    const r = await check(dir, 'three', doc);
    expect(r.code).toBe(2);
    for (const k of ['bgp.local_as', 'health.rise', 'log.level']) expect(namesKey(r.stderr, k), r.stderr).toBe(true);
  });
});

function getAt(root: Json, path: Path): Json {
  let node = root as Record<string | number, Json>;
  for (const k of path) node = node[k] as Record<string | number, Json>;
  return node;
}

// ---------------------------------------------------------------------------------------------
// Pathological files, through the real CLI

const CLI_BOUND_MS = 10_000;

function cliCheck(file: string): Promise<{ code: number | null; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, [VIPCAST_BIN, 'check', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), CLI_BOUND_MS);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - t0 });
    });
  });
}

function billionLaughs(levels: number, fanout: number): string {
  const lines = ['a0: &a0 "lol"'];
  for (let i = 1; i <= levels; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: fanout }, () => `*a${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\nbgp: *a${levels}\n`;
}

const PATHOLOGICAL: Array<[string, () => string | Buffer]> = [
  ['a 5 MiB file (above the 4 MiB cap)', () => `# ${'x'.repeat(5 * 1024 * 1024)}\nbgp: {}\n`],
  ['a 3.9 MiB file of valid YAML that is not a config', () => `junk:\n${'  - aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n'.repeat(120_000)}`],
  ['binary garbage', () => Buffer.from(Array.from({ length: 65_536 }, (_, i) => (i * 7919 + 13) % 256))],
  ['NUL bytes', () => Buffer.alloc(4096)],
  ['not YAML (unbalanced brackets and tabs)', () => 'bgp: {[}\n\t- : : :\n"unterminated'],
  ['JSON that is a list', () => '[1, 2, 3]'],
  ['a bare scalar', () => 'hello'],
  ['an empty file', () => ''],
  ['10,000 nested flow sequences', () => `bgp: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`],
  ['5,000 nested block mappings', () => `bgp:\n${Array.from({ length: 5_000 }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`],
  ['billion laughs (9 levels x 10)', () => billionLaughs(9, 10)],
  ['an alias to itself', () => 'a: &a [*a]\nbgp: *a\n'],
  ['100,000 duplicate keys', () => `bgp:\n${'  local_as: 1\n'.repeat(100_000)}`],
  ['a 1 MiB single-line string', () => `bgp: { router_id: "${'9'.repeat(1024 * 1024)}" }\n`],
  ['UTF-16 with BOM', () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('bgp:\n  local_as: 1\n', 'utf16le')])],
];

describe.skipIf(!hasBuild())('config adversarial: pathological files fail cleanly (vipcast check exits 2, bounded time)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('config-cli');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(PATHOLOGICAL)('%s', async (what, make) => {
    const file = join(dir, `${what.replace(/[^a-z0-9]+/gi, '_')}.yaml`);
    await writeFile(file, make());
    const r = await cliCheck(file);
    console.info(`[faults] config: ${what}: exit ${r.code} in ${r.ms} ms`);
    expect(r.code, r.stderr.slice(0, 2000)).toBe(2);
    expect(r.ms).toBeLessThan(CLI_BOUND_MS);
    expect(r.stderr).toContain(file);
    // A clean failure: our issue lines, never a stack trace. Messages quote the offending value
    // in full (docs/reliability.md notes it), so stderr is bounded by the input, not by a constant.
    expect(r.stderr).not.toMatch(/\n\s+at [\w.<>]+ \(/);
    expect(r.stderr.length).toBeLessThan(2 * (await stat(file)).size + 10_000);
  });
});
