/**
 * setsockopt through koffi on real loopback sockets: what we set is what the kernel reports back
 * with getsockopt, per family, including an IPv4 peer on a dual-stack listener (an AF_INET6
 * socket whose packets are IPv4, so IP_TTL is the option that counts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, Socket, type Server } from 'node:net';
import { once } from 'node:events';
import {
  SocketOptionError,
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
