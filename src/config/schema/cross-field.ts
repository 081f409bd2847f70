/**
 * Rules that compare fields (refinements) and still run when other keys of the same object
 * failed, so that one `vipcast check` reports every problem at once instead of revealing some
 * only after others are fixed.
 *
 * By default zod skips an object's refinements as soon as any of its keys failed. zod v4's
 * `when` option (superRefine(fn, { when })) runs a refinement whenever `when(payload)` says so,
 * with `payload.issues` holding what failed so far (paths relative to the value refined). A
 * rule must never fire on a field that itself failed (that would be a cascade of nonsense), so
 * each rule names what it reads with `needs(...)`, and rules over list items skip the items
 * that failed (`partsOf(ctx)`).
 *
 * What the value holds when something failed (zod 4, checked by test/config/cross-field.test.ts):
 * a key that failed holds whatever its schema left there (the raw input, or z.NEVER); a key
 * that parsed holds its parsed value; an item whose own transform did not run (because the item
 * failed elsewhere) holds its untransformed object. Hence rules read only parts that parsed.
 */
import type * as z from 'zod';

type Issue = { readonly path?: readonly PropertyKey[] | undefined; readonly code?: string };

/** What parsed in a value being refined: paths are relative to it (["checks", 0, "timeout"]). */
export interface Parts {
  /** Nothing failed at `path`, inside it, or at any of its parents. */
  ok(...path: PropertyKey[]): boolean;
  /** The value at `path` and its parents have the right type; items inside it may have failed. */
  shape(...path: PropertyKey[]): boolean;
}

function isPrefix(a: readonly PropertyKey[], b: readonly PropertyKey[]): boolean {
  return a.length <= b.length && a.every((s, i) => s === b[i]);
}

/**
 * An unknown key says nothing about the values of the known ones (zod reports it at the
 * object, and even lets the object's transform run), so it never blocks a rule.
 */
function blocking(issues: readonly Issue[]): PropertyKey[][] {
  return issues.filter((i) => i.code !== 'unrecognized_keys').map((i) => [...(i.path ?? [])]);
}

export function partsOf(ctx: { issues: readonly Issue[] }): Parts {
  const failed = blocking(ctx.issues);
  const atRoot = failed.some((f) => f.length === 0);
  // Indexed by first segment: a list rule asks about each of thousands of VIPs, and must not
  // scan every issue of the list for each.
  const byHead = new Map<PropertyKey, PropertyKey[][]>();
  for (const f of failed) {
    const [head] = f;
    if (head === undefined) continue;
    const list = byHead.get(head);
    if (list) list.push(f);
    else byHead.set(head, [f]);
  }
  const near = (path: PropertyKey[]): PropertyKey[][] => {
    const [head] = path;
    return head === undefined ? failed : (byHead.get(head) ?? []);
  };
  return {
    ok: (...path) => !atRoot && !near(path).some((f) => isPrefix(f, path) || isPrefix(path, f)),
    shape: (...path) => !atRoot && !near(path).some((f) => isPrefix(f, path)),
  };
}

/**
 * A `when` for a refinement that reads the named keys: dotted paths ("attributes.next_hop")
 * that must have parsed entirely; "checks[]" for a list whose length or parsed items are read
 * (its items may have failed; the rule skips those itself); "[]" for the value itself being a
 * list. The value itself must always have the right type (an object, or the list).
 */
export function needs(...keys: string[]): (payload: z.core.ParsePayload) => boolean {
  const wanted = keys.map((k) => {
    const shapeOnly = k.endsWith('[]');
    const dotted = shapeOnly ? k.slice(0, -2) : k;
    return { shapeOnly, path: dotted === '' ? [] : dotted.split('.') };
  });
  return (payload) => {
    const parts = partsOf(payload);
    return parts.shape() && wanted.every((w) => (w.shapeOnly ? parts.shape(...w.path) : parts.ok(...w.path)));
  };
}
