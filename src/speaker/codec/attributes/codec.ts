/**
 * What every path attribute row provides (see table.ts): in the manner of BIRD's bgp_attr_table,
 * one row per type code with its name, flags, decoder, encoder and RFC 7606 error approach.
 */
import { copyBytes } from '../bytes.js';
import { NotificationError, type ErrorAction, type NotificationId } from '../errors.js';
import type { CodecOptions, PathAttributes } from '../types.js';

/** Attribute Flags octet (RFC 4271 §4.3). */
export const FLAG_OPTIONAL = 0x80;
export const FLAG_TRANSITIVE = 0x40;
export const FLAG_PARTIAL = 0x20;
export const FLAG_EXTENDED_LENGTH = 0x10;
/** The two bits whose conflict with the type code is an Attribute Flags Error (RFC 7606 §3 c). */
export const FLAG_CATEGORY_MASK = FLAG_OPTIONAL | FLAG_TRANSITIVE;

export const WELL_KNOWN = FLAG_TRANSITIVE;
export const OPTIONAL_TRANSITIVE = FLAG_OPTIONAL | FLAG_TRANSITIVE;
export const OPTIONAL_NON_TRANSITIVE = FLAG_OPTIONAL;

/** Path attribute type codes (IANA "BGP Path Attributes"). */
export const AttrCode = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  Med: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  OriginatorId: 9,
  ClusterList: 10,
  MpReach: 14,
  MpUnreach: 15,
  ExtendedCommunities: 16,
  As4Path: 17,
  As4Aggregator: 18,
  LargeCommunity: 32,
} as const;

export interface AttrContext {
  opts: CodecOptions;
  /** The whole attribute (flags, type, length, value): the data of most UPDATE errors (§6.3). */
  raw: Uint8Array;
}

export type AttrField = Exclude<keyof PathAttributes, 'unknown'>;
export type AttrValue<K extends AttrField> = NonNullable<PathAttributes[K]>;

export interface AttributeCodec<K extends AttrField = AttrField> {
  code: number;
  name: string;
  /** Expected Optional and Transitive bits. */
  flags: number;
  field: K;
  /** RFC 7606 approach when this attribute is malformed (§7 per attribute). */
  onError: ErrorAction;
  /** Decodes the value octets; throws NotificationError (possibly with its own action). */
  decode(value: Uint8Array, ctx: AttrContext): AttrValue<K>;
  /** Value octets, or undefined when the value means "absent" (e.g. ATOMIC_AGGREGATE false). */
  encode(value: AttrValue<K>, opts: CodecOptions): Uint8Array | undefined;
}

/** Typed row constructor: keeps each row's decode/encode in step with its field. */
export function defineAttribute<K extends AttrField>(row: AttributeCodec<K>): AttributeCodec {
  // Method parameters are checked bivariantly, so a row for one field fits the table's row type.
  return row;
}

/** A malformed-attribute error whose data is the attribute itself (RFC 4271 §6.3). */
export function attrError(id: NotificationId, ctx: AttrContext, detail: string, action?: ErrorAction): NotificationError {
  return new NotificationError(id, detail, copyBytes(ctx.raw), action);
}

export function expectLength(ctx: AttrContext, name: string, value: Uint8Array, ...allowed: number[]): void {
  if (!allowed.includes(value.length)) {
    throw attrError('BGP_UPDATE_ATTRIBUTE_LENGTH', ctx, `${name} of ${value.length} octets (expected ${allowed.join(' or ')})`);
  }
}

/** Value length must be a non-zero multiple of `unit` (RFC 7606 §7.8, §7.14; RFC 8092 §5). */
export function expectMultiple(ctx: AttrContext, name: string, value: Uint8Array, unit: number): void {
  if (value.length === 0 || value.length % unit !== 0) {
    throw attrError('BGP_UPDATE_ATTRIBUTE_LENGTH', ctx, `${name} of ${value.length} octets is not a non-zero multiple of ${unit}`);
  }
}

export const u16 = (v: Uint8Array, i: number): number => ((v[i] ?? 0) << 8) | (v[i + 1] ?? 0);
export const u32 = (v: Uint8Array, i: number): number => ((v[i] ?? 0) * 0x1000000 + (((v[i + 1] ?? 0) << 16) | ((v[i + 2] ?? 0) << 8) | (v[i + 3] ?? 0))) >>> 0;

export function putU32(out: Uint8Array, i: number, n: number): void {
  out[i] = n >>> 24;
  out[i + 1] = (n >>> 16) & 0xff;
  out[i + 2] = (n >>> 8) & 0xff;
  out[i + 3] = n & 0xff;
}

export function u32Value(n: number): Uint8Array {
  const out = new Uint8Array(4);
  putU32(out, 0, n);
  return out;
}
