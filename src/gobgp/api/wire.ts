/**
 * AddPathStreamRequest serialised by hand, for the one message vipcast sends in bulk.
 *
 * grpc-js serialises through protobufjs, which first converts each plain path into a message
 * object (fromObject: a copy of every byte array, a Family and a Timestamp object per path) and
 * then encodes it: for 10,000 paths that was about half of the backend's CPU per apply, and the
 * garbage it made. The paths vipcast sends use six fields, with the same numbers in the v3 and
 * v4 protos (proto/gobgp/v3/gobgp.proto and v4/api/gobgp.proto, message Path), so they are
 * written here directly in the protobuf wire format (protobuf.dev/programming-guides/encoding):
 *
 *   AddPathStreamRequest: 1 table_type (enum, varint), 3 paths (repeated Path, length-delimited)
 *   Path: 3 age (Timestamp: 1 seconds int64, 2 nanos int32), 5 is_withdraw (bool), 9 family
 *         (Family: 1 afi, 2 safi, enums), 18 identifier (uint32), 20 nlri_binary (bytes),
 *         21 pattrs_binary (repeated bytes)
 *
 * Fields are written in field-number order, and whenever they are set (zero included), as the
 * generated code writes them: the tests check the bytes are the same as the generic
 * serialiser's. A request with any other field set goes through the generic serialiser instead.
 */
import type { ApiPath } from './types.js';

export interface AddPathStreamRequest {
  table_type: number;
  paths: ApiPath[];
}

/**
 * Every ApiPath field, and whether it is written here: a field added to ApiPath does not compile
 * until it is listed, so none can be dropped silently. A path with an unwritten field set goes
 * to the generic serialiser.
 */
const FIELDS: Record<keyof ApiPath, boolean> = {
  family: true,
  nlri_binary: true,
  pattrs_binary: true,
  identifier: true,
  age: true,
  is_withdraw: true,
  neighbor_ip: false,
  source_asn: false,
  best: false,
};
const UNWRITTEN = (Object.keys(FIELDS) as Array<keyof ApiPath>).filter((k) => !FIELDS[k]);

const VARINT = 0;
const LEN = 2;
const tag = (field: number, wire: number): number => (field << 3) | wire;

const varintSize = (v: number): number => {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
};

/** True when every path uses only the fields written here (anything else takes the generic route). */
export function handEncodable(req: AddPathStreamRequest): boolean {
  for (const p of req.paths) {
    // The declared fields only (a for-in over every path cost more than the encoding itself).
    for (const k of UNWRITTEN) if (p[k] !== undefined) return false;
    const s = p.age?.seconds;
    if (s !== undefined && (!Number.isSafeInteger(s) || s < 0)) return false;
  }
  return Number.isInteger(req.table_type) && req.table_type >= 0;
}

class Writer {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  varint(v: number): void {
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  bytes(field: number, b: Uint8Array): void {
    this.varint(tag(field, LEN));
    this.varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/** Size of the Family or Timestamp submessage body, and of a path's body. */
function familySize(p: ApiPath): number {
  const f = p.family;
  if (!f) return 0;
  return (f.afi !== undefined ? 1 + varintSize(f.afi) : 0) + (f.safi !== undefined ? 1 + varintSize(f.safi) : 0);
}

function ageSize(p: ApiPath): number {
  const s = p.age?.seconds;
  return s !== undefined ? 1 + varintSize(s) : 0;
}

const lenField = (tagBytes: number, body: number): number => tagBytes + varintSize(body) + body;

function pathSize(p: ApiPath): number {
  let n = 0;
  if (p.age) n += lenField(1, ageSize(p));
  if (p.is_withdraw !== undefined) n += 2;
  if (p.family) n += lenField(1, familySize(p));
  if (p.identifier !== undefined) n += 2 + varintSize(p.identifier);
  if (p.nlri_binary) n += lenField(2, p.nlri_binary.length);
  for (const a of p.pattrs_binary ?? []) n += lenField(2, a.length);
  return n;
}

function writePath(w: Writer, p: ApiPath, size: number): void {
  w.varint(tag(3, LEN));
  w.varint(size);
  if (p.age) {
    w.varint(tag(3, LEN));
    w.varint(ageSize(p));
    if (p.age.seconds !== undefined) {
      w.varint(tag(1, VARINT));
      w.varint(p.age.seconds);
    }
  }
  if (p.is_withdraw !== undefined) {
    w.varint(tag(5, VARINT));
    w.varint(p.is_withdraw ? 1 : 0);
  }
  if (p.family) {
    w.varint(tag(9, LEN));
    w.varint(familySize(p));
    if (p.family.afi !== undefined) {
      w.varint(tag(1, VARINT));
      w.varint(p.family.afi);
    }
    if (p.family.safi !== undefined) {
      w.varint(tag(2, VARINT));
      w.varint(p.family.safi);
    }
  }
  if (p.identifier !== undefined) {
    w.varint(tag(18, VARINT));
    w.varint(p.identifier);
  }
  if (p.nlri_binary) w.bytes(20, p.nlri_binary);
  for (const a of p.pattrs_binary ?? []) w.bytes(21, a);
}

/** The request's bytes; the caller checked handEncodable(). */
export function encodeAddPathStreamRequest(req: AddPathStreamRequest): Buffer {
  const sizes = req.paths.map(pathSize);
  let total = 1 + varintSize(req.table_type);
  for (const s of sizes) total += 1 + varintSize(s) + s;
  const w = new Writer(total);
  // Written even when 0 (v3's GLOBAL), as the generated code does for a field that is set.
  w.varint(tag(1, VARINT));
  w.varint(req.table_type);
  for (let i = 0; i < req.paths.length; i++) writePath(w, req.paths[i]!, sizes[i]!);
  if (w.pos !== total) throw new Error(`AddPathStreamRequest: wrote ${w.pos} bytes, sized ${total}`);
  return w.buf;
}
