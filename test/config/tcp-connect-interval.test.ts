/**
 * tcp checks' connect_interval: accepted with passive on, refused without it or below the
 * VIP's interval (at the key's line), and shown in `vipcast check`'s plan.
 */
import { describe, expect, test } from 'vitest';
import { formatPlan } from '../../src/config/plan.js';
import { MINIMAL, expectIssue, load } from './helpers.js';

const CHECK = '        address: 127.0.0.1:8080\n';
const tcpWith = (extra: string, vipExtra = ''): string =>
  MINIMAL.replace(CHECK, `${CHECK}${extra}`).replace('    prefix: 192.0.2.10\n', `    prefix: 192.0.2.10\n${vipExtra}`);

describe('tcp connect_interval', () => {
  test('is accepted with passive on (the default) and normalised to milliseconds', () => {
    const { config } = load(tcpWith('        connect_interval: 5s\n'));
    expect(config.vips[0]!.checks[0]).toMatchObject({ type: 'tcp', passive: true, connectIntervalMs: 5_000 });
  });

  test('absent: no connectIntervalMs (a fresh connect every run, as before)', () => {
    const { config } = load(MINIMAL);
    expect(config.vips[0]!.checks[0]).not.toHaveProperty('connectIntervalMs');
    expect(formatPlan(config)).toMatch(/connect 127\.0\.0\.1:8080\s+timeout/);
  });

  test("equal to the VIP's own interval is accepted", () => {
    const { config } = load(tcpWith('        connect_interval: 500ms\n', '    interval: 500ms\n    timeout: 200ms\n'));
    expect(config.vips[0]!.checks[0]).toMatchObject({ connectIntervalMs: 500 });
  });

  test('is shown on the plan line of the check', () => {
    const plan = formatPlan(load(tcpWith('        connect_interval: 5s\n')).config);
    const line = plan.split('\n').find((l) => l.includes('tcp:127.0.0.1:8080'));
    expect(line).toBeDefined();
    expect(line).toMatch(/connect 127\.0\.0\.1:8080 every 5s \(held connection in between\)/);
    expect(line).toMatch(/periodic \+ passive/);
  });

  test('with passive: false is an error naming the key', () => {
    const issue = expectIssue(tcpWith('        passive: false\n        connect_interval: 5s\n'), 'vips[0].checks[0].connect_interval', 'connect_interval', 'conflict');
    expect(issue.message).toMatch(/connect_interval needs passive: true/);
  });

  test("below the health defaults' interval (2s) is an error at the key's line", () => {
    const issue = expectIssue(tcpWith('        connect_interval: 1s\n'), 'vips[0].checks[0].connect_interval', 'connect_interval', 'out_of_range');
    expect(issue.message).toMatch(/at least the VIP's interval \(2s\)/);
  });

  test("below the VIP's own interval is an error at the key's line", () => {
    const issue = expectIssue(tcpWith('        connect_interval: 5s\n', '    interval: 10s\n'), 'vips[0].checks[0].connect_interval', 'connect_interval', 'out_of_range');
    expect(issue.message).toMatch(/at least the VIP's interval \(10s\)/);
  });

  test('needs a unit like any duration', () => {
    expectIssue(tcpWith('        connect_interval: 5\n'), 'vips[0].checks[0].connect_interval', 'connect_interval', 'invalid_type');
  });
});
