/**
 * Where a systemd unit's processes live, for exec checks with `watch_systemd_unit` (issue 7).
 * Pure functions: the config loader uses them to validate and resolve the key, the watcher to
 * find the cgroup v2 mount. Nothing here talks to systemd.
 *
 * A unit's cgroup is `<slice path>/<unit>` under the cgroup v2 mount (systemd.unit(5),
 * systemd.slice(5)): a service lands in system.slice unless its unit file says otherwise, and
 * an instance of a template unit (`getty@tty1.service`) in `system-<template>.slice`, which
 * lives inside system.slice because a dash in a slice name means nesting (`a-b.slice` is a
 * child of `a.slice`). Any other placement (Slice=, user units, scopes) is given as the cgroup
 * path itself, exactly as `systemctl show -p ControlGroup --value UNIT` prints it.
 */

export type UnitCgroupResult = { ok: true; path: string } | { ok: false; message: string };

/** systemd's unit name characters (unit-name.c: VALID_CHARS), with one optional "@instance". */
const SERVICE_NAME = /^[A-Za-z0-9:_.\\-]+@?[A-Za-z0-9:_.\\-]*\.service$/;
const COMPONENT = /^[A-Za-z0-9:_.\\@-]+$/;
/** systemd caps unit names at 255 bytes (UNIT_NAME_MAX). */
const NAME_MAX = 255;
/**
 * cgroup names systemd escapes with a leading "_" because they could clash with the kernel's
 * own files (cgroup-util.c, cg_needs_escape): "_x", ".x", "cgroup.x" and "<controller>.x".
 */
const CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'io', 'blkio', 'memory', 'devices', 'pids'];

/**
 * The cgroup of the unit named by `watch_systemd_unit`, relative to the cgroup v2 mount, e.g.
 * "system.slice/nginx.service". A value with a "/" is taken as that path (leading "/" allowed);
 * a bare name must be a service.
 */
export function unitCgroupPath(value: string): UnitCgroupResult {
  const text = value.trim();
  if (text.includes('/')) return explicitPath(text);
  if (text.length > NAME_MAX) return fail(`unit names are at most ${NAME_MAX} characters`);
  if (!text.includes('.')) return fail(`"${text}" is not a unit name: write "${text}.service"`);
  if (/\.(scope|slice)$/.test(text)) {
    return fail(`a ${text.endsWith('.scope') ? 'scope' : 'slice'}'s cgroup depends on who made it: give its path, as \`systemctl show -p ControlGroup --value ${text}\` prints it`);
  }
  const at = text.indexOf('@');
  if (at === 0) return fail(`"${text}" has no template name before "@"`);
  if (!SERVICE_NAME.test(text)) return fail(`"${text}" is not a service unit name (letters, digits, ":_.\\-", one optional "@instance", ending in ".service")`);
  if (at > 0 && at === text.length - '@.service'.length) {
    return fail(`"${text}" is a template: name an instance, e.g. "${text.slice(0, at)}@example.service"`);
  }
  const dir = cgEscape(text);
  if (at < 0) return { ok: true, path: `system.slice/${dir}` };
  // unit.c, unit_set_default_slice: instances go to system-<escaped template prefix>.slice.
  const slice = `system-${unitNameEscape(text.slice(0, at))}.slice`;
  return { ok: true, path: `system.slice/${cgEscape(slice)}/${dir}` };
}

function explicitPath(text: string): UnitCgroupResult {
  const parts = text.replace(/^\/+/, '').split('/');
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') return fail(`"${text}": empty, "." and ".." path components are not allowed`);
    if (part.length > NAME_MAX || !COMPONENT.test(part)) return fail(`"${text}": "${part.slice(0, 40)}" is not a cgroup name systemd makes`);
  }
  const last = parts[parts.length - 1] ?? '';
  if (!/\.(service|scope)$/.test(last)) return fail(`"${text}" must end with the unit's own cgroup, a .service or .scope (not "${last}")`);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (!part.endsWith('.slice')) continue;
    const dash = part.lastIndexOf('-');
    if (dash < 0) continue;
    // systemd.slice(5): "a-b.slice" is a child of "a.slice", so its parent directory must be that.
    const parent = `${part.slice(0, dash)}.slice`;
    if (parts[i - 1] !== parent) return fail(`"${text}": ${part} lives inside ${parent}: write ${[...parts.slice(0, i), parent, ...parts.slice(i)].join('/')}`);
  }
  return { ok: true, path: parts.join('/') };
}

/** cgroup-util.c cg_escape: prefix "_" where the name could clash with a kernel file. */
function cgEscape(name: string): string {
  const clash = name.startsWith('_') || name.startsWith('.') || name.startsWith('cgroup.') || CONTROLLERS.some((c) => name.startsWith(`${c}.`));
  return clash ? `_${name}` : name;
}

/** unit-name.c unit_name_escape, for a template prefix: "-" (the slice separator) becomes "\x2d". */
function unitNameEscape(prefix: string): string {
  return prefix.replace(/[^A-Za-z0-9:_.]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function fail(message: string): UnitCgroupResult {
  return { ok: false, message };
}

export type Cgroup2MountResult = { ok: true; dir: string } | { ok: false; message: string };

/**
 * The cgroup v2 mount point from /proc/self/mountinfo text (proc(5)): `/sys/fs/cgroup` on
 * unified hosts, `/sys/fs/cgroup/unified` on hybrid ones. Only a mount of the hierarchy's root
 * will do: a bind mount of a subtree would put system.slice somewhere else.
 */
export function findCgroup2Mount(mountinfo: string): Cgroup2MountResult {
  let subtree: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    // Optional fields end at a lone "-"; the filesystem type follows it.
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields[sep + 1] !== 'cgroup2') continue;
    const root = unescapeMountField(fields[3] ?? '');
    const dir = unescapeMountField(fields[4] ?? '');
    if (root === '/') return { ok: true, dir };
    subtree ??= `${dir} (a mount of ${root})`;
  }
  if (subtree !== undefined) return { ok: false, message: `only a subtree of the cgroup v2 hierarchy is mounted here: ${subtree}` };
  return { ok: false, message: 'cgroup v2 is not mounted here (no cgroup2 line in /proc/self/mountinfo)' };
}

/** mountinfo escapes space, tab, newline and backslash as octal (\040). */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/**
 * "populated" from a cgroup.events file (Documentation/admin-guide/cgroup-v2.rst: "1 if the
 * cgroup or its descendants contains any live processes; otherwise, 0").
 */
export function parsePopulated(text: string): boolean | undefined {
  const m = /^populated ([01])$/m.exec(text);
  return m ? m[1] === '1' : undefined;
}
