/**
 * setsockopt through koffi on real loopback sockets: what we set is what the kernel reports back
 * with getsockopt, per family, including an IPv4 peer on a dual-stack listener (an AF_INET6
 * socket whose packets are IPv4, so IP_TTL is the option that counts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, Socket, type Server } from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import {
  SocketOptionError,
  connectWithOptions,
  getHopLimit,
  getMinHopLimit,
  packetFamily,
  setHopLimit,
  setMinHopLimit,
  socketOptionsAvailable,
} from '../../../src/net/socket-options.js';
import { loopbackAddress } from '../../harness/net.js';

interface Pair {
  client: Socket;
  server: Socket;
}

const open: Array<Socket | Server> = [];
afterEach(async () => {
  // Sockets first: a server's close() waits for its connections.
  const all = open.splice(0);
  for (const s of all) if (s instanceof Socket) s.destroy();
  for (const s of all) if (!(s instanceof Socket)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

/** A connected client/server pair: the listener on `listenHost`, the client to `connectHost`. */
async function pair(listenHost: string, connectHost = listenHost): Promise<Pair> {
  const srv = createServer();
  open.push(srv);
  srv.listen(0, listenHost);
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  const accepted = once(srv, 'connection') as Promise<[Socket]>;
  const client = connect({ host: connectHost, port });
  open.push(client);
  await once(client, 'connect');
  const [server] = await accepted;
  open.push(server);
  return { client, server };
}

describe('socket options (setsockopt via koffi)', () => {
  it('is available on this Linux machine', () => {
    expect(socketOptionsAvailable()).toBe(true);
  });

  it('IPv4: IP_TTL reads back what was set, on both ends', async () => {
    const { client, server } = await pair(loopbackAddress());
    expect(packetFamily(client)).toBe('ipv4');
    const before = getHopLimit(client);
    expect(before).toBeGreaterThan(1);
    setHopLimit(client, 1);
    expect(getHopLimit(client)).toBe(1);
    setHopLimit(server, 7);
    expect(getHopLimit(server)).toBe(7);
    expect(getHopLimit(client)).toBe(1);
  });

  it('IPv6: IPV6_UNICAST_HOPS reads back what was set', async () => {
    const { client, server } = await pair('::1');
    expect(packetFamily(client)).toBe('ipv6');
    setHopLimit(client, 1);
    expect(getHopLimit(client)).toBe(1);
    setHopLimit(server, 2);
    expect(getHopLimit(server)).toBe(2);
  });

  it('an IPv4 peer on a dual-stack listener is an IPv4 socket for TTL purposes', async () => {
    const { server } = await pair('::', '127.0.0.1');
    expect(server.localAddress).toMatch(/^::ffff:127\.0\.0\.1$/);
    expect(packetFamily(server)).toBe('ipv4');
    setHopLimit(server, 3);
    expect(getHopLimit(server)).toBe(3);
  });

  it('GTSM: IP_MINTTL and IPV6_MINHOPCOUNT read back what was set', async () => {
    const v4 = await pair(loopbackAddress());
    setMinHopLimit(v4.server, 254);
    expect(getMinHopLimit(v4.server)).toBe(254);
    const v6 = await pair('::1');
    setMinHopLimit(v6.server, 255);
    expect(getMinHopLimit(v6.server)).toBe(255);
  });

  it('a socket without a descriptor is a typed SOCKOPT_NO_FD error, a value out of range a RangeError', async () => {
    const unconnected = new Socket();
    const err = (() => {
      try {
        setHopLimit(unconnected, 1);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SocketOptionError);
    expect((err as SocketOptionError).code).toBe('SOCKOPT_NO_FD');
    const { client } = await pair(loopbackAddress());
    expect(() => setHopLimit(client, 256)).toThrow(RangeError);
    client.destroy();
    expect(() => getHopLimit(client)).toThrow(SocketOptionError);
  });
});

describe('connectWithOptions (options set before the SYN)', () => {
  async function server(host: string): Promise<{ port: number; accepted: Promise<[Socket]> }> {
    const srv = createServer();
    open.push(srv);
    srv.listen(0, host);
    await once(srv, 'listening');
    return { port: (srv.address() as { port: number }).port, accepted: once(srv, 'connection') as Promise<[Socket]> };
  }

  it('IPv4 with a local address: connected, the options in force, data flows both ways', async () => {
    const host = loopbackAddress();
    const local = loopbackAddress();
    const { port, accepted } = await server(host);
    const client = connectWithOptions({ host, port, localAddress: local }, { hopLimit: 1, minHopLimit: 50 });
    open.push(client);
    await once(client, 'connect');
    const [peer] = await accepted;
    open.push(peer);
    expect(client.localAddress).toBe(local);
    expect(getHopLimit(client)).toBe(1);
    expect(getMinHopLimit(client)).toBe(50);
    peer.write('from server');
    const [got] = (await once(client, 'data')) as [Buffer];
    expect(got.toString()).toBe('from server');
    client.write('from client');
    const [back] = (await once(peer, 'data')) as [Buffer];
    expect(back.toString()).toBe('from client');
  });

  it('IPv6: IPV6_UNICAST_HOPS in force once connected', async () => {
    const { port, accepted } = await server('::1');
    const client = connectWithOptions({ host: '::1', port }, { hopLimit: 2 });
    open.push(client);
    await once(client, 'connect');
    open.push((await accepted)[0]);
    expect(getHopLimit(client)).toBe(2);
  });

  it('the descriptor is close-on-exec (exec health checks must not inherit a BGP connection)', async () => {
    const { port, accepted } = await server('::1');
    const client = connectWithOptions({ host: '::1', port }, { hopLimit: 2 });
    open.push(client);
    await once(client, 'connect');
    open.push((await accepted)[0]);
    const fd = (client as unknown as { _handle: { fd: number } })._handle.fd;
    const flags = /^flags:\s+(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
    expect(parseInt(flags ?? '0', 8) & 0o2000000).toBe(0o2000000);
  });

  it('the minimum TTL is in force from the SYN-ACK on: a reply below it never completes the connect', async () => {
    // The server answers with the default TTL (64); a minimum of 255 drops its SYN-ACK.
    const host = loopbackAddress();
    const { port } = await server(host);
    const client = connectWithOptions({ host, port }, { minHopLimit: 255 });
    open.push(client);
    const outcome = await Promise.race([
      once(client, 'connect').then(() => 'connected'),
      once(client, 'error').then(() => 'error'),
      new Promise((resolve) => setTimeout(() => resolve('still connecting'), 1_500)),
    ]);
    expect(outcome).toBe('still connecting');
    expect(client.connecting).toBe(true);
  });

  it('a refused connection is the same error as with net.connect', async () => {
    const host = loopbackAddress();
    const { port } = await server(host);
    await new Promise<void>((resolve) => (open.pop() as Server).close(() => resolve()));
    const client = connectWithOptions({ host, port }, { hopLimit: 1 });
    open.push(client);
    const [err] = (await once(client, 'error').catch((e: unknown) => [e])) as [NodeJS.ErrnoException];
    expect([err.syscall, err.code]).toEqual(['connect', 'ECONNREFUSED']);
  });
});
