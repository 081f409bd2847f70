/**
 * TCP-MD5 (RFC 2385) through koffi on real loopback sockets, both ends Node: a listener keyed for
 * the client's address and a client keyed for the listener's. The kernel signs and checks every
 * segment, so a connect completes only when both keys match; with a mismatch or a key on one side
 * only the SYN (or SYN-ACK) is dropped and the connect never completes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, Socket, type Server } from 'node:net';
import { once } from 'node:events';
import { TCP_MD5SIG_MAXKEYLEN, connectWithOptions, encodeTcpMd5Sig, setTcpMd5Key } from '../../../src/net/socket-options.js';
import { loopbackAddress } from '../../harness/net.js';

const KEY = Buffer.from('md5-unit-secret');
const OTHER = Buffer.from('md5-other-secret');
/** How long a connect that must not complete is given: SYN retransmits start after 1 s. */
const NEVER_MS = 3_000;

const open: Array<Socket | Server> = [];
afterEach(async () => {
  const all = open.splice(0);
  for (const s of all) if (s instanceof Socket) s.destroy();
  for (const s of all) if (!(s instanceof Socket)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

async function listen(host: string): Promise<{ server: Server; port: number; accepted: Socket[] }> {
  const accepted: Socket[] = [];
  const server = createServer((s) => {
    accepted.push(s);
    open.push(s);
    s.on('error', () => undefined);
    s.end('hello over md5');
  });
  open.push(server);
  server.listen(0, host);
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port, accepted };
}

/** 'connect' with the server's greeting read, 'error: CODE', or 'timeout' after `ms`. */
function outcome(socket: Socket, ms: number): Promise<string> {
  open.push(socket);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), ms);
    let data = '';
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(`connect: ${data}`);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(`error: ${err.code}`);
    });
  });
}

describe('TCP-MD5 key layout (struct tcp_md5sig)', () => {
  it('IPv4 socket: sockaddr_in, keylen at 130, key at 136, 216 bytes', () => {
    const b = encodeTcpMd5Sig('ipv4', '192.0.2.7', Buffer.from('abc'));
    expect(b.length).toBe(216);
    expect(b.readUInt16LE(0)).toBe(2);
    expect(b.readUInt16BE(2)).toBe(0);
    expect([...b.subarray(4, 8)]).toEqual([192, 0, 2, 7]);
    expect(b.readUInt16LE(130)).toBe(3);
    expect(b.subarray(136, 139).toString()).toBe('abc');
    expect(b.subarray(139).every((x) => x === 0)).toBe(true);
  });

  it('IPv6 socket: sockaddr_in6, an IPv4 peer as ::ffff:a.b.c.d', () => {
    const v6 = encodeTcpMd5Sig('ipv6', 'fd00:1::2:3', KEY);
    expect(v6.readUInt16LE(0)).toBe(10);
    expect(v6.subarray(8, 24).toString('hex')).toBe('fd000001000000000000000000020003');
    const mapped = encodeTcpMd5Sig('ipv6', '10.1.2.3', KEY);
    expect(mapped.subarray(8, 24).toString('hex')).toBe('00000000000000000000ffff0a010203');
    expect(encodeTcpMd5Sig('ipv6', '::1', KEY).subarray(8, 24).toString('hex')).toBe('00000000000000000000000000000001');
  });

  it('refuses keys over 80 bytes and an IPv6 peer on an IPv4 socket', () => {
    expect(() => encodeTcpMd5Sig('ipv4', '10.0.0.1', Buffer.alloc(TCP_MD5SIG_MAXKEYLEN + 1, 1))).toThrow(RangeError);
    expect(() => encodeTcpMd5Sig('ipv4', '::1', KEY)).toThrow(/SOCKOPT_FAILED/);
    expect(encodeTcpMd5Sig('ipv4', '10.0.0.1', Buffer.alloc(80, 1)).readUInt16LE(130)).toBe(80);
  });
});

describe('TCP-MD5 between two Node sockets on loopback', () => {
  it('IPv4: matching keys on both ends connect and carry data', async () => {
    const [srvAddr, cliAddr] = [loopbackAddress(), loopbackAddress()];
    const { server, port } = await listen(srvAddr);
    setTcpMd5Key(server, cliAddr, KEY);
    const client = connectWithOptions({ host: srvAddr, port, localAddress: cliAddr }, { md5Key: KEY });
    expect(await outcome(client, 15_000)).toBe('connect: hello over md5');
  });

  it('IPv4: a mismatched key never connects', async () => {
    const [srvAddr, cliAddr] = [loopbackAddress(), loopbackAddress()];
    const { server, port, accepted } = await listen(srvAddr);
    setTcpMd5Key(server, cliAddr, KEY);
    const client = connectWithOptions({ host: srvAddr, port, localAddress: cliAddr }, { md5Key: OTHER });
    expect(await outcome(client, NEVER_MS)).toBe('timeout');
    expect(accepted).toHaveLength(0);
  });

  it('a key on one side only never connects (listener keyed, client plain; client keyed, listener plain)', async () => {
    const [srvAddr, cliAddr] = [loopbackAddress(), loopbackAddress()];
    const keyed = await listen(srvAddr);
    setTcpMd5Key(keyed.server, cliAddr, KEY);
    const plain = connect({ host: srvAddr, port: keyed.port, localAddress: cliAddr });
    const [srv2, cli2] = [loopbackAddress(), loopbackAddress()];
    const unkeyed = await listen(srv2);
    const signer = connectWithOptions({ host: srv2, port: unkeyed.port, localAddress: cli2 }, { md5Key: KEY });
    const [a, b] = await Promise.all([outcome(plain, NEVER_MS), outcome(signer, NEVER_MS)]);
    expect(a).toBe('timeout');
    expect(b).toBe('timeout');
    expect(keyed.accepted).toHaveLength(0);
    expect(unkeyed.accepted).toHaveLength(0);
  });

  it('dual-stack listener (::): an IPv4 peer keyed by its IPv4-mapped address', async () => {
    const cliAddr = loopbackAddress();
    const { server, port } = await listen('::');
    setTcpMd5Key(server, cliAddr, KEY);
    const good = connectWithOptions({ host: '127.0.0.1', port, localAddress: cliAddr }, { md5Key: KEY });
    expect(await outcome(good, 15_000)).toBe('connect: hello over md5');
    const bad = connect({ host: '127.0.0.1', port, localAddress: cliAddr });
    expect(await outcome(bad, NEVER_MS)).toBe('timeout');
  });

  it('IPv6 (::1): matching keys connect, a mismatch does not', async () => {
    const { server, port } = await listen('::1');
    setTcpMd5Key(server, '::1', KEY);
    const good = connectWithOptions({ host: '::1', port }, { md5Key: KEY });
    expect(await outcome(good, 15_000)).toBe('connect: hello over md5');
    const bad = connectWithOptions({ host: '::1', port }, { md5Key: OTHER });
    expect(await outcome(bad, NEVER_MS)).toBe('timeout');
  });

  it('removing the key (keylen 0) lets an unsigned client in again; removing an absent key is fine', async () => {
    const [srvAddr, cliAddr] = [loopbackAddress(), loopbackAddress()];
    const { server, port } = await listen(srvAddr);
    setTcpMd5Key(server, cliAddr, KEY);
    setTcpMd5Key(server, cliAddr, undefined);
    setTcpMd5Key(server, cliAddr, undefined);
    expect(await outcome(connect({ host: srvAddr, port, localAddress: cliAddr }), 15_000)).toBe('connect: hello over md5');
  });

  it('a key set on an accepted socket: its unsigned segments are dropped from then on', async () => {
    const [srvAddr, cliAddr] = [loopbackAddress(), loopbackAddress()];
    const server = createServer();
    open.push(server);
    server.listen(0, srvAddr);
    await once(server, 'listening');
    const acceptedP = once(server, 'connection') as Promise<[Socket]>;
    const client = connect({ host: srvAddr, port: (server.address() as { port: number }).port, localAddress: cliAddr });
    open.push(client);
    await once(client, 'connect');
    const [accepted] = await acceptedP;
    open.push(accepted);
    setTcpMd5Key(accepted, cliAddr, KEY);
    let received = '';
    accepted.on('data', (d: Buffer) => (received += d.toString()));
    client.write('unsigned');
    client.on('error', () => undefined);
    accepted.on('error', () => undefined);
    await new Promise((r) => setTimeout(r, NEVER_MS));
    expect(received).toBe('');
  });
});
