/**
 * The desired set as API paths (OwnPath), encoded lazily so that apply() can stream the first
 * chunk while the rest is still to be encoded (stream.ts).
 *
 * An EncodePass is one desired set. It encodes a route on first use and reuses the previous
 * completed pass's encoding of every unchanged route (keyed by the route's prefix text, checked
 * against the attributes' JSON): most of them, usually, since encoding 10,000 routes from
 * scratch costs far more than comparing. The JSON is computed once per attributes object (the
 * manager hands out one object per VIP state, many routes may share one).
 */
import type { DesiredSet, RouteAttributes, VipRoute } from '../backend/types.js';
import { formatPrefix, parseCommunity, parseExtendedCommunity, parseLargeCommunity, parsePrefix } from '../speaker/codec/index.js';
import { desiredPath, type OwnPath, type ParsedPrefix, type PathContext, type SharedAttributes } from './paths.js';

interface CacheEntry {
  attrJson: string;
  path: OwnPath;
}

/** A route's encoding with the attributes' JSON it was encoded from, by the route's prefix text. */
type EncodeCache = Map<string, CacheEntry>;

export class PathEncoder {
  /** The encodings of the last pass that encoded its whole set. */
  cache: EncodeCache = new Map();

  constructor(readonly ctx: PathContext) {}

  /** A pass over `desired`. Throws at once on an invalid attribute text, before anything is sent. */
  begin(desired: DesiredSet): EncodePass {
    return new EncodePass(this, desired);
  }
}

export class EncodePass {
  private readonly routes: VipRoute[];
  private readonly json = new Map<RouteAttributes, string>();
  private readonly shared: SharedAttributes = new Map();
  /** routes[i] encoded, once it is. */
  private readonly out: (OwnPath | undefined)[];
  /** routes[i]'s prefix parsed, when keys() needed it before the encoding. */
  private prefixes?: (ParsedPrefix | undefined)[];
  private readonly nextCache: EncodeCache = new Map();
  private encoded = 0;
  private all?: Map<string, OwnPath>;

  constructor(
    private readonly encoder: PathEncoder,
    readonly desired: DesiredSet,
  ) {
    this.routes = [...desired.values()];
    this.out = new Array<OwnPath | undefined>(this.routes.length);
    this.validate();
  }

  get size(): number {
    return this.routes.length;
  }

  /** routes[from..to) encoded, in the desired set's order. */
  chunk(from: number, to: number): OwnPath[] {
    const end = Math.min(to, this.routes.length);
    const paths: OwnPath[] = [];
    for (let i = from; i < end; i++) paths.push(this.encodeAt(i));
    return paths;
  }

  /** The whole set encoded, by canonical prefix. */
  paths(): Map<string, OwnPath> {
    if (!this.all) {
      const all = new Map<string, OwnPath>();
      for (let i = 0; i < this.routes.length; i++) {
        const p = this.encodeAt(i);
        all.set(p.prefix, p);
      }
      this.all = all;
    }
    return this.all;
  }

  /**
   * The canonical prefixes of the whole set without encoding it (what is to be withdrawn must be
   * known before the first add is sent): parsed for new routes, reused for known ones.
   */
  keys(): Set<string> {
    const keys = new Set<string>();
    const prefixes = (this.prefixes ??= new Array<ParsedPrefix | undefined>(this.routes.length));
    for (let i = 0; i < this.routes.length; i++) {
      const r = this.routes[i]!;
      const known = this.out[i] ?? this.hit(r, this.attrJson(r));
      if (known) {
        keys.add(known.prefix);
        continue;
      }
      const p = (prefixes[i] = parsePrefix(r.prefix, r.family));
      keys.add(formatPrefix(p.family, p.bytes, p.length));
    }
    return keys;
  }

  /**
   * Rejects an invalid set from apply() itself rather than halfway through a stream: every
   * distinct community text is parsed once, and one route per family and next hop is encoded
   * (the rest of the attribute bytes cannot fail). Cheaper than a JSON per attributes object,
   * which a pass computes only as it encodes (the first message must not wait for 10,000 of them).
   */
  private validate(): void {
    const objects = new Set<RouteAttributes>();
    const texts = new Set<string>();
    const hops = new Set<string>();
    const check = (list: readonly string[], parse: (text: string) => unknown): void => {
      for (const t of list) {
        if (texts.has(t)) continue;
        parse(t);
        texts.add(t);
      }
    };
    for (let i = 0; i < this.routes.length; i++) {
      const r = this.routes[i]!;
      const a = r.attributes;
      if (objects.has(a)) continue;
      objects.add(a);
      check(a.communities, parseCommunity);
      check(a.largeCommunities, parseLargeCommunity);
      check(a.extendedCommunities, parseExtendedCommunity);
      const hop = `${r.family} ${a.nextHop ?? ''}`;
      if (hops.has(hop)) continue;
      this.encodeAt(i);
      hops.add(hop);
    }
  }

  private attrJson(r: VipRoute): string {
    let j = this.json.get(r.attributes);
    if (j === undefined) this.json.set(r.attributes, (j = JSON.stringify(r.attributes)));
    return j;
  }

  private hit(r: VipRoute, attrJson: string): OwnPath | undefined {
    const prev = this.encoder.cache.get(r.prefix);
    return prev !== undefined && prev.attrJson === attrJson && prev.path.family === r.family ? prev.path : undefined;
  }

  private encodeAt(i: number): OwnPath {
    const done = this.out[i];
    if (done) return done;
    const r = this.routes[i]!;
    const attrJson = this.attrJson(r);
    const path = this.hit(r, attrJson) ?? desiredPath(r, this.encoder.ctx, this.shared, attrJson, this.prefixes?.[i]);
    this.nextCache.set(r.prefix, { attrJson, path });
    this.out[i] = path;
    // Only a complete pass replaces the cache: it then holds exactly the current set.
    if (++this.encoded === this.routes.length) this.encoder.cache = this.nextCache;
    return path;
  }
}
