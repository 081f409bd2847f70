/**
 * The path diff, pure: what to add and what to withdraw so that the daemon's paths of ours equal
 * the desired ones. Used against the last applied set (apply) and against ListPath (drift repair).
 */
import { samePath, type OwnPath } from './paths.js';

export interface PathDiff {
  /** Missing, or present with other attributes (AddPath with the same prefix and identifier replaces). */
  add: OwnPath[];
  /** Ours but no longer desired. */
  withdraw: OwnPath[];
}

export function diffPaths(desired: ReadonlyMap<string, OwnPath>, actual: Iterable<OwnPath>): PathDiff {
  const add: OwnPath[] = [];
  const withdraw: OwnPath[] = [];
  const seen = new Map<string, OwnPath>();
  for (const a of actual) {
    const want = desired.get(a.prefix);
    if (!want) withdraw.push(a);
    else seen.set(a.prefix, a);
  }
  for (const [prefix, want] of desired) {
    const have = seen.get(prefix);
    if (!have || !samePath(have, want)) add.push(want);
  }
  return { add, withdraw };
}

export const isEmptyDiff = (d: PathDiff): boolean => d.add.length === 0 && d.withdraw.length === 0;
