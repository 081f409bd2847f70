/**
 * Translates zod issues into ConfigIssues: a YAML-style path ("vips[1].checks[0].url"), the
 * line of that node (or of its nearest existing parent), a stable code and a short message.
 */
import type * as z from 'zod';
import type { PathSegment, YamlSource } from './source.js';
import type { ConfigIssue, ConfigIssueCode } from './types.js';

/** ["vips", 1, "checks", 0, "url"] -> "vips[1].checks[0].url" */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

function describe(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return `the string "${input.length > 40 ? `${input.slice(0, 40)}...` : input}"`;
  if (typeof input === 'number' || typeof input === 'boolean' || typeof input === 'bigint') return `${typeof input} ${input}`;
  return typeof input;
}

const EXPECTED: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  never: 'nothing',
};

interface Translated {
  path: PathSegment[];
  code: ConfigIssueCode;
  message: string;
}

function toPath(p: readonly PropertyKey[]): PathSegment[] {
  return p.map((s) => (typeof s === 'number' ? s : String(s)));
}

function translate(issue: z.core.$ZodIssue): Translated[] {
  const path = toPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], code: 'unknown_key', message: `unknown key "${key}"` }));
    case 'invalid_type': {
      if (issue.input === undefined) return [{ path, code: 'required', message: `required (${EXPECTED[issue.expected] ?? issue.expected})` }];
      // A custom message (e.g. "duration needs a unit") wins over the generic one.
      const generic = issue.message.startsWith('Invalid input');
      const message = generic ? `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describe(issue.input)}` : issue.message;
      return [{ path, code: 'invalid_type', message }];
    }
    case 'invalid_value':
      return [{ path, code: 'invalid_value', message: `must be one of ${issue.values.map(String).join(', ')}, not ${describe(issue.input)}` }];
    case 'invalid_union':
      if ('discriminator' in issue && issue.discriminator !== undefined) {
        const input = (issue.input as Record<string, unknown> | undefined)?.[issue.discriminator];
        const options = (issue as { options?: unknown[] }).options?.map(String).join(', ') ?? '';
        return input === undefined
          ? [{ path, code: 'required', message: `required (one of ${options})` }]
          : [{ path, code: 'invalid_value', message: `unknown ${issue.discriminator} ${JSON.stringify(input)}: expected one of ${options}` }];
      }
      return unionBranch(issue.errors, path) ?? [{ path, code: issue.input === undefined ? 'required' : 'invalid_type', message: issue.message }];
    case 'too_small':
    case 'too_big':
      return [{ path, code: 'out_of_range', message: issue.message }];
    case 'custom': {
      const code = (issue.params as { code?: ConfigIssueCode } | undefined)?.code ?? 'invalid_value';
      return [{ path, code, message: issue.message }];
    }
    default:
      return [{ path, code: 'invalid_value', message: issue.message }];
  }
}

/**
 * When exactly one alternative of a union got past the top-level type check (e.g. when_down
 * given as a mapping, not as "withdraw"), its own issues are the useful ones: report those at
 * their nested paths instead of a vague "invalid input" on the whole value.
 */
function unionBranch(branches: readonly (readonly z.core.$ZodIssue[])[], path: PathSegment[]): Translated[] | undefined {
  const rootMismatch = (e: z.core.$ZodIssue): boolean => e.path.length === 0 && (e.code === 'invalid_type' || e.code === 'invalid_value');
  const viable = branches.filter((errs) => !errs.some(rootMismatch));
  if (viable.length !== 1 || !viable[0]) return undefined;
  return viable[0].flatMap(translate).map((t) => ({ ...t, path: [...path, ...t.path] }));
}

/** ConfigIssues for the zod issues of the section at `prefix`, in document order. */
export function toConfigIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PathSegment[], source: YamlSource): ConfigIssue[] {
  return issues.flatMap(translate).map((t) => {
    const path = [...prefix, ...t.path];
    return { file: source.file, line: source.lineOf(path), path: formatPath(path), code: t.code, message: t.message };
  });
}
