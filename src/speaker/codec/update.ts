/**
 * UPDATE (RFC 4271 §4.3) with the revised error handling of RFC 7606.
 *
 * Decoding walks the attribute table (attributes/table.ts) and collects every error with its
 * approach: session reset is thrown at once (nothing is stronger), treat-as-withdraw and
 * attribute discard are reported on the DecodedUpdate, and the strongest one wins (§3 j).
 * Framing errors that make the NLRI impossible to locate, and NLRI syntax errors, reset the
 * session (§3 a, §5.3): treat-as-withdraw is only possible when every prefix is known.
 */
import { copyBytes } from './bytes.js';
import { CodecInputError, NotificationError } from './errors.js';
import { decodePrefixes, encodedPrefixSize, writePrefix } from './prefix.js';
import { MessageType, type CodecOptions, type DecodedUpdate, type PathAttributes, type Prefix, type UpdateMessage } from './types.js';
import { needsAs4 } from './attributes/as-path.js';
import { AttrCode, FLAG_CATEGORY_MASK, FLAG_EXTENDED_LENGTH, FLAG_OPTIONAL, FLAG_PARTIAL, FLAG_TRANSITIVE, type AttrContext } from './attributes/codec.js';
import { ATTRIBUTES, ATTRIBUTES_IN_ORDER } from './attributes/table.js';

type Unknown = NonNullable<PathAttributes['unknown']>[number];

/** Attribute TLV: flags, type, 1- or 2-octet length (Extended Length bit above 255), value. */
export function attributeTlv(flags: number, code: number, value: Uint8Array): Uint8Array {
  const ext = value.length > 255 || (flags & FLAG_EXTENDED_LENGTH) !== 0;
  if (value.length > 0xffff) throw new CodecInputError('BGP_ENCODE_TOO_LONG', `attribute ${code} value of ${value.length} octets`);
  const hdr = ext ? 4 : 3;
  const out = new Uint8Array(hdr + value.length);
  out[0] = ext ? flags | FLAG_EXTENDED_LENGTH : flags & ~FLAG_EXTENDED_LENGTH;
  out[1] = code;
  if (ext) {
    out[2] = value.length >> 8;
    out[3] = value.length & 0xff;
  } else {
    out[2] = value.length;
  }
  out.set(value, hdr);
  return out;
}

/**
 * RFC 6793 §4.2.2: towards a 2-octet speaker, numbers above 65535 travel as AS_TRANS and the
 * true path (without confederation segments) and aggregator go in AS4_PATH / AS4_AGGREGATOR.
 */
export function withAs4Attributes(attrs: PathAttributes, opts: CodecOptions): PathAttributes {
  if (opts.fourOctetAs) return attrs;
  let out = attrs;
  if (!attrs.as4Path && needsAs4(attrs.asPath)) {
    out = { ...out, as4Path: (attrs.asPath ?? []).filter((s) => s.type === 'sequence' || s.type === 'set') };
  }
  if (!attrs.as4Aggregator && attrs.aggregator && attrs.aggregator.asn > 0xffff) out = { ...out, as4Aggregator: attrs.aggregator };
  return out;
}

/** Each attribute TLV in ascending type code, known ones through the table, unknown ones raw. */
export function encodeAttributeList(attributes: PathAttributes, opts: CodecOptions): Uint8Array[] {
  const attrs = withAs4Attributes(attributes, opts);
  const tlvs: Array<{ code: number; tlv: Uint8Array }> = [];
  for (const row of ATTRIBUTES_IN_ORDER) {
    const value = attrs[row.field];
    if (value === undefined) continue;
    const bytes = row.encode(value, opts);
    if (bytes) tlvs.push({ code: row.code, tlv: attributeTlv(row.flags, row.code, bytes) });
  }
  for (const u of attrs.unknown ?? []) tlvs.push({ code: u.code, tlv: attributeTlv(u.flags, u.code, u.value) });
  tlvs.sort((a, b) => a.code - b.code);
  return tlvs.map((t) => t.tlv);
}

export function encodeAttributeBlock(attributes: PathAttributes, opts: CodecOptions): Uint8Array {
  return Buffer.concat(encodeAttributeList(attributes, opts));
}

function encodeIpv4Prefixes(prefixes: Prefix[], what: string): Uint8Array {
  const out = new Uint8Array(prefixes.length * encodedPrefixSize(32));
  let off = 0;
  for (const p of prefixes) {
    if (p.family !== 'ipv4') throw new CodecInputError('BGP_ENCODE_BAD_PREFIX', `${p.prefix} in the ${what} field (IPv6 goes in MP attributes)`);
    off = writePrefix(p, out, off);
  }
  return out.subarray(0, off);
}

/** UPDATE body: withdrawn length, withdrawn, attribute length, attributes, NLRI. */
export function encodeUpdateBody(msg: UpdateMessage, opts: CodecOptions): Uint8Array {
  const withdrawn = encodeIpv4Prefixes(msg.withdrawn, 'withdrawn routes');
  const attrs = encodeAttributeBlock(msg.attributes, opts);
  const nlri = encodeIpv4Prefixes(msg.nlri, 'NLRI');
  if (withdrawn.length > 0xffff || attrs.length > 0xffff) throw new CodecInputError('BGP_ENCODE_TOO_LONG', 'UPDATE field above 65535 octets');
  const out = new Uint8Array(4 + withdrawn.length + attrs.length + nlri.length);
  out[0] = withdrawn.length >> 8;
  out[1] = withdrawn.length & 0xff;
  out.set(withdrawn, 2);
  let i = 2 + withdrawn.length;
  out[i++] = attrs.length >> 8;
  out[i++] = attrs.length & 0xff;
  out.set(attrs, i);
  out.set(nlri, i + attrs.length);
  return out;
}

/** RFC 4271 §5: an unrecognised optional transitive attribute is passed on with Partial set; non-transitive ones are dropped. */
export function unknownForPropagation(unknown: Unknown[] | undefined): Unknown[] {
  return (unknown ?? []).filter((u) => (u.flags & FLAG_TRANSITIVE) !== 0).map((u) => ({ ...u, flags: u.flags | FLAG_PARTIAL }));
}

/** Errors found so far in one UPDATE; the strongest approach wins (RFC 7606 §3 j). */
class Findings {
  treatAsWithdraw?: DecodedUpdate['treatAsWithdraw'];
  discarded: NonNullable<DecodedUpdate['discarded']> = [];

  add(err: NotificationError, code: number, fallback: 'attribute-discard' | 'treat-as-withdraw' | 'session-reset'): void {
    const action = err.action ?? fallback;
    if (action === 'session-reset') throw err.withAction('session-reset');
    if (action === 'treat-as-withdraw') {
      this.treatAsWithdraw ??= { reason: err.message, id: err.id, notification: err.toMessage() };
    } else {
      this.discarded.push({ code, reason: err.message, id: err.id, notification: err.toMessage() });
    }
  }
}

const u16 = (b: Uint8Array, i: number): number => ((b[i] ?? 0) << 8) | (b[i + 1] ?? 0);

function malformedList(detail: string): NotificationError {
  return new NotificationError('BGP_UPDATE_MALFORMED_ATTRIBUTE_LIST', detail);
}

/** Decodes an UPDATE body (after the header); throws the NOTIFICATION for a session reset. */
export function decodeUpdateBody(body: Uint8Array, opts: CodecOptions): DecodedUpdate {
  const len = body.length;
  // RFC 4271 §6.3: field lengths that do not fit the message are a Malformed Attribute List.
  if (len < 4) throw malformedList('UPDATE shorter than its two length fields');
  const wlen = u16(body, 0);
  if (2 + wlen + 2 > len) throw malformedList(`withdrawn routes length ${wlen} exceeds the message`);
  const invalidNetwork = (what: string) => (d: string) => new NotificationError('BGP_UPDATE_INVALID_NETWORK_FIELD', `${what}: ${d}`);
  const withdrawn = decodePrefixes(body, 2, 2 + wlen, 'ipv4', invalidNetwork('withdrawn routes'));
  const alen = u16(body, 2 + wlen);
  const a0 = 4 + wlen;
  const a1 = a0 + alen;
  if (a1 > len) throw malformedList(`total path attribute length ${alen} exceeds the message`);

  const findings = new Findings();
  const attributes = decodeAttributes(body, a0, a1, opts, findings);
  // RFC 7606 §5.3: an NLRI field that cannot be parsed leaves no route to withdraw: session reset.
  const nlri = decodePrefixes(body, a1, len, 'ipv4', invalidNetwork('NLRI'));
  checkMandatory(attributes, nlri, findings);

  const out: DecodedUpdate = { type: MessageType.Update, withdrawn, attributes, nlri };
  if (findings.treatAsWithdraw) out.treatAsWithdraw = findings.treatAsWithdraw;
  if (findings.discarded.length) out.discarded = findings.discarded;
  return out;
}

function decodeAttributes(body: Uint8Array, a0: number, a1: number, opts: CodecOptions, findings: Findings): PathAttributes {
  const attrs: PathAttributes = {};
  const unknown: Unknown[] = [];
  const seen = new Set<number>();
  let i = a0;
  while (i < a1) {
    const flags = body[i] ?? 0;
    const hdr = flags & FLAG_EXTENDED_LENGTH ? 4 : 3;
    // RFC 7606 §4: a header or value overrunning the attribute field is treat-as-withdraw,
    // and the Total Path Attribute Length still locates the NLRI.
    if (a1 - i < hdr) {
      findings.add(new NotificationError('BGP_UPDATE_ATTRIBUTE_LENGTH', `${a1 - i} octets left for an attribute header`, copyBytes(body, i, a1)), 0, 'treat-as-withdraw');
      break;
    }
    const code = body[i + 1] ?? 0;
    const vlen = hdr === 4 ? u16(body, i + 2) : (body[i + 2] ?? 0);
    if (i + hdr + vlen > a1) {
      findings.add(new NotificationError('BGP_UPDATE_ATTRIBUTE_LENGTH', `attribute ${code} of ${vlen} octets overruns the attribute field`, copyBytes(body, i, a1)), code, 'treat-as-withdraw');
      break;
    }
    const raw = body.subarray(i, i + hdr + vlen);
    const value = body.subarray(i + hdr, i + hdr + vlen);
    i += hdr + vlen;
    decodeOne(flags, code, value, raw, opts, attrs, unknown, seen, findings);
  }
  // Canonical order, the one they are encoded in (ascending type code, RFC 4271 §5).
  if (unknown.length) attrs.unknown = unknown.sort((a, b) => a.code - b.code);
  return attrs;
}

function decodeOne(
  flags: number,
  code: number,
  value: Uint8Array,
  raw: Uint8Array,
  opts: CodecOptions,
  attrs: PathAttributes,
  unknown: Unknown[],
  seen: Set<number>,
  findings: Findings,
): void {
  if (seen.has(code)) {
    // RFC 7606 §3 g: a repeated MP_REACH/MP_UNREACH is a Malformed Attribute List; any other
    // repeated attribute is dropped, keeping the first.
    if (code === AttrCode.MpReach || code === AttrCode.MpUnreach) throw malformedList(`attribute ${code} appears twice`);
    findings.add(new NotificationError('BGP_UPDATE_MALFORMED_ATTRIBUTE_LIST', `duplicate attribute ${code}`, copyBytes(raw)), code, 'attribute-discard');
    return;
  }
  seen.add(code);
  const row = ATTRIBUTES.get(code);
  if (!row) {
    // RFC 4271 §6.3: an unrecognised well-known attribute cannot be ignored.
    if (!(flags & FLAG_OPTIONAL)) throw new NotificationError('BGP_UPDATE_UNRECOGNIZED_WELL_KNOWN', `attribute ${code}`, copyBytes(raw));
    unknown.push({ flags, code, value: copyBytes(value) });
    return;
  }
  // RFC 7606 §3 c: Optional/Transitive bits in conflict make the attribute malformed.
  if ((flags & FLAG_CATEGORY_MASK) !== row.flags) {
    findings.add(new NotificationError('BGP_UPDATE_ATTRIBUTE_FLAGS', `${row.name} with flags 0x${flags.toString(16)}`, copyBytes(raw)), code, row.onError);
    return;
  }
  const ctx: AttrContext = { opts, raw };
  try {
    (attrs as Record<string, unknown>)[row.field] = row.decode(value, ctx);
  } catch (err) {
    if (!(err instanceof NotificationError)) throw err;
    findings.add(err, code, row.onError);
  }
}

/** RFC 7606 §3 d: a missing well-known mandatory attribute is treat-as-withdraw (data: its type code). */
function checkMandatory(attrs: PathAttributes, nlri: Prefix[], findings: Findings): void {
  const reaches = nlri.length > 0 || (attrs.mpReach?.nlri.length ?? 0) > 0;
  if (!reaches) return;
  const missing: number[] = [];
  if (attrs.origin === undefined) missing.push(AttrCode.Origin);
  if (attrs.asPath === undefined) missing.push(AttrCode.AsPath);
  // RFC 4760 §3: NEXT_HOP is needed only for NLRI in the IPv4 NLRI field.
  if (nlri.length > 0 && attrs.nextHop === undefined) missing.push(AttrCode.NextHop);
  for (const code of missing) {
    findings.add(new NotificationError('BGP_UPDATE_MISSING_WELL_KNOWN', `attribute ${code} missing`, Uint8Array.of(code)), code, 'treat-as-withdraw');
  }
}
