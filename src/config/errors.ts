/**
 * Config errors. A ConfigError carries every problem found (not just the first) as ConfigIssues,
 * each with a stable code so tests and tooling never depend on message wording.
 */
import type { ConfigIssue } from './types.js';

/** Stable error code of a ConfigError (undici-style). */
export const CONFIG_INVALID = 'VIPCAST_CONFIG_INVALID';

/** `vipcast.yaml:14 vips[1].checks[0].url: invalid URL` (path omitted for whole-file problems). */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where} ${issue.path}: ${issue.message}`;
}

/** Messages quote offending values; a 1 MiB value must not become a 1 MiB log line. */
export const MAX_ISSUE_MESSAGE = 300;

function clip(issue: ConfigIssue): ConfigIssue {
  if (issue.message.length <= MAX_ISSUE_MESSAGE) return issue;
  return { ...issue, message: `${issue.message.slice(0, MAX_ISSUE_MESSAGE)}... (${issue.message.length - MAX_ISSUE_MESSAGE} more characters)` };
}

export class ConfigError extends Error {
  readonly code = CONFIG_INVALID;
  readonly issues: ConfigIssue[];

  constructor(all: ConfigIssue[]) {
    const issues = all.map(clip);
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(`invalid configuration (${count}):\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
