/** Whole-file failures: syntax errors with their line, huge files, not-YAML, pathological input. */
import { mkdtemp, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, formatIssue } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { MAX_CONFIG_BYTES, MAX_CONFIG_ITEMS, MAX_FLOW_DEPTH } from '../../src/config/source.js';
import { FILE, MINIMAL, issuesOf } from './helpers.js';

async function loadIssues(path: string) {
  try {
    await loadConfig(path);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected loadConfig to fail');
}

describe('YAML syntax', () => {
  test('a syntax error is reported with its line', () => {
    const text = MINIMAL + 'health:\n  interval: [1s\n  rise: 2\nlog: {}\n';
    const issues = issuesOf(text);
    expect(issues.length).toBeGreaterThanOrEqual(1);
    expect(issues.every((i) => i.code === 'yaml_syntax' && i.path === '' && typeof i.line === 'number')).toBe(true);
    expect(issues[0]!.line).toBeGreaterThanOrEqual(text.split('\n').indexOf('health:') + 1);
  });
  test('a duplicate key is an error at the second occurrence', () => {
    const text = MINIMAL + 'log:\n  level: info\n  level: debug\n';
    const issues = issuesOf(text);
    expect(issues.map((i) => [i.code, i.line])).toEqual([['yaml_syntax', text.split('\n').lastIndexOf('  level: debug') + 1]]);
  });
  test('formatted as FILE:LINE: message', () => {
    const issue = issuesOf('bgp: [\n')[0]!;
    expect(formatIssue(issue)).toMatch(new RegExp(`^${FILE}:\\d+: YAML: `));
  });
});

describe('not a vipcast config', () => {
  test.each([
    ['empty', ''],
    ['a comment only', '# nothing\n'],
    ['a scalar', 'hello world\n'],
    ['a list', '- a\n- b\n'],
    ['JSON array', '[1, 2, 3]'],
    ['binary noise', '\u0000\u0001\u0002\u00ff\u00fe garbage \u0007'],
    ['unclosed quote', '"abc'],
  ])('%s: one clean file-level error', (_name, text) => {
    const issues = issuesOf(text);
    expect(issues.length).toBeGreaterThanOrEqual(1);
    for (const i of issues) {
      expect(['yaml_syntax', 'not_a_mapping']).toContain(i.code);
      expect(i.path).toBe('');
    }
  });

  test('an alias bomb is refused, not expanded', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 20; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`);
    const start = Date.now();
    const issues = issuesOf(lines.join('\n'));
    expect(Date.now() - start).toBeLessThan(2000);
    expect(issues.map((i) => i.code)).toEqual(['yaml_syntax']);
  });

  test('deep flow nesting is refused before the parser sees it (the yaml package aborts the process near 10,000 levels)', () => {
    const depth = 1_000_000;
    const start = Date.now();
    const issues = issuesOf(`bgp:\n  x: ${'['.repeat(depth)}${']'.repeat(depth)}\n`);
    expect(Date.now() - start).toBeLessThan(2000);
    expect(issues.map((i) => [i.code, i.line])).toEqual([['yaml_syntax', 2]]);
  });

  test('brackets inside quoted strings and comments do not count as nesting', () => {
    const deep = '['.repeat(MAX_FLOW_DEPTH + 1);
    const text = MINIMAL.replace('name: web', `name: web # ${deep}`) + `log: { level: info }\n# ${deep}\n`;
    expect(() => issuesOf(text)).toThrow(/expected the config to be invalid/);
    const quoted = MINIMAL + `bind_interface: "${deep}"\n`;
    expect(issuesOf(quoted).map((i) => i.path)).toEqual(['bind_interface']);
  });

  test('an apostrophe inside a plain scalar does not hide nesting', () => {
    const depth = 100_000;
    const issues = issuesOf(`a: [it's, ${'['.repeat(depth)}${']'.repeat(depth)}]\n`);
    expect(issues.map((i) => i.code)).toEqual(['yaml_syntax']);
  });

  test('too many items is refused quickly, not parsed for a minute', () => {
    const start = Date.now();
    const issues = issuesOf('- a\n'.repeat(MAX_CONFIG_ITEMS + 1));
    expect(Date.now() - start).toBeLessThan(2000);
    expect(issues.map((i) => i.code)).toEqual(['file_too_large']);
  });

  test('a map with tens of thousands of unknown keys is reported in seconds (no quadratic key checks)', () => {
    const start = Date.now();
    const text = MINIMAL + Array.from({ length: 30_000 }, (_, i) => `k${i}: v`).join('\n') + '\n';
    const issues = issuesOf(text);
    expect(issues).toHaveLength(30_000);
    expect(issues[29_999]).toMatchObject({ path: 'k29999', code: 'unknown_key', line: text.split('\n').length - 1 });
    expect(Date.now() - start).toBeLessThan(15_000);
  });

  test('text over the size limit is refused before parsing', () => {
    const issues = issuesOf(`# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    expect(issues.map((i) => i.code)).toEqual(['file_too_large']);
  });
});

describe('loadConfig from disk', () => {
  test('a huge file is refused by size without reading it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-cfg-'));
    const path = join(dir, 'huge.yaml');
    await writeFile(path, Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x61));
    const issues = await loadIssues(path);
    expect(issues.map((i) => [i.code, i.file])).toEqual([['file_too_large', path]]);
  });
  test('a missing file', async () => {
    const issues = await loadIssues('/nonexistent/vipcast.yaml');
    expect(issues.map((i) => i.code)).toEqual(['file_unreadable']);
    expect(issues[0]!.message).toMatch(/ENOENT/);
  });
  test('a directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-cfg-'));
    await mkdir(join(dir, 'd.yaml'));
    const issues = await loadIssues(join(dir, 'd.yaml'));
    expect(issues.map((i) => i.code)).toEqual(['file_unreadable']);
  });
  test('a valid file loads and records its absolute path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-cfg-'));
    const path = join(dir, 'ok.yaml');
    await writeFile(path, MINIMAL);
    const config = await loadConfig(path);
    expect(config.source).toBe(path);
    expect(config.vips.map((v) => v.prefix)).toEqual(['192.0.2.10/32']);
  });
  test('ConfigError carries a stable code and a message listing every issue', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vipcast-cfg-'));
    const path = join(dir, 'bad.yaml');
    await writeFile(path, MINIMAL + 'a: 1\nb: 2\n');
    try {
      await loadConfig(path);
      expect.unreachable();
    } catch (err) {
      const e = err as ConfigError;
      expect(e.code).toBe('VIPCAST_CONFIG_INVALID');
      expect(e.message.split('\n').slice(1)).toEqual(e.issues.map(formatIssue));
      expect(e.issues.map((i) => i.path)).toEqual(['a', 'b']);
    }
  });
});

describe('oversized values', () => {
  test('an issue quoting a huge value is clipped, with the key still named', () => {
    const text = MINIMAL.replace(/router_id: \S+/, `router_id: "${'9'.repeat(1_000_000)}"`);
    const issues = issuesOf(text);
    const issue = issues.find((i) => i.path === 'bgp.router_id');
    expect(issue).toBeDefined();
    expect(formatIssue(issue!).length).toBeLessThan(600);
    expect(issue!.message).toMatch(/more characters\)$/);
  });
});
