/**
 * The health checker's own HTTP/1.1 client: the response parser on every framing (fed whole and
 * byte by byte) and the pool's reuse, retry and cancel paths against raw loopback servers.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpOrigin, type PreparedRequest } from '../../src/health/checks/http-client.js';
import { ResponseParser, type ParsedResponse } from '../../src/health/checks/http-parse.js';
import { loopbackAddress } from '../harness/net.js';

function parseAll(raw: string, opts: { head?: boolean; limit?: number; split?: boolean } = {}): ParsedResponse | undefined {
  const p = new ResponseParser(opts.head ?? false, opts.limit ?? 1024);
  const bytes = Buffer.from(raw, 'latin1');
  if (!opts.split) return p.push(bytes);
  let res: ParsedResponse | undefined;
  for (let i = 0; i < bytes.length && !res; i++) res = p.push(bytes.subarray(i, i + 1));
  return res;
}

describe('ResponseParser', () => {
  for (const split of [false, true]) {
    const how = split ? 'byte by byte' : 'in one piece';
    it(`content-length body (${how})`, () => {
      expect(parseAll('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', { split })).toEqual({ status: 200, body: 'hello', keepAlive: true });
    });
    it(`chunked body with extensions and trailers (${how})`, () => {
      const raw = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n';
      expect(parseAll(raw, { split })).toEqual({ status: 200, body: 'abcde', keepAlive: true });
    });
    it(`skips 1xx, then the final response (${how})`, () => {
      expect(parseAll('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n', { split })).toEqual({ status: 204, body: '', keepAlive: true });
    });
  }

  it('HEAD, 204 and 304 have no body whatever Content-Length says', () => {
    expect(parseAll('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', { head: true })).toEqual({ status: 200, body: '', keepAlive: true });
    expect(parseAll('HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n')).toMatchObject({ status: 304 });
  });

  it('reads until close without a length, and never reuses that connection', () => {
    const p = new ResponseParser(false, 1024);
    expect(p.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\npart'))).toBeUndefined();
    expect(p.end()).toEqual({ status: 200, body: 'part', keepAlive: false });
  });

  it('Connection: close, HTTP/1.0 and stray bytes after the response prevent reuse', () => {
    expect(parseAll('HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n')?.keepAlive).toBe(false);
    expect(parseAll('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')?.keepAlive).toBe(false);
    expect(parseAll('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nextra')?.keepAlive).toBe(false);
  });

  it('keeps at most the body limit (and nothing with limit 0)', () => {
    expect(parseAll('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789', { limit: 4 })?.body).toBe('0123');
    expect(parseAll('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789', { limit: 0 })?.body).toBe('');
  });

  it('rejects malformed responses with a stable code', () => {
    expect(() => parseAll('SSH-2.0-OpenSSH\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_STATUS' }));
    expect(() => parseAll('HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CONTENT_LENGTH' }));
    expect(() => parseAll('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CHUNK_SIZE' }));
    expect(() => parseAll(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(20_000)}`)).toThrow(expect.objectContaining({ code: 'HPE_HEADER_OVERFLOW' }));
  });
});

const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

/** A raw server: `respond(n, socket)` handles the n-th request (1-based) on each connection. */
async function rawServer(respond: (n: number, socket: net.Socket) => void): Promise<{ host: string; port: number; connections: () => number }> {
  const host = loopbackAddress();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    let n = 0;
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      // One request per packet on loopback is what our client sends (a single write).
      for (let i = d.indexOf('\r\n\r\n'); i >= 0; i = d.indexOf('\r\n\r\n', i + 4)) respond(++n, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  closers.push(() => server.close());
  return { host, port: (server.address() as net.AddressInfo).port, connections: () => connections };
}

const GET: PreparedRequest = { bytes: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'), head: false, bodyLimit: 100 };
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

describe('HttpOrigin', () => {
  it('reuses one keep-alive connection for sequential requests', async () => {
    const srv = await rawServer((_n, s) => s.write(OK));
    const origin = new HttpOrigin({ tls: false, host: srv.host, port: srv.port, rejectUnauthorized: true, maxSockets: 4 });
    closers.push(() => origin.destroy());
    for (let i = 0; i < 5; i++) expect(await origin.request(GET).response).toMatchObject({ status: 200, body: 'ok', keepAlive: true });
    expect(srv.connections()).toBe(1);
  });

  it('retries once on a fresh connection when a reused one is closed before answering', async () => {
    // The second request on every connection is dropped with a reset, as by a server that
    // closed an idle keep-alive connection just as we reused it.
    const srv = await rawServer((n, s) => (n === 1 ? s.write(OK) : s.resetAndDestroy()));
    const origin = new HttpOrigin({ tls: false, host: srv.host, port: srv.port, rejectUnauthorized: true, maxSockets: 4 });
    closers.push(() => origin.destroy());
    for (let i = 0; i < 3; i++) expect(await origin.request(GET).response).toMatchObject({ status: 200 });
    expect(srv.connections()).toBe(3);
  });

  it('does not retry a fresh connection, and cancel rejects and frees the slot', async () => {
    const srv = await rawServer((_n, s) => s.resetAndDestroy());
    const origin = new HttpOrigin({ tls: false, host: srv.host, port: srv.port, rejectUnauthorized: true, maxSockets: 1 });
    closers.push(() => origin.destroy());
    await expect(origin.request(GET).response).rejects.toMatchObject({ code: 'ECONNRESET' });
    const hang = await rawServer(() => undefined);
    const slow = new HttpOrigin({ tls: false, host: hang.host, port: hang.port, rejectUnauthorized: true, maxSockets: 1 });
    closers.push(() => slow.destroy());
    const first = slow.request(GET);
    const queued = slow.request(GET);
    queued.cancel(new Error('timeout'));
    await expect(queued.response).rejects.toThrow('timeout');
    first.cancel(new Error('timeout'));
    await expect(first.response).rejects.toThrow('timeout');
    await new Promise((r) => setTimeout(r, 50));
    expect(slow.size).toBe(0);
  });
});
