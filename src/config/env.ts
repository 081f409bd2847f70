/**
 * `${NAME}` and `${NAME:-default}` in config values, from the environment. In Kubernetes this
 * lets one ConfigMap serve every node (`router_id: ${NODE_IP}` with NODE_IP from the Downward
 * API), so a ConfigMap change reloads in place instead of re-rendering per node.
 *
 * Expansion happens on parsed scalar values, never on raw text, so a value cannot inject YAML
 * structure, comments are untouched and errors keep their line. `$${` is a literal `${`. A plain
 * (unquoted) scalar is re-typed after expansion, so `local_as: ${LOCAL_AS}` is a number.
 */
import { isScalar, parse as parseYamlValue, visit, type Document, type LineCounter, type Node } from 'yaml';
import type { ConfigIssue } from './types.js';

const REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export type Env = Readonly<Record<string, string | undefined>>;

export function expandEnv(doc: Document.Parsed, file: string, lc: LineCounter, env: Env): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  visit(doc, {
    Pair(_key, pair) {
      const node = pair.value;
      if (!isScalar(node) || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const line = lc.linePos((node as Node).range?.[0] ?? 0).line;
      const missing: string[] = [];
      const text = node.value.replace(REF, (whole, name: string | undefined, fallback: string | undefined) => {
        if (name === undefined) return '${'; // "$${" escape
        const value = env[name];
        if (value !== undefined && value !== '') return value;
        if (fallback !== undefined) return fallback;
        missing.push(name);
        return whole;
      });
      for (const name of missing) {
        issues.push({ file, line, path: '', code: 'env_unset', message: `environment variable ${name} is not set (use \${${name}:-default} for a default)` });
      }
      if (missing.length > 0) return;
      node.value = node.type === 'PLAIN' ? retype(text) : text;
    },
  });
  return issues;
}

/** A plain scalar after expansion reads as YAML would read it had it been written literally. */
function retype(text: string): unknown {
  try {
    const v: unknown = parseYamlValue(text);
    return v === null || ['string', 'number', 'boolean'].includes(typeof v) ? v : text;
  } catch {
    return text;
  }
}
