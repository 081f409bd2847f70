/**
 * `vipcast check` through commander, as main.ts will register it: a tiny program calls
 * registerCheck and parses argv; stdout, stderr and the exit code are captured.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { EXIT_INVALID, EXIT_OK, registerCheck, runCheck } from '../../src/cli/commands/check.js';
import { MINIMAL, lineOf } from './helpers.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let out: string[];
let err: string[];

beforeEach(() => {
  out = [];
  err = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
  process.exitCode = undefined;
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  process.exitCode = undefined;
});

async function cli(...args: string[]): Promise<Run> {
  const program = new Command('vipcast').exitOverride();
  registerCheck(program);
  await program.parseAsync(['node', 'vipcast', 'check', ...args]);
  const code = Number(process.exitCode ?? 0);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function tempConfig(text: string, name = 'vipcast.yaml'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vipcast-check-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('vipcast check', () => {
  test.each(['examples/vipcast.yaml', 'examples/quickstart.yaml'])('%s passes and prints the plan', async (example) => {
    const r = await cli('--config', example);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout).toContain(`vipcast plan for ${resolve(example)}`);
    expect(r.stdout).toMatch(/^Backend /m);
    expect(r.stdout).toMatch(/^Peers \(\d+\)/m);
    expect(r.stdout).toMatch(/192\.0\.2\.10\/32/);
  });

  test('the plan shows backend, peers, VIP checks with timing and detector, attributes up and down, drain file, hold-down', async () => {
    const r = await cli('-c', 'examples/vipcast.yaml');
    const plan = r.stdout;
    expect(plan).toMatch(/Backend\s+GoBGP daemon at 127\.0\.0\.1:50051/);
    expect(plan).toMatch(/10\.0\.0\.254\s+179\s+65000\s+ipv4,ipv6\s+9s\s+active/);
    expect(plan).toMatch(/require\s+all of 5 checks/);
    expect(plan).toMatch(/timing\s+interval 1s, fast 500ms, timeout 800ms, rise 2, fall 2, jitter 10%/);
    expect(plan).toMatch(/tcp:127\.0\.0\.1:8080\s+tcp\s+connect 127\.0\.0\.1:8080\s+timeout 800ms\s+periodic \+ passive/);
    expect(plan).toMatch(/periodic \+ pid \/run\/db\.pid/);
    expect(plan).toMatch(/up\s+origin igp, med 10, local-pref 100, prepend 2, communities 65001:100 65535:65281/);
    expect(plan).toMatch(/down\s+keep advertising with origin igp, med 1000/);
    expect(plan).toMatch(/drain file\s+\/run\/vipcast\/drain\/web/);
    expect(plan).toMatch(/hold-down\s+5s/);
  });

  test('--json prints the normalised config', async () => {
    const r = await cli('--config', 'examples/quickstart.yaml', '--json');
    expect(r.code).toBe(EXIT_OK);
    const config = JSON.parse(r.stdout) as { bgp: { neighbors: Array<{ port: number }> }; vips: Array<{ prefix: string; policy: { intervalMs: number } }> };
    expect(config.vips[0]).toMatchObject({ prefix: '192.0.2.10/32', policy: { intervalMs: 1000 } });
    expect(config.bgp.neighbors[0]!.port).toBe(1179);
  });

  test('VIPCAST_CONFIG is used when --config is absent', async () => {
    vi.stubEnv('VIPCAST_CONFIG', 'examples/quickstart.yaml');
    const r = await cli();
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout).toContain(resolve('examples/quickstart.yaml'));
  });

  test('no config at all: exit 2 with a hint', async () => {
    vi.stubEnv('VIPCAST_CONFIG', '');
    const r = await cli();
    expect(r.code).toBe(EXIT_INVALID);
    expect(r.stderr).toMatch(/--config/);
    expect(r.stdout).toBe('');
  });

  test('an invalid file exits 2 with every problem on stderr, one per line, FILE:LINE PATH: MESSAGE', async () => {
    const text = MINIMAL.replace('local_as: 65001', 'local_as: 0').replace('address: 127.0.0.1:8080', 'address: 127.0.0.1') + 'colour: red\n';
    const path = await tempConfig(text);
    const r = await cli('--config', path);
    expect(r.code).toBe(EXIT_INVALID);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^${path}:${lineOf(text, 'local_as')} bgp\\.local_as: .+`));
    expect(lines[1]).toMatch(new RegExp(`^${path}:${lineOf(text, '127.0.0.1')} vips\\[0\\]\\.checks\\[0\\]\\.address: .+`));
    expect(lines[2]).toMatch(new RegExp(`^${path}:${lineOf(text, 'colour')} colour: .*colour`));
  });

  test('rules comparing fields are reported in the same run as the field errors (none shows only after another is fixed)', async () => {
    // A bad URL in vips[0] used to hide everything else here: vips[0]'s require and next_hop
    // rules, and the duplicate of vips[1]'s name and prefix in vips[2].
    const text = `${MINIMAL.slice(0, MINIMAL.indexOf('vips:'))}vips:
  - name: web
    prefix: 192.0.2.10
    require: 3
    attributes: { next_hop: "2001:db8::1" }
    checks:
      - type: http
        url: "not a url"
      - { type: tcp, address: "127.0.0.1:8080" }
  - name: db
    prefix: 192.0.2.11
    checks: [{ type: tcp, address: "127.0.0.1:5432" }]
  - { name: db, prefix: 192.0.2.11/32, checks: [{ type: tcp, address: "127.0.0.1:5433" }] }
`;
    const path = await tempConfig(text);
    const r = await cli('--config', path);
    expect(r.code).toBe(EXIT_INVALID);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${path}:${lineOf(text, 'require')} vips\\[0\\]\\.require: .+`)),
      expect.stringMatching(new RegExp(`^${path}:${lineOf(text, 'next_hop')} vips\\[0\\]\\.attributes\\.next_hop: .+`)),
      `${path}:${lineOf(text, 'not a url')} vips[0].checks[0].url: invalid URL`,
      expect.stringMatching(new RegExp(`^${path}:${lineOf(text, '192.0.2.11/32')} vips\\[2\\]\\.name: .*vips\\[1\\]`)),
      expect.stringMatching(new RegExp(`^${path}:${lineOf(text, '192.0.2.11/32')} vips\\[2\\]\\.prefix: .*vips\\[1\\]`)),
    ]);
  });

  test('a missing file exits 2', async () => {
    const r = await cli('--config', '/nonexistent/vipcast.yaml');
    expect(r.code).toBe(EXIT_INVALID);
    expect(r.stderr).toMatch(/^\/nonexistent\/vipcast\.yaml: /);
  });

  test('warnings are part of the plan, and on stderr with --json', async () => {
    const path = await tempConfig(MINIMAL + '  - { name: v6, prefix: "2001:db8::10", checks: [{ type: tcp, address: "[::1]:80" }] }\n');
    const plan = await cli('--config', path);
    expect(plan.code).toBe(EXIT_OK);
    expect(plan.stdout).toMatch(/Warnings \(1\)\n.*bgp\.neighbors\[0\]\.address: .*next_hop\.ipv6/);
    out.length = 0;
    err.length = 0;
    const json = await cli('--config', path, '--json');
    expect(json.code).toBe(EXIT_OK);
    expect(() => JSON.parse(json.stdout) as unknown).not.toThrow();
    expect(json.stderr).toMatch(/^warning: .*bgp\.neighbors\[0\]\.address/);
  });
});

describe('runCheck', () => {
  test('is usable without commander and without touching process streams', async () => {
    const io = { out: '', err: '' };
    const code = await runCheck('examples/quickstart.yaml', {}, { stdout: (t) => (io.out += t), stderr: (t) => (io.err += t) });
    expect(code).toBe(EXIT_OK);
    expect(io.out).toContain('VIPs (1)');
    expect(out).toEqual([]);
  });
});
