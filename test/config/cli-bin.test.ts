/**
 * The command line as operators run it: the built `bin` (dist/src/cli/main.js, what `npx
 * vipcast` runs after `npm run build`) in a child process. `--help`, `--version`, the exit codes
 * of main.ts (2 for an invalid config or usage, 1 for a runtime failure) and `vipcast check`
 * printing every problem through the real entry point.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../harness/net.js';
import { hasBuild, VIPCAST_BIN } from '../harness/vipcast.js';
import { MINIMAL, lineOf } from './helpers.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function vipcast(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const clean = { ...process.env, VIPCAST_CONFIG: '', VIPCAST_ADMIN: '', VIPCAST_TOKEN: '', ...env };
    execFile(process.execPath, [VIPCAST_BIN, ...args], { timeout: 20_000, env: clean }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe.skipIf(!hasBuild())('the vipcast binary (dist/src/cli/main.js; run `npm run build` first)', () => {
  it('package.json bin points at it, and it starts with a node shebang', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string>; version: string };
    expect(new URL(`../../${pkg.bin.vipcast}`, import.meta.url).pathname).toBe(VIPCAST_BIN);
    expect((await readFile(VIPCAST_BIN, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('--version prints the package version and exits 0', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await vipcast([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    }
  });

  it('--help lists every command and exits 0; each command has its own help', async () => {
    const r = await vipcast(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['run', 'check', 'status', 'drain', 'undrain']) expect(r.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    const check = await vipcast(['check', '--help']);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('--config');
    const drain = await vipcast(['drain', '--help']);
    expect(drain.code).toBe(0);
    expect(drain.stdout).toContain('--token-file');
  });

  it('an unknown command or option is a usage error: exit 2', async () => {
    expect((await vipcast(['frobnicate'])).code).toBe(2);
    expect((await vipcast(['check', '--no-such-option'])).code).toBe(2);
  });

  it('check: a valid file exits 0 with the plan on stdout', async () => {
    const r = await vipcast(['check', '--config', 'examples/quickstart.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Backend /m);
  });

  it('check: an invalid file exits 2 with every problem, one per line, as FILE:LINE PATH: MESSAGE', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-bin-'));
    const path = join(dir, 'vipcast.yaml');
    const text =
      MINIMAL.replace('local_as: 65001', 'local_as: 0').replace('address: 127.0.0.1:8080', 'address: 127.0.0.1') +
      'health:\n  jitter: 90%\nlog: { level: loud }\n';
    await writeFile(path, text);
    const r = await vipcast(['check', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${path}:${lineOf(text, 'local_as')} bgp\\.local_as: .+`)),
      expect.stringMatching(new RegExp(`^${path}:${lineOf(text, '127.0.0.1')} vips\\[0\\]\\.checks\\[0\\]\\.address: .+`)),
      expect.stringMatching(new RegExp(`^${path}:${lineOf(text, 'jitter')} health\\.jitter: .+`)),
      expect.stringMatching(new RegExp(`^${path}:${lineOf(text, 'loud')} log\\.level: .+`)),
    ]);
  });

  it('check: rules comparing fields are reported in the same run as the field errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-bin-'));
    const path = join(dir, 'vipcast.yaml');
    // The bad URL used to hide the other four: vips[0]'s require (3 of 2 checks) and next_hop
    // family rules, and vips[2] repeating vips[1]'s name and prefix.
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
    await writeFile(path, text);
    const r = await vipcast(['check', '--config', path]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${path}:${lineOf(text, 'require')} vips\\[0\\]\\.require: .+`)),
      expect.stringMatching(new RegExp(`^${path}:${lineOf(text, 'next_hop')} vips\\[0\\]\\.attributes\\.next_hop: .+`)),
      `${path}:${lineOf(text, 'not a url')} vips[0].checks[0].url: invalid URL`,
      expect.stringMatching(new RegExp(`^${path}:${lineOf(text, '192.0.2.11/32')} vips\\[2\\]\\.name: .*vips\\[1\\]`)),
      expect.stringMatching(new RegExp(`^${path}:${lineOf(text, '192.0.2.11/32')} vips\\[2\\]\\.prefix: .*vips\\[1\\]`)),
    ]);
  });

  it('run with an invalid file exits 2 before starting anything, with the same messages', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-bin-'));
    const path = join(dir, 'vipcast.yaml');
    await writeFile(path, MINIMAL + 'colour: red\n');
    const r = await vipcast(['run'], { VIPCAST_CONFIG: path });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${path}:\\d+ colour: .*colour`, 'm'));
  });

  it('status and drain without a running instance: a message naming the address, non-zero exit', async () => {
    const admin = `http://127.0.0.1:${await freePort()}`;
    const status = await vipcast(['status', '--admin', admin]);
    expect(status.code).not.toBe(0);
    expect(status.stderr).toContain(admin);
    const drain = await vipcast(['drain', 'web', '--admin', admin], { VIPCAST_TOKEN: 'some-token-0123456789' });
    expect(drain.code).not.toBe(0);
    expect(drain.stderr).toContain(admin);
  });
});
