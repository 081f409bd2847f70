/**
 * The health checker's own HTTP/1.1 client: the response parser on every framing (fed whole and
 * byte by byte) and the pool's reuse, retry and cancel paths against raw loopback servers.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpOrigin, type PreparedRequest } from '../../src/health/checks/http-client.js';
import { ResponseParser, type ParsedResponse } from '../../src/health/checks/http-parse.js';
import { loopbackAddress } from '../harness/net.js';

/** What a previous, longer read left in a shared buffer: framing that must never be read. */
const STALE = Buffer.from('HTTP/1.1 500 Stale\r\nContent-Length: 3\r\n\r\nbad\r\n0\r\n\r\n'.repeat(8), 'latin1');

function parseAll(raw: string, opts: { head?: boolean; limit?: number; split?: boolean; shared?: boolean } = {}): ParsedResponse | undefined {
  const p = new ResponseParser(opts.head ?? false, opts.limit ?? 1024);
  const bytes = Buffer.from(raw, 'latin1');
  if (!opts.split && !opts.shared) return p.push(bytes);
  let res: ParsedResponse | undefined;
  // Shared: 5-byte reads into one buffer whose bytes past each read are stale, as http-client's
  // onread buffer is; push() is told the read's length.
  const step = opts.shared ? 5 : 1;
  const shared = Buffer.alloc(STALE.length + step);
  for (let i = 0; i < bytes.length && !res; i += step) {
    const piece = bytes.subarray(i, i + step);
    if (!opts.shared) {
      res = p.push(piece);
      continue;
    }
    STALE.copy(shared, 0);
    piece.copy(shared, 0);
    res = p.push(shared, piece.length);
  }
  return res;
}

describe('ResponseParser', () => {
  const modes = [
    ['in one piece', {}],
    ['byte by byte', { split: true }],
    ['in 5-byte reads into a shared buffer with stale bytes after each', { shared: true }],
  ] as const;
  for (const [how, mode] of modes) {
    it(`content-length body (${how})`, () => {
      expect(parseAll('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', mode)).toEqual({ status: 200, body: 'hello', keepAlive: true });
    });
    it(`chunked body with extensions and trailers (${how})`, () => {
      const raw = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n';
      expect(parseAll(raw, mode)).toEqual({ status: 200, body: 'abcde', keepAlive: true });
    });
    it(`skips 1xx, then the final response (${how})`, () => {
      expect(parseAll('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n', mode)).toEqual({ status: 204, body: '', keepAlive: true });
    });
    it(`headers split across reads, in any case, with spacing (${how})`, () => {
      const raw = 'HTTP/1.1 200 OK\r\nServer: x\r\n  CONTENT-length :  3 \r\nconnection: Keep-Alive, Close\r\n\r\nabc';
      expect(parseAll(raw, mode)).toEqual({ status: 200, body: 'abc', keepAlive: false });
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

  it('header names in any case and spacing; connection and transfer-encoding as token lists (RFC 9110 §7.6.1, RFC 9112 §6.3)', () => {
    expect(parseAll('HTTP/1.1 200 OK\r\nCONTENT-LENGTH:  2 \r\n\r\nok')).toEqual({ status: 200, body: 'ok', keepAlive: true });
    expect(parseAll('HTTP/1.1 200\r\ncontent-length: 0\r\n\r\n')).toEqual({ status: 200, body: '', keepAlive: true });
    expect(parseAll('HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n')?.keepAlive).toBe(false);
    expect(parseAll('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nconnection: close\r\nContent-Length: 0\r\n\r\n')?.keepAlive).toBe(false);
    expect(parseAll('HTTP/1.1 200 OK\r\nConnection: closed, keep-alive\r\nContent-Length: 0\r\n\r\n')?.keepAlive).toBe(true);
    expect(parseAll('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n')).toEqual({ status: 200, body: 'ok', keepAlive: true });
    // chunked not last: the body runs until close (and the connection is not reused).
    const p = new ResponseParser(false, 1024);
    expect(p.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw'))).toBeUndefined();
    expect(p.end()).toEqual({ status: 200, body: 'raw', keepAlive: false });
    // Names of a matching length that are not one of the three are ignored.
    expect(parseAll('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Lengthx: 9\r\nContent-Length: 0\r\n\r\n')).toEqual({ status: 200, body: '', keepAlive: true });
  });

  it('reset() makes a used parser read the next response from scratch (one parser per connection)', () => {
    const p = new ResponseParser(false, 1024);
    expect(p.push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'))).toEqual({ status: 200, body: 'abc', keepAlive: true });
    p.reset(true, 0);
    expect(p.started).toBe(false);
    expect(p.push(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n'))).toEqual({ status: 404, body: '', keepAlive: true });
    p.reset(false, 1024);
    expect(p.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-'))).toBeUndefined();
    expect(p.push(Buffer.from('Length: 2\r\nConnection: close\r\n\r\nok'))).toEqual({ status: 200, body: 'ok', keepAlive: false });
  });

  it('status line and header syntax errors', () => {
    for (const bad of ['HTTP/1.1 20 OK', 'HTTP/1.2 200 OK', 'HTTP/1.1 2x0 OK', 'HTTP/1.1 200OK', 'HTTP/1.1  200 OK', 'http/1.1 200 OK']) {
      expect(() => parseAll(`${bad}\r\nContent-Length: 0\r\n\r\n`), bad).toThrow(expect.objectContaining({ code: 'HPE_INVALID_STATUS' }));
    }
    expect(() => parseAll('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_HEADER_TOKEN' }));
    expect(() => parseAll('HTTP/1.1 200 OK\r\n: empty name\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_HEADER_TOKEN' }));
    expect(() => parseAll('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CONTENT_LENGTH' }));
    expect(() => parseAll('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CONTENT_LENGTH' }));
  });

  it('keeps at most the body limit (and nothing with limit 0)', () => {
    expect(parseAll('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789', { limit: 4 })?.body).toBe('0123');
    expect(parseAll('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789', { limit: 0 })?.body).toBe('');
  });

  it('rejects malformed responses with a stable code', () => {
    expect(() => parseAll('SSH-2.0-OpenSSH\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_STATUS' }));
    expect(() => parseAll('HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CONTENT_LENGTH' }));
    expect(() => parseAll('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CHUNK_SIZE' }));
    expect(() => parseAll('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n123456789\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CHUNK_SIZE' }));
    expect(() => parseAll('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CHUNK_SIZE' }));
    expect(() => parseAll('HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CONTENT_LENGTH' }));
    expect(() => parseAll('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_CONTENT_LENGTH' }));
    expect(() => parseAll('HTTP/2.0 200 OK\r\n\r\n')).toThrow(expect.objectContaining({ code: 'HPE_INVALID_STATUS' }));
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

  it('a response arriving in pieces across reads is parsed right (reads share one buffer: what is pending must be copied)', async () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    const body = '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n';
    // Cut inside the status line, inside a header, inside a chunk-size line and inside data;
    // between pieces another connection's response overwrites the shared read buffer.
    const pieces = [head.slice(0, 7), head.slice(7, 30), head.slice(30) + body.slice(0, 1), body.slice(1, 9), body.slice(9, 12), body.slice(12)];
    const other = await rawServer((_n, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\nXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX'));
    const noise = new HttpOrigin({ tls: false, host: other.host, port: other.port, rejectUnauthorized: true, maxSockets: 1 });
    closers.push(() => noise.destroy());
    const srv = await rawServer((_n, s) => {
      void (async () => {
        for (const p of pieces) {
          s.write(p);
          expect(await noise.request(GET).response).toMatchObject({ status: 200, body: 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' });
        }
      })();
    });
    const origin = new HttpOrigin({ tls: false, host: srv.host, port: srv.port, rejectUnauthorized: true, maxSockets: 1 });
    closers.push(() => origin.destroy());
    expect(await origin.request(GET).response).toMatchObject({ status: 200, body: 'hello world', keepAlive: true });
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
