/**
 * OPEN (RFC 4271 §4.2) with Capabilities optional parameters (RFC 5492) and the extended
 * optional parameters length of RFC 9072 for capability lists above 255 octets.
 *
 * decodeOpen checks what a message alone can tell (§6.2: version, hold time, identifier,
 * parameters); validateOpen checks it against our configuration (peer AS, identifier collision,
 * required capabilities), as GoBGP separates format checks from session checks.
 */
import { formatIpv4, parseIpv4 } from './address.js';
import { decodeCapabilityTlvs, encodeCapability, encodeCapabilityTlvs } from './capabilities.js';
import { CodecInputError, NotificationError, u16Data } from './errors.js';
import { AFI_IPV4, AFI_IPV6, AS_TRANS, SAFI_UNICAST, MessageType, type Capability, type CodecOptions, type OpenMessage } from './types.js';

export const BGP_VERSION = 4;
const PARAM_CAPABILITIES = 2; // RFC 5492 §4
const PARAM_EXTENDED_LENGTH = 255; // RFC 9072 §2

/** OPEN body (after the header). */
export function encodeOpenBody(open: OpenMessage): Uint8Array {
  // The 2-octet field: a 4-octet AS goes as AS_TRANS (twoOctetAs) plus the capability.
  if (open.myAs > 0xffff || open.holdTimeSec > 0xffff) throw new CodecInputError('BGP_ENCODE_BAD_VALUE', `OPEN My AS ${open.myAs} / hold time ${open.holdTimeSec} above 65535`);
  // One optional parameter per capability, as FRR, GoBGP and ExaBGP send them.
  const params = open.capabilities.map((c) => {
    const { code, value } = encodeCapability(c);
    return { code, value };
  });
  const shortLen = params.reduce((n, p) => n + 4 + p.value.length, 0);
  const extended = shortLen > 255 || params.some((p) => p.value.length > 253);
  const paramBytes = extended ? params.reduce((n, p) => n + 5 + p.value.length, 0) : shortLen;
  const headLen = extended ? 13 : 10;
  const out = new Uint8Array(headLen + paramBytes);
  out[0] = open.version;
  out[1] = open.myAs >> 8;
  out[2] = open.myAs & 0xff;
  out[3] = open.holdTimeSec >> 8;
  out[4] = open.holdTimeSec & 0xff;
  out.set(parseIpv4(open.routerId), 5);
  let i: number;
  if (extended) {
    out[9] = 255;
    out[10] = PARAM_EXTENDED_LENGTH;
    out[11] = paramBytes >> 8;
    out[12] = paramBytes & 0xff;
    i = 13;
  } else {
    out[9] = paramBytes;
    i = 10;
  }
  for (const p of params) {
    const tlvLen = 2 + p.value.length;
    out[i++] = PARAM_CAPABILITIES;
    if (extended) out[i++] = tlvLen >> 8;
    out[i++] = tlvLen & 0xff;
    out[i++] = p.code;
    out[i++] = p.value.length;
    out.set(p.value, i);
    i += p.value.length;
  }
  return out;
}

/** Decodes an OPEN body; throws the §6.2 NOTIFICATION for what is wrong with it. */
export function decodeOpenBody(body: Uint8Array): OpenMessage {
  const u16 = (i: number): number => ((body[i] ?? 0) << 8) | (body[i + 1] ?? 0);
  const version = body[0] ?? 0;
  // §6.2: the data is the largest locally supported version number, 2 octets.
  if (version !== BGP_VERSION) throw new NotificationError('BGP_OPEN_UNSUPPORTED_VERSION', `version ${version}`, u16Data(BGP_VERSION));
  const myAs = u16(1);
  const holdTimeSec = u16(3);
  // §4.2: the hold time MUST be zero or at least three seconds.
  if (holdTimeSec === 1 || holdTimeSec === 2) throw new NotificationError('BGP_OPEN_BAD_HOLD_TIME', `hold time ${holdTimeSec}`);
  const routerId = formatIpv4(body, 5);
  // RFC 6286 §2.1: the identifier is a non-zero 32-bit number.
  if (routerId === '0.0.0.0') throw new NotificationError('BGP_OPEN_BAD_BGP_ID', 'identifier 0.0.0.0');
  const capabilities = decodeParameters(body);
  return { type: MessageType.Open, version, myAs, holdTimeSec, routerId, capabilities };
}

function decodeParameters(body: Uint8Array): Capability[] {
  let optLen = body[9] ?? 0;
  let i = 10;
  // RFC 9072 §2: Non-Ext OP Len 255 followed by Non-Ext OP Type 255 announces 2-octet lengths.
  const extended = optLen === 255 && body[10] === PARAM_EXTENDED_LENGTH;
  if (extended) {
    if (body.length < 13) throw new NotificationError('BGP_OPEN_UNSPECIFIC', 'truncated extended optional parameters length');
    optLen = ((body[11] ?? 0) << 8) | (body[12] ?? 0);
    i = 13;
  }
  if (i + optLen !== body.length) {
    throw new NotificationError('BGP_OPEN_UNSPECIFIC', `optional parameters length ${optLen} disagrees with the message length`);
  }
  const caps: Capability[] = [];
  const hdr = extended ? 3 : 2;
  while (i < body.length) {
    if (i + hdr > body.length) throw new NotificationError('BGP_OPEN_UNSPECIFIC', 'truncated optional parameter');
    const type = body[i] ?? 0;
    const len = extended ? ((body[i + 1] ?? 0) << 8) | (body[i + 2] ?? 0) : (body[i + 1] ?? 0);
    const start = i + hdr;
    if (start + len > body.length) throw new NotificationError('BGP_OPEN_UNSPECIFIC', `optional parameter ${type} runs past the message`);
    // §6.2: a parameter we do not recognise; RFC 5492 capabilities are the only one in use.
    if (type !== PARAM_CAPABILITIES) throw new NotificationError('BGP_OPEN_UNSUPPORTED_OPTIONAL_PARAMETER', `optional parameter type ${type}`);
    caps.push(...decodeCapabilityTlvs(body.subarray(start, start + len)));
    i = start + len;
  }
  return caps;
}

/** The peer's real AS: the RFC 6793 capability when present, else the 2-octet field. */
export function peerAsOf(open: OpenMessage): number {
  const cap = open.capabilities.find((c) => c.kind === 'four-octet-as');
  return cap ? cap.asn : open.myAs;
}

/** The "My Autonomous System" field for our AS (RFC 6793 §4.1: AS_TRANS above 65535). */
export const twoOctetAs = (asn: number): number => (asn > 0xffff ? AS_TRANS : asn);

export interface OpenExpectations {
  /** The configured remote AS. */
  peerAs: number;
  localAs: number;
  localRouterId: string;
  /** Capabilities we cannot work without (RFC 5492 §5 Unsupported Capability lists them). */
  required?: Capability[];
}

const sameCapability = (a: Capability, b: Capability): boolean => {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'multiprotocol' && b.kind === 'multiprotocol') return a.afi === b.afi && a.safi === b.safi;
  if (a.kind === 'unknown' && b.kind === 'unknown') return a.code === b.code;
  return true;
};

/** Session-level OPEN checks (RFC 4271 §6.2, RFC 6286, RFC 7607, RFC 5492 §5); throws the NOTIFICATION. */
export function validateOpen(open: OpenMessage, expect: OpenExpectations): void {
  const asn = peerAsOf(open);
  // RFC 7607: AS 0 is never acceptable; §6.2: the AS must be the one configured for the peer.
  if (asn === 0 || asn !== expect.peerAs) throw new NotificationError('BGP_OPEN_BAD_PEER_AS', `peer AS ${asn}, expected ${expect.peerAs}`);
  // RFC 6286 §2.2: identifiers are unique within an AS; an iBGP peer with ours is an error.
  if (expect.localAs === asn && open.routerId === expect.localRouterId) {
    throw new NotificationError('BGP_OPEN_BAD_BGP_ID', `iBGP peer uses our identifier ${open.routerId}`);
  }
  const missing = (expect.required ?? []).filter((r) => !open.capabilities.some((c) => sameCapability(c, r)));
  if (missing.length > 0) {
    throw new NotificationError('BGP_OPEN_UNSUPPORTED_CAPABILITY', `peer lacks ${missing.map((m) => m.kind).join(', ')}`, encodeCapabilityTlvs(missing));
  }
}

/** What both sides' capabilities allow: how UPDATEs are encoded and decoded on this session. */
export function negotiateCodecOptions(local: Capability[], remote: Capability[]): CodecOptions {
  const both = (kind: Capability['kind']): boolean => local.some((c) => c.kind === kind) && remote.some((c) => c.kind === kind);
  const v4OverV6 = (caps: Capability[]): boolean =>
    caps.some((c) => c.kind === 'extended-next-hop' && c.entries.some((e) => e.afi === AFI_IPV4 && e.safi === SAFI_UNICAST && e.nextHopAfi === AFI_IPV6));
  return {
    fourOctetAs: both('four-octet-as'),
    extendedMessage: both('extended-message'),
    extendedNextHopIpv4: v4OverV6(local) && v4OverV6(remote),
  };
}
