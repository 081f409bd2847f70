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
  /** The RIB's generation per family when the diff was taken (see commit). */
  generation: Readonly<Record<AddressFamily, number>>;
}

export class AdjRibOut {
  readonly #sent = new Map<string, { prefix: Prefix; sig: string }>();
  /** Bumped whenever a family is forgotten: a diff taken before cannot be trusted for it. */
  readonly #generation: Record<AddressFamily, number> = { ipv4: 0, ipv6: 0 };

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
    return { announce, withdraw, generation: { ...this.#generation } };
  }

  /**
   * Record a diff once its UPDATEs were written. Announcements of a family forgotten since the
   * diff was taken are not recorded: a ROUTE-REFRESH processed while they were being written
   * asks for the whole family again (RFC 2918 §4), and the peer may have read some of them
   * before it asked. Left out, they go again with the sync the refresh queued. Returns those
   * families.
   */
  commit(d: RibDiff): AddressFamily[] {
    const stale = (['ipv4', 'ipv6'] as const).filter((f) => d.generation[f] !== this.#generation[f]);
    for (const p of d.withdraw) this.#sent.delete(p.prefix);
    for (const w of d.announce) {
      if (stale.length > 0 && stale.includes(w.route.prefix.family)) continue;
      this.#sent.set(w.route.prefix.prefix, { prefix: w.route.prefix, sig: w.sig });
    }
    return stale;
  }

  /** RFC 2918 route refresh: forget a family so the next sync sends all of it again. */
  forgetFamily(family: AddressFamily): void {
    this.#generation[family]++;
    for (const [key, e] of this.#sent) if (e.prefix.family === family) this.#sent.delete(key);
  }

  clear(): void {
    this.#generation.ipv4++;
    this.#generation.ipv6++;
    this.#sent.clear();
  }
}
