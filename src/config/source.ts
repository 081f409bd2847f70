/**
 * Reads YAML text keeping node positions, so that every problem the schema finds can be
 * reported at the line of the offending node (or of its nearest existing parent when a key
 * is missing).
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { ConfigIssue, ConfigIssueCode } from './types.js';

/** Larger files are refused before parsing: a real config is a few KiB; this bounds time and memory. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Alias expansion limit (the yaml package's guard against "billion laughs"). */
const MAX_ALIAS_COUNT = 100;

export type PathSegment = string | number;

export interface YamlSource {
  file: string;
  value: unknown;
  /** 1-based line of the node at `path`, or of its nearest existing ancestor. */
  lineOf(path: readonly PathSegment[]): number | undefined;
}

export type SourceResult = { ok: true; source: YamlSource } | { ok: false; issues: ConfigIssue[] };

export function readYaml(text: string, file: string): SourceResult {
  const fail = (code: ConfigIssueCode, message: string, line?: number): SourceResult => ({
    ok: false,
    issues: [{ file, line, path: '', code, message }],
  });
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    return fail('file_too_large', `file is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB; not a vipcast config`);
  }
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  let value: unknown;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      return {
        ok: false,
        issues: doc.errors.map((e) => ({
          file,
          line: lineCounter.linePos(e.pos[0]).line,
          path: '',
          code: 'yaml_syntax',
          message: `YAML: ${e.message}`,
        })),
      };
    }
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // Pathological input (deep nesting overflowing the stack, alias bombs) must end as one
    // clean issue, never a crash; the cause is kept in the message.
    return fail('yaml_syntax', `YAML: cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (value === null || value === undefined) return fail('not_a_mapping', 'file is empty: expected a YAML mapping with at least bgp: and vips:', 1);
  if (typeof value !== 'object' || Array.isArray(value)) {
    return fail('not_a_mapping', `expected a YAML mapping (bgp:, vips:, ...), got ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}`, 1);
  }
  const contents = doc.contents;
  return {
    ok: true,
    source: { file, value, lineOf: (path) => lineOfPath(contents, path, lineCounter) },
  };
}

/**
 * Walks the document along `path`; returns the line of the deepest node reached. For a map
 * entry the line of its key is used, so a block value (`bgp:` followed by indented keys) is
 * reported at `bgp:` rather than at its first child.
 */
function lineOfPath(root: Node | null, path: readonly PathSegment[], lc: LineCounter): number | undefined {
  const lineAt = (n: Node | null | undefined): number | undefined => (n?.range ? lc.linePos(n.range[0]).line : undefined);
  let node: unknown = root;
  let line = lineAt(root);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      line = lineAt(pair.key as Node) ?? line;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (!item) break;
      line = lineAt(item as Node) ?? line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}
