/**
 * neighbors[].password_file (TCP-MD5) with both backends, ttl_security with the built-in speaker
 * only, and how `vipcast check`'s plan shows both (the password file's path, never a password).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatPlan } from '../../src/config/plan.js';
import { MINIMAL, expectIssue, load } from './helpers.js';

const neighborWith = (extra: string, bgpExtra = ''): string =>
  MINIMAL.replace('router_id: 10.0.0.1', `router_id: 10.0.0.1${bgpExtra}`).replace('      remote_as: 65000\n', `      remote_as: 65000\n${extra}`);

describe('password_file (TCP-MD5)', () => {
  test('is accepted with the built-in speaker (no GoBGP backend needed any more)', () => {
    const { config } = load(neighborWith('      password_file: /run/secrets/bgp\n'));
    expect(config.bgp.gobgpAddress).toBeUndefined();
    expect(config.bgp.neighbors[0]).toMatchObject({ passwordFile: '/run/secrets/bgp' });
  });

  test('is accepted with the GoBGP backend as before', () => {
    const { config } = load(neighborWith('      password_file: /run/secrets/bgp\n', '\n  gobgp_address: 127.0.0.1:50051'));
    expect(config.bgp.neighbors[0]).toMatchObject({ passwordFile: '/run/secrets/bgp' });
  });

  test('a relative path resolves against the config file directory', () => {
    const { config } = load(neighborWith('      password_file: secrets/bgp\n'), '/etc/vipcast/vipcast.yaml');
    expect(config.bgp.neighbors[0]!.passwordFile).toBe('/etc/vipcast/secrets/bgp');
  });

  test('an empty path is an error naming the key', () => {
    const issue = expectIssue(neighborWith('      password_file: ""\n'), 'bgp.neighbors[0].password_file', 'password_file', 'out_of_range');
    expect(issue.message).toMatch(/empty/);
  });
});

describe('ttl_security (GTSM)', () => {
  test('with the built-in speaker: on the neighbor', () => {
    const { config } = load(neighborWith('      ttl_security: true\n      ebgp_multihop: 2\n'));
    expect(config.bgp.neighbors[0]).toMatchObject({ ttlSecurity: true, ebgpMultihop: 2 });
  });

  test('with the GoBGP backend: still a conflict naming the key', () => {
    expectIssue(neighborWith('      ttl_security: true\n', '\n  gobgp_address: 127.0.0.1:50051'), 'bgp.neighbors[0].ttl_security', 'ttl_security', 'conflict');
  });
});

describe('the plan (vipcast check)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vipcast-plan-md5-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('shows md5 with the password file and ttl_security with its minimum TTL, never the password', async () => {
    const secret = 'plan-must-not-print-this';
    await writeFile(join(dir, 'bgp.key'), `${secret}\n`);
    const { config } = load(
      neighborWith('      password_file: bgp.key\n      ttl_security: true\n      ebgp_multihop: 2\n'),
      join(dir, 'vipcast.yaml'),
    );
    const plan = formatPlan(config);
    const row = plan.split('\n').find((l) => l.includes('10.0.0.254'));
    expect(row).toContain(`md5 (TCP-MD5 password from ${join(dir, 'bgp.key')})`);
    expect(row).toContain('ttl_security (GTSM, accept ttl >= 254)');
    expect(plan).not.toContain(secret);
  });

  test('a directly connected GTSM neighbor accepts 255 only; neither note without the keys', () => {
    const gtsm = formatPlan(load(neighborWith('      ttl_security: true\n')).config);
    expect(gtsm).toContain('ttl_security (GTSM, accept ttl >= 255)');
    const plain = formatPlan(load(MINIMAL).config);
    expect(plain).not.toMatch(/md5|ttl_security/);
  });
});
