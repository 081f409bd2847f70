/**
 * Per-peer Adj-RIB-Out (RFC 4271 §3.2): what this peer was actually sent, so that a new desired
 * set turns into the smallest UPDATE stream (MetalLB's `Set` semantics). It is emptied when the
 * session goes down ("releases all BGP resources"), so after a reconnect the whole current desired
 * set goes out again: nothing stale, nothing lost.
 */
import type { AddressFamily } from '../../backend/types.js';
import type { OutboundRoute, Prefix } from '../codec/types.js';
import type { WantedRoute } from './outbound.js';

/** A stable text form of everything we put on the wire for one route but its prefix. */
export function routeSignature(r: OutboundRoute): string {
  const ext = r.extendedCommunities.map((e) => Buffer.from(e).toString('hex'));
  return JSON.stringify([
    r.prefix.family,
    r.origin,
    r.asPath,
    r.nextHop,
    r.nextHopLinkLocal ?? null,
    r.med ?? null,
    r.localPref ?? null,
    r.communities,
    r.largeCommunities,
    ext,
  ]);
}

export interface RibDiff {
  announce: WantedRoute[];
  withdraw: Prefix[];
}

export class AdjRibOut {
  readonly #sent = new Map<string, { prefix: Prefix; sig: string }>();

  get size(): number {
    return this.#sent.size;
  }

  /** What to send so that the peer holds exactly `wanted` (keyed by canonical prefix). */
  diff(wanted: ReadonlyMap<string, WantedRoute>): RibDiff {
    const announce: WantedRoute[] = [];
    const withdraw: Prefix[] = [];
    for (const [key, w] of wanted) {
      if (this.#sent.get(key)?.sig !== w.sig) announce.push(w);
    }
    for (const [key, entry] of this.#sent) if (!wanted.has(key)) withdraw.push(entry.prefix);
    return { announce, withdraw };
  }

  /** Record a diff once its UPDATEs were written. */
  commit(d: RibDiff): void {
    for (const p of d.withdraw) this.#sent.delete(p.prefix);
    for (const w of d.announce) this.#sent.set(w.route.prefix.prefix, { prefix: w.route.prefix, sig: w.sig });
  }

  /** RFC 2918 route refresh: forget a family so the next sync sends all of it again. */
  forgetFamily(family: AddressFamily): void {
    for (const [key, e] of this.#sent) if (e.prefix.family === family) this.#sent.delete(key);
  }

  clear(): void {
    this.#sent.clear();
  }
}
