/**
 * IP-level options of a TCP socket that Node.js does not expose: the unicast TTL / hop limit
 * (eBGP sends TTL 1 to a directly connected peer) and the minimum accepted TTL (GTSM, RFC 5082
 * §3). `net.Socket` has no setTTL and its handle no setsockopt, so this calls setsockopt(2) in
 * libc through koffi, a C FFI shipped as prebuilt binaries (no compiler at install time).
 *
 * koffi and libc are loaded on first use, not at import: where either is missing (another
 * platform, a prebuilt binary that did not install, a non-glibc libc) vipcast still runs, and
 * every call throws SocketOptionError SOCKOPT_UNAVAILABLE, for the caller to log.
 *
 * Linux only: the option numbers are Linux's (<netinet/in.h>, <linux/in6.h>); other systems
 * number them differently, so they get SOCKOPT_UNAVAILABLE rather than a wrong option.
 *
 * TCP-MD5 (RFC 2385, TCP_MD5SIG) is set the same way: a key per peer address, on a connecting
 * socket before its SYN (connectWithOptions' md5Key) or on a listening one before the peer's SYN
 * arrives (setTcpMd5Key on a net.Server); sockets the kernel accepts inherit the listener's keys.
 *
 * The descriptor is `socket._handle.fd`, which libuv creates only when it binds or connects:
 * an outbound socket made by net.connect() has one from its 'connect' event on, an accepted one
 * from the start. To have options in force from the SYN on, connectWithOptions() creates the
 * socket itself (socket(2)), sets them, and hands the descriptor to net.Socket, which connects it.
 */
import { createRequire } from 'node:module';
import { Socket, isIP, type Server, type SocketConstructorOpts } from 'node:net';
import type * as Koffi from 'koffi';

export type SocketOptionErrorCode =
  /** koffi or libc could not be loaded, or the platform's option numbers are unknown. */
  | 'SOCKOPT_UNAVAILABLE'
  /** The socket has no descriptor (not connected yet, or already destroyed). */
  | 'SOCKOPT_NO_FD'
  /** setsockopt/getsockopt returned -1; the message carries errno. */
  | 'SOCKOPT_FAILED';

export class SocketOptionError extends Error {
  override readonly name = 'SocketOptionError';
  constructor(
    readonly code: SocketOptionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

export type IpFamily = 'ipv4' | 'ipv6';

/** Linux <netinet/in.h> and <linux/in6.h>. */
const IPPROTO_IP = 0;
const IPPROTO_IPV6 = 41;
const OPTIONS = {
  /** IP_TTL: TTL of unicast packets sent (ip(7)). */
  hopLimit: { ipv4: [IPPROTO_IP, 2], ipv6: [IPPROTO_IPV6, 16] /* IPV6_UNICAST_HOPS */ },
  /** IP_MINTTL / IPV6_MINHOPCOUNT: incoming segments below this TTL are dropped (GTSM). */
  minHopLimit: { ipv4: [IPPROTO_IP, 21], ipv6: [IPPROTO_IPV6, 73] },
} as const satisfies Record<string, Record<IpFamily, readonly [number, number]>>;

type OptionName = keyof typeof OPTIONS;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  close(fd: number): number;
  setsockopt(fd: number, level: number, name: number, value: number[], len: number): number;
  /** setsockopt with a struct (TCP_MD5SIG). */
  setsockoptBytes(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: number[], len: number[]): number;
  errnoName(): string;
}

let libc: Libc | SocketOptionError | undefined;

function loadLibc(): Libc {
  libc ??= openLibc();
  if (libc instanceof SocketOptionError) throw libc;
  return libc;
}

function openLibc(): Libc | SocketOptionError {
  if (process.platform !== 'linux') {
    return new SocketOptionError('SOCKOPT_UNAVAILABLE', `IP socket option numbers are known for Linux only, not ${process.platform}`);
  }
  let koffi: typeof Koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
  } catch (err) {
    return new SocketOptionError('SOCKOPT_UNAVAILABLE', `the koffi module (C FFI) cannot be loaded: ${(err as Error).message}`, { cause: err });
  }
  try {
    const lib = koffi.load('libc.so.6');
    const set = lib.func('int setsockopt(int, int, int, _In_ int *, uint32_t)') as Libc['setsockopt'];
    const setBytes = lib.func('setsockopt', 'int', ['int', 'int', 'int', 'const void *', 'uint32_t']) as Libc['setsockoptBytes'];
    const get = lib.func('int getsockopt(int, int, int, _Out_ int *, _Inout_ uint32_t *)') as Libc['getsockopt'];
    const socket = lib.func('int socket(int, int, int)') as Libc['socket'];
    const close = lib.func('int close(int)') as Libc['close'];
    const names = new Map(Object.entries(koffi.os.errno).map(([name, no]) => [no, name]));
    const errnoName = (): string => {
      const no = koffi.errno();
      return names.get(no) ?? `errno ${no}`;
    };
    return { socket, close, setsockopt: set, setsockoptBytes: setBytes, getsockopt: get, errnoName };
  } catch (err) {
    return new SocketOptionError('SOCKOPT_UNAVAILABLE', `libc.so.6 cannot be loaded through koffi: ${(err as Error).message}`, { cause: err });
  }
}

/** Whether setsockopt can be called here; the error says why not. */
export function socketOptionsAvailable(): true | SocketOptionError {
  try {
    loadLibc();
    return true;
  } catch (err) {
    if (err instanceof SocketOptionError) return err;
    throw err;
  }
}

/**
 * The family of the packets the socket sends. An AF_INET6 socket connected to an IPv4-mapped
 * address (a dual-stack listener's IPv4 peer) sends IPv4: Linux takes its TTL from IP_TTL, set
 * at level IPPROTO_IP on the same socket, and ignores IPV6_UNICAST_HOPS for those packets.
 */
export function packetFamily(socket: Socket): IpFamily {
  const local = socket.localAddress ?? '';
  if (local === '') throw new SocketOptionError('SOCKOPT_NO_FD', 'the socket is not bound or connected');
  return local.includes(':') && !/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(local) ? 'ipv6' : 'ipv4';
}

/** TTL (IPv4) or hop limit (IPv6) of every packet the socket sends from now on (1-255). */
export function setHopLimit(socket: Socket, hops: number): void {
  setOption(socket, 'hopLimit', hops);
}

export function getHopLimit(socket: Socket): number {
  return getOption(socket, 'hopLimit');
}

/** GTSM (RFC 5082 §3): the kernel drops incoming segments whose TTL is below `min` (0 = off). */
export function setMinHopLimit(socket: Socket, min: number): void {
  setOption(socket, 'minHopLimit', min);
}

export function getMinHopLimit(socket: Socket): number {
  return getOption(socket, 'minHopLimit');
}

function setOption(socket: Socket, option: OptionName, value: number): void {
  const lib = loadLibc();
  setRaw(lib, descriptor(socket), packetFamily(socket), option, value);
}

function setRaw(lib: Libc, fd: number, family: IpFamily, option: OptionName, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 255) throw new RangeError(`${option} must be 0-255, got ${value}`);
  const [level, name] = OPTIONS[option][family];
  if (lib.setsockopt(fd, level, name, [value], 4) !== 0) {
    throw new SocketOptionError('SOCKOPT_FAILED', `setsockopt ${option} ${value} (${family}) failed: ${lib.errnoName()}`);
  }
}

function getOption(socket: Socket, option: OptionName): number {
  const lib = loadLibc();
  const family = packetFamily(socket);
  const [level, name] = OPTIONS[option][family];
  const value = [0];
  if (lib.getsockopt(descriptor(socket), level, name, value, [4]) !== 0) {
    throw new SocketOptionError('SOCKOPT_FAILED', `getsockopt ${option} (${family}) failed: ${lib.errnoName()}`);
  }
  return value[0]!;
}

/** Linux <sys/socket.h>; SOCK_CLOEXEC is O_CLOEXEC, the same on every architecture koffi ships for. */
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;

export interface ConnectTarget {
  /** An IP address (neighbors are configured by address, never by name). */
  host: string;
  port: number;
  localAddress?: string;
}

export interface IpOptions {
  hopLimit?: number;
  minHopLimit?: number;
  /** TCP-MD5 key (RFC 2385) for the target address, 1-80 bytes, in force from the SYN on. */
  md5Key?: Uint8Array;
}

/**
 * net.connect() with IP options set before the SYN. The socket is created here with socket(2)
 * (close-on-exec, so exec health checks never inherit a BGP connection), configured, and adopted
 * by `new net.Socket({ fd })`, whose connect() binds `localAddress` and connects the same
 * descriptor (libuv reuses an opened descriptor). `manualStart` keeps Node from starting to read
 * an unconnected socket; reading starts once connected, as for any net.connect() socket.
 */
export function connectWithOptions(target: ConnectTarget, ip: IpOptions): Socket {
  const lib = loadLibc();
  const v = isIP(target.host);
  if (v === 0) throw new SocketOptionError('SOCKOPT_FAILED', `${target.host} is not an IP address`);
  const family: IpFamily = v === 6 ? 'ipv6' : 'ipv4';
  const fd = lib.socket(v === 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SocketOptionError('SOCKOPT_FAILED', `socket(${family}) failed: ${lib.errnoName()}`);
  let socket: Socket;
  try {
    if (ip.hopLimit !== undefined) setRaw(lib, fd, family, 'hopLimit', ip.hopLimit);
    if (ip.minHopLimit !== undefined) setRaw(lib, fd, family, 'minHopLimit', ip.minHopLimit);
    if (ip.md5Key !== undefined) {
      if (ip.md5Key.length === 0) throw new RangeError('a TCP-MD5 key must not be empty');
      setMd5Raw(lib, fd, family, target.host, ip.md5Key);
    }
    socket = new Socket({ fd, manualStart: true } as SocketConstructorOpts);
  } catch (err) {
    // Not adopted by Node: the descriptor is still ours to close.
    lib.close(fd);
    throw err;
  }
  try {
    return socket.connect({ host: target.host, port: target.port, localAddress: target.localAddress });
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** The kernel descriptor under a net.Socket (libuv's, exposed on POSIX as `_handle.fd`). */
function descriptor(socket: Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw new SocketOptionError('SOCKOPT_NO_FD', socket.destroyed ? 'the socket is destroyed' : 'the socket has no descriptor yet');
  }
  return fd;
}

// ---------------------------------------------------------------------------------------------
// TCP-MD5 (RFC 2385)

/** Linux <linux/tcp.h>: TCP_MD5SIG at level IPPROTO_TCP, and struct tcp_md5sig. */
const IPPROTO_TCP = 6;
const TCP_MD5SIG = 14;
export const TCP_MD5SIG_MAXKEYLEN = 80;
/**
 * struct tcp_md5sig: tcpm_addr (struct __kernel_sockaddr_storage, 128 bytes), tcpm_flags (u8,
 * 128), tcpm_prefixlen (u8, 129), tcpm_keylen (u16, 130), tcpm_ifindex (int, 132),
 * tcpm_key[80] (136): 216 bytes. Flags 0: one exact address, any interface.
 */
const MD5SIG_SIZE = 216;
const MD5SIG_KEYLEN_AT = 130;
const MD5SIG_KEY_AT = 136;

/**
 * The TCP_MD5SIG argument: `peer`'s key on a socket of `socketFamily` (an empty key deletes the
 * entry). The address is a sockaddr_in or sockaddr_in6 with the family in host byte order, port 0
 * and the address in network order. Linux wants the socket's own family: on an AF_INET6 socket
 * an IPv4 peer is given as its IPv4-mapped address (::ffff:a.b.c.d; the kernel files it as an
 * IPv4 key, which is what an IPv4 SYN on a dual-stack listener is checked against), and a
 * sockaddr_in there is EINVAL.
 */
export function encodeTcpMd5Sig(socketFamily: IpFamily, peer: string, key: Uint8Array): Buffer {
  if (key.length > TCP_MD5SIG_MAXKEYLEN) throw new RangeError(`a TCP-MD5 key is at most ${TCP_MD5SIG_MAXKEYLEN} bytes, got ${key.length}`);
  const v = isIP(peer);
  if (v === 0) throw new SocketOptionError('SOCKOPT_FAILED', `${peer} is not an IP address`);
  const out = Buffer.alloc(MD5SIG_SIZE);
  if (socketFamily === 'ipv4') {
    if (v === 6) throw new SocketOptionError('SOCKOPT_FAILED', `an IPv4 socket cannot carry a TCP-MD5 key for ${peer}`);
    out.writeUInt16LE(AF_INET, 0); // sa_family_t is host order (little endian on every target koffi ships)
    ipv4Bytes(peer).copy(out, 4); // sin_addr after sin_family and sin_port
  } else {
    out.writeUInt16LE(AF_INET6, 0);
    const bytes = v === 4 ? Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), ipv4Bytes(peer)]) : ipv6Bytes(peer);
    bytes.copy(out, 8); // sin6_addr after sin6_family, sin6_port and sin6_flowinfo
  }
  out.writeUInt16LE(key.length, MD5SIG_KEYLEN_AT);
  out.set(key, MD5SIG_KEY_AT);
  return out;
}

/**
 * Install (or with `key` undefined, remove) the TCP-MD5 key for `peer` on a listening server or a
 * connected socket. On a listener it applies to connections from `peer` whose SYN arrives after
 * this call; a socket the kernel accepted before keeps what it had, so callers that must be sure
 * set the key on the accepted socket too (from then on its unsigned segments are dropped).
 * Removing a key that is not there is not an error.
 */
export function setTcpMd5Key(target: Socket | Server, peer: string, key: Uint8Array | undefined): void {
  const lib = loadLibc();
  if (key !== undefined && key.length === 0) throw new RangeError('a TCP-MD5 key must not be empty');
  setMd5Raw(lib, handleDescriptor(target), socketFamily(target), peer, key ?? new Uint8Array(0));
}

function setMd5Raw(lib: Libc, fd: number, family: IpFamily, peer: string, key: Uint8Array): void {
  const arg = encodeTcpMd5Sig(family, peer, key);
  if (lib.setsockoptBytes(fd, IPPROTO_TCP, TCP_MD5SIG, arg, MD5SIG_SIZE) === 0) return;
  const errno = lib.errnoName();
  // Deleting an absent key: ENOENT. The wanted state (no key) holds.
  if (key.length === 0 && errno === 'ENOENT') return;
  throw new SocketOptionError('SOCKOPT_FAILED', `setsockopt TCP_MD5SIG ${key.length === 0 ? 'delete' : 'set'} for ${peer} (${family} socket) failed: ${errno}`);
}

/** The family of the socket itself (not of its packets: an IPv4-mapped peer still means AF_INET6). */
function socketFamily(target: Socket | Server): IpFamily {
  if (target instanceof Socket) {
    const local = target.localAddress ?? '';
    if (local === '') throw new SocketOptionError('SOCKOPT_NO_FD', 'the socket is not bound or connected');
    return local.includes(':') ? 'ipv6' : 'ipv4';
  }
  const a = target.address();
  if (a === null || typeof a === 'string') throw new SocketOptionError('SOCKOPT_NO_FD', 'the server is not listening on a TCP address');
  return a.family === 'IPv6' ? 'ipv6' : 'ipv4';
}

function handleDescriptor(target: Socket | Server): number {
  if (target instanceof Socket) return descriptor(target);
  const fd = (target as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) throw new SocketOptionError('SOCKOPT_NO_FD', 'the server is not listening');
  return fd;
}

function ipv4Bytes(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

/** RFC 4291 §2.2 text forms: hex groups, one "::", an optional dotted IPv4 tail. Input already passed isIP. */
function ipv6Bytes(text: string): Buffer {
  const out = Buffer.alloc(16);
  const zone = text.indexOf('%');
  const addr = zone >= 0 ? text.slice(0, zone) : text;
  const groups = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const b = ipv4Bytes(g);
      return [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    });
  };
  const gap = addr.indexOf('::');
  const head = groups(gap >= 0 ? addr.slice(0, gap) : addr);
  const tail = gap >= 0 ? groups(addr.slice(gap + 2)) : [];
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}
