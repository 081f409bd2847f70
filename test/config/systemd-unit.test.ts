/**
 * `watch_systemd_unit` on exec checks (issue 7): unit names and cgroup paths resolved to the
 * cgroup below the cgroup v2 mount, clear errors at the key for what systemd would never make,
 * and the plan line that `vipcast check` prints.
 */
import { describe, expect, test } from 'vitest';
import { formatPlan } from '../../src/config/plan.js';
import { findCgroup2Mount, parsePopulated, unitCgroupPath } from '../../src/health/passive/unit-cgroup.js';
import { MINIMAL, expectIssue, load } from './helpers.js';

const TCP = '      - type: tcp\n        address: 127.0.0.1:8080\n';

function withExec(line: string): string {
  return MINIMAL.replace(TCP, `      - ${line}\n`);
}

describe('unit name or path -> cgroup path', () => {
  test.each([
    ['nginx.service', 'system.slice/nginx.service'],
    ['  db.service ', 'system.slice/db.service'],
    ['getty@tty1.service', 'system.slice/system-getty.slice/getty@tty1.service'],
    // unit_name_escape: a dash in the template prefix would mean nesting, so it is \x2d.
    ['foo-bar@x.service', 'system.slice/system-foo\\x2dbar.slice/foo-bar@x.service'],
    // cg_escape: names that could clash with kernel files get a leading "_".
    ['cpu.service', 'system.slice/_cpu.service'],
    ['_x.service', 'system.slice/__x.service'],
    ['/system.slice/nginx.service', 'system.slice/nginx.service'],
    ['machine.slice/libpod-abc.scope', 'machine.slice/libpod-abc.scope'],
    ['user.slice/user-1000.slice/user@1000.service/app.slice/app-web.slice/web.service', 'user.slice/user-1000.slice/user@1000.service/app.slice/app-web.slice/web.service'],
    ['/a.slice/a-b.slice/a-b-c.slice/x.service', 'a.slice/a-b.slice/a-b-c.slice/x.service'],
  ])('%s -> %s', (value, path) => {
    expect(unitCgroupPath(value)).toEqual({ ok: true, path });
  });

  test.each([
    ['nginx', /write "nginx\.service"/],
    ['foo@.service', /template: name an instance/],
    ['@x.service', /no template name/],
    ['session-1.scope', /give its path/],
    ['system.slice', /give its path/],
    ['nginx.socket', /not a service unit name/],
    ['ngi nx.service', /not a service unit name/],
    ['system.slice/../etc/x.service', /"\.\." path components/],
    ['system.slice//x.service', /empty/],
    ['system.slice/nginx', /must end with the unit's own cgroup/],
    ['user-1000.slice/x.service', /user-1000\.slice lives inside user\.slice: write user\.slice\/user-1000\.slice\/x\.service/],
    ['system.slice/x y.service', /not a cgroup name/],
    [`${'a'.repeat(250)}.service`, /at most 255/],
  ])('%s is refused', (value, message) => {
    const r = unitCgroupPath(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});

describe('the config key', () => {
  test('resolves the unit, turns passive detection on, and the plan names the cgroup', () => {
    const { config, warnings } = load(withExec('{ type: exec, command: [/usr/bin/systemctl, is-active, nginx], watch_systemd_unit: nginx.service }'));
    expect(warnings).toEqual([]);
    const check = config.vips[0]!.checks[0]!;
    expect(check).toMatchObject({ type: 'exec', passive: true, watchSystemdUnit: 'system.slice/nginx.service' });
    expect(check).not.toHaveProperty('watchPidFile', expect.anything());
    expect(formatPlan(config)).toMatch(/exec:\/usr\/bin\/systemctl is-active nginx\s+exec\s+.*timeout 1s\s+periodic \+ unit system\.slice\/nginx\.service$/m);
  });

  test('with watch_pid_file too, both detectors run and the plan shows both', () => {
    const { config } = load(withExec('{ type: exec, command: [/bin/check], watch_pid_file: /run/db.pid, watch_systemd_unit: /system.slice/db.service }'));
    expect(config.vips[0]!.checks[0]).toMatchObject({ passive: true, watchPidFile: '/run/db.pid', watchSystemdUnit: 'system.slice/db.service' });
    expect(formatPlan(config)).toMatch(/periodic \+ pid \/run\/db\.pid \+ unit system\.slice\/db\.service$/m);
  });

  test('an exec check without either stays periodic', () => {
    const { config } = load(withExec('{ type: exec, command: [/bin/true] }'));
    expect(config.vips[0]!.checks[0]).toMatchObject({ passive: false });
    expect(config.vips[0]!.checks[0]).not.toHaveProperty('watchSystemdUnit');
    expect(formatPlan(config)).toMatch(/exec:\/bin\/true\s+exec\s+\/bin\/true\s+timeout 1s\s+periodic$/m);
  });

  test('a bad unit is an invalid_value at the key, on its line', () => {
    const text = withExec('{ type: exec, command: [/bin/true], watch_systemd_unit: nginx }');
    const issue = expectIssue(text, 'vips[0].checks[0].watch_systemd_unit', 'watch_systemd_unit', 'invalid_value');
    expect(issue.message).toMatch(/nginx\.service/);
  });

  test('a non-string unit is refused', () => {
    expectIssue(withExec('{ type: exec, command: [/bin/true], watch_systemd_unit: 42 }'), 'vips[0].checks[0].watch_systemd_unit', 'watch_systemd_unit', 'invalid_type');
  });

  test('watch_systemd_unit belongs to exec: refused on tcp', () => {
    expectIssue(withExec('{ type: tcp, address: "127.0.0.1:1", watch_systemd_unit: nginx.service }'), 'vips[0].checks[0].watch_systemd_unit', 'watch_systemd_unit', 'unknown_key');
  });

  test("passive on exec points at both of exec's detectors", () => {
    const issue = expectIssue(withExec('{ type: exec, command: [/bin/true], passive: true }'), 'vips[0].checks[0].passive', 'passive: true', 'invalid_type');
    expect(issue.message).toMatch(/watch_pid_file or watch_systemd_unit/);
  });
});

describe('cgroup v2 mount and cgroup.events', () => {
  const HYBRID = [
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');
  const UNIFIED = '35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';

  test('unified and hybrid hosts', () => {
    expect(findCgroup2Mount(UNIFIED)).toEqual({ ok: true, dir: '/sys/fs/cgroup' });
    expect(findCgroup2Mount(HYBRID)).toEqual({ ok: true, dir: '/sys/fs/cgroup/unified' });
  });

  test('octal escapes in the mount point are undone', () => {
    expect(findCgroup2Mount('9 1 0:5 / /mnt/cg\\040two rw - cgroup2 none rw')).toEqual({ ok: true, dir: '/mnt/cg two' });
  });

  test('no cgroup2, or only a subtree of it, is an error that says why', () => {
    const v1 = findCgroup2Mount(HYBRID.split('\n').slice(0, 2).join('\n'));
    expect(v1).toMatchObject({ ok: false, message: expect.stringMatching(/cgroup v2 is not mounted/) });
    const sub = findCgroup2Mount('50 40 0:38 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw');
    expect(sub).toMatchObject({ ok: false, message: expect.stringMatching(/only a subtree.*\/kubepods\/pod1/) });
  });

  test("this machine's own mountinfo has a cgroup2 mount (the real-cgroup tests rely on it)", async () => {
    const { readFile } = await import('node:fs/promises');
    const found = findCgroup2Mount(await readFile('/proc/self/mountinfo', 'utf8'));
    expect(found.ok).toBe(true);
  });

  test('populated', () => {
    expect(parsePopulated('populated 1\nfrozen 0\n')).toBe(true);
    expect(parsePopulated('populated 0\nfrozen 0\n')).toBe(false);
    expect(parsePopulated('frozen 0\n')).toBeUndefined();
  });
});
