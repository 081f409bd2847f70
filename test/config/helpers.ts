/** Shared helpers for the config tests: parse text, collect issues, find a marker's line. */
import { expect } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfigWithWarnings } from '../../src/config/load.js';
import type { LoadedConfig } from '../../src/config/load.js';
import type { ConfigIssue, ConfigIssueCode } from '../../src/config/types.js';

export const FILE = 'vipcast.yaml';

/** A minimal valid config; tests append or replace sections. */
export const MINIMAL = `bgp:
  local_as: 65001
  router_id: 10.0.0.1
  neighbors:
    - address: 10.0.0.254
      remote_as: 65000
vips:
  - name: web
    prefix: 192.0.2.10
    checks:
      - type: tcp
        address: 127.0.0.1:8080
`;

/** Parses; fails the test if the text is invalid. */
export function load(text: string, file = FILE): LoadedConfig {
  try {
    return parseConfigWithWarnings(text, file);
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`unexpected config errors:\n${err.message}`, { cause: err });
    throw err;
  }
}

/** The issues of an invalid text; fails the test if the text is valid or the error is not a ConfigError. */
export function issuesOf(text: string, file = FILE): ConfigIssue[] {
  try {
    parseConfigWithWarnings(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected the config to be invalid, but it parsed');
}

/** 1-based line of the first line containing `marker` (which must occur exactly once). */
export function lineOf(text: string, marker: string): number {
  const lines = text.split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(marker) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`marker ${JSON.stringify(marker)} occurs ${hits.length} times`);
  return hits[0]!;
}

/** Asserts the text yields an issue at `path`, on the line holding `marker`, with `code`. */
export function expectIssue(text: string, path: string, marker: string, code: ConfigIssueCode): ConfigIssue {
  const issues = issuesOf(text);
  const hit = issues.find((i) => i.path === path);
  expect(hit, `no issue at ${path}; got:\n${issues.map((i) => `${i.line} ${i.path} [${i.code}] ${i.message}`).join('\n')}`).toBeDefined();
  expect({ line: hit!.line, code: hit!.code, file: hit!.file }).toEqual({ line: lineOf(text, marker), code, file: FILE });
  expect(hit!.message.length).toBeGreaterThan(0);
  return hit!;
}
