/**
 * Reads YAML text keeping node positions, so that every problem the schema finds can be
 * reported at the line of the offending node (or of its nearest existing parent when a key
 * is missing).
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node, Pair, YAMLMap } from 'yaml';
import type { ConfigIssue, ConfigIssueCode } from './types.js';
import { expandEnv, type Env } from './env.js';

/** Larger files are refused before parsing: a real config is a few KiB; this bounds time and memory. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/**
 * The yaml package needs ~10-40 us per node, so 4 MiB of tiny nodes ("- a" lines) would take
 * a minute: the number of lines plus flow-collection commas is capped too. 100,000 leaves room
 * for several thousand VIPs written in block style (~15 lines each).
 */
export const MAX_CONFIG_ITEMS = 100_000;
/**
 * Flow collections ([ ], { }) nested deeper than this are refused before parsing: the yaml
 * package exhausts memory (a fatal, uncatchable abort) around 10,000 levels. A vipcast config
 * needs about 6.
 */
export const MAX_FLOW_DEPTH = 64;
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

export function readYaml(text: string, file: string, env: Env = process.env): SourceResult {
  const fail = (code: ConfigIssueCode, message: string, line?: number): SourceResult => ({
    ok: false,
    issues: [{ file, line, path: '', code, message }],
  });
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    return fail('file_too_large', `file is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB; not a vipcast config`);
  }
  const shape = preScan(text);
  if (shape) return fail(shape.code, shape.message, shape.line);
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  let value: unknown;
  try {
    // uniqueKeys is off because the package's check is quadratic in a map's size; duplicateKeys()
    // does the same job in linear time.
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
    const syntax: ConfigIssue[] = doc.errors.map((e) => ({
      file,
      line: lineCounter.linePos(e.pos[0]).line,
      path: '',
      code: 'yaml_syntax',
      message: `YAML: ${e.message}`,
    }));
    syntax.push(...duplicateKeys(doc, file, lineCounter));
    syntax.push(...expandEnv(doc, file, lineCounter, env));
    if (syntax.length > 0) return { ok: false, issues: syntax.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };
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
  const index: KeyIndex = new WeakMap();
  return {
    ok: true,
    source: { file, value, lineOf: (path) => lineOfPath(contents, path, lineCounter, index) },
  };
}

interface ShapeProblem {
  code: ConfigIssueCode;
  message: string;
  line: number;
}

/**
 * One linear pass over the raw text bounding what would make the parser slow or crash: the
 * number of items and the depth of flow collections. Quoted strings and comments are skipped
 * so brackets inside them do not count; a bracket inside a plain block scalar does, which can
 * only over-count, and only matters past MAX_FLOW_DEPTH unmatched ones.
 */
function preScan(text: string): ShapeProblem | undefined {
  let items = 0;
  let depth = 0;
  let line = 1;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') {
      line++;
      items++;
    }
    if (quote !== '') {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = '';
      continue;
    }
    // A quote opens a quoted scalar only where a token can start (so "it's" is no quote).
    if ((ch === '"' || ch === "'") && /^[\s[{,:]?$/.test(text[i - 1] ?? '')) quote = ch;
    else if (ch === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) {
      const end = text.indexOf('\n', i);
      i = (end === -1 ? text.length : end) - 1;
    } else if (ch === '[' || ch === '{') {
      if (++depth > MAX_FLOW_DEPTH) return { code: 'yaml_syntax', message: `YAML: collections nested more than ${MAX_FLOW_DEPTH} levels deep: not a vipcast config`, line };
    } else if (ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
    else if (ch === ',') items++;
    if (items > MAX_CONFIG_ITEMS) return { code: 'file_too_large', message: `more than ${MAX_CONFIG_ITEMS} lines and list items: not a vipcast config`, line };
  }
  return undefined;
}

/** Duplicate keys in any mapping, in linear time (YAML 1.2 §3.2.1.1 requires unique keys). */
function duplicateKeys(doc: Document.Parsed, file: string, lc: LineCounter): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined) continue;
        if (seen.has(key)) {
          const pos = (pair.key as Node).range?.[0] ?? 0;
          issues.push({ file, line: lc.linePos(pos).line, path: '', code: 'yaml_syntax', message: `YAML: duplicate key "${key}"` });
        }
        seen.add(key);
      }
    },
  });
  return issues;
}

/**
 * Walks the document along `path`; returns the line of the deepest node reached. For a map
 * entry the line of its key is used, so a block value (`bgp:` followed by indented keys) is
 * reported at `bgp:` rather than at its first child.
 */
function lineOfPath(root: Node | null, path: readonly PathSegment[], lc: LineCounter, index: KeyIndex): number | undefined {
  const lineAt = (n: Node | null | undefined): number | undefined => (n?.range ? lc.linePos(n.range[0]).line : undefined);
  let node: unknown = root;
  let line = lineAt(root);
  for (const seg of path) {
    if (isMap(node)) {
      const pair = pairsOf(node, index).get(String(seg));
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

/** Per-map key lookup, built once: a file with many bad keys must not cost a scan per issue. */
type KeyIndex = WeakMap<YAMLMap, Map<string, Pair>>;

function pairsOf(map: YAMLMap, index: KeyIndex): Map<string, Pair> {
  let pairs = index.get(map);
  if (!pairs) {
    pairs = new Map();
    for (const p of map.items) {
      if (isPair(p) && isScalar(p.key) && !pairs.has(String(p.key.value))) pairs.set(String(p.key.value), p);
    }
    index.set(map, pairs);
  }
  return pairs;
}
