/**
 * Incremental parser for one HTTP/1.x response (RFC 9112), for the health checker's own client
 * (http-client.ts). Only what a health check needs: the status, the headers that decide framing
 * and reuse, and at most `bodyLimit` bytes of the body. Informational 1xx responses (RFC 9110
 * §15.2) are skipped. Framing follows RFC 9112 §6.3: no body for HEAD, 1xx, 204 and 304;
 * chunked when Transfer-Encoding ends in chunked; else Content-Length; else until the server
 * closes the connection.
 *
 * Why our own: node:http builds a ClientRequest, an IncomingMessage (two streams), an abort
 * listener chain and agent bookkeeping per request, about two thirds of the CPU a check costs
 * (docs/perf-health.md). A check sends one fixed request and reads one small response.
 */

/** Response heads larger than this are refused (Node's own default limit is 16 KiB). */
export const HEAD_LIMIT = 16 * 1024;

export class HttpParseError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

export interface ParsedResponse {
  status: number;
  body: string;
  /** The connection may carry another request (HTTP/1.1 without Connection: close, all read). */
  keepAlive: boolean;
}

type Body = 'none' | 'length' | 'chunked' | 'close';
type ChunkState = 'size' | 'data' | 'data-crlf' | 'trailers';

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

export class ResponseParser {
  readonly #head: boolean;
  readonly #bodyLimit: number;
  #pending: Buffer | undefined;
  #status = 0;
  #keepAlive = false;
  #body: Body | undefined;
  #remaining = 0;
  #chunk: ChunkState = 'size';
  #kept: Buffer[] = [];
  #keptBytes = 0;
  /** Bytes after the end of the response (a misbehaving server): the connection is not reused. */
  #extra = false;

  /** `head`: the request was HEAD (no body follows). `bodyLimit`: bytes of body to keep (0: none). */
  constructor(head: boolean, bodyLimit: number) {
    this.#head = head;
    this.#bodyLimit = bodyLimit;
  }

  /** True once any byte of the response has arrived (a reused socket failing before that is retried). */
  get started(): boolean {
    return this.#pending !== undefined || this.#body !== undefined;
  }

  /** Feed bytes; returns the response once complete, else undefined. Throws HttpParseError. */
  push(data: Buffer): ParsedResponse | undefined {
    let buf = this.#pending ? Buffer.concat([this.#pending, data]) : data;
    this.#pending = undefined;
    while (this.#body === undefined) {
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        if (buf.length > HEAD_LIMIT) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'response head too large');
        this.#pending = buf;
        return undefined;
      }
      const informational = this.#parseHead(buf.toString('latin1', 0, end));
      buf = buf.subarray(end + 4);
      // After a 1xx the loop reads the next head; #body is still unset.
      if (informational) continue;
    }
    return this.#consume(buf);
  }

  /** The server closed the connection: complete a read-until-close body, else undefined. */
  end(): ParsedResponse | undefined {
    if (this.#body === 'close') return this.#done(false);
    return undefined;
  }

  /** Returns true for a 1xx response (skip it, a final one follows). */
  #parseHead(head: string): boolean {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
    if (!m) throw new HttpParseError('HPE_INVALID_STATUS', `malformed status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
    const status = Number(m[2]);
    if (status >= 100 && status < 200 && status !== 101) return true;
    let length: number | undefined;
    let chunked = false;
    let connection = '';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'malformed header line');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || (length !== undefined && length !== Number(value))) throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid content-length');
        length = Number(value);
      } else if (name === 'transfer-encoding') {
        chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
      } else if (name === 'connection') {
        connection += `${value.toLowerCase()},`;
      }
    }
    this.#status = status;
    // As node:http decides reuse for a 1.1 response (what the previous agent-based checker did).
    this.#keepAlive = m[1] === '1' && !/(?:^|,)\s*close\s*,/.test(connection);
    if (this.#head || status === 204 || status === 304) this.#body = 'none';
    else if (chunked) this.#body = 'chunked';
    else if (length !== undefined) {
      this.#body = 'length';
      this.#remaining = length;
    } else {
      this.#body = 'close';
      this.#keepAlive = false;
    }
    return false;
  }

  #consume(buf: Buffer): ParsedResponse | undefined {
    switch (this.#body) {
      case 'none':
        this.#extra = buf.length > 0;
        return this.#done(this.#keepAlive);
      case 'length': {
        const take = Math.min(this.#remaining, buf.length);
        this.#keep(buf, 0, take);
        this.#remaining -= take;
        if (this.#remaining > 0) return undefined;
        this.#extra = buf.length > take;
        return this.#done(this.#keepAlive);
      }
      case 'close':
        this.#keep(buf, 0, buf.length);
        return undefined;
      case 'chunked':
        return this.#chunked(buf);
      default:
        return undefined;
    }
  }

  #chunked(buf: Buffer): ParsedResponse | undefined {
    let at = 0;
    while (at < buf.length) {
      if (this.#chunk === 'data') {
        const take = Math.min(this.#remaining, buf.length - at);
        this.#keep(buf, at, at + take);
        at += take;
        this.#remaining -= take;
        if (this.#remaining === 0) {
          this.#chunk = 'data-crlf';
          this.#remaining = 2;
        }
        continue;
      }
      if (this.#chunk === 'data-crlf') {
        const take = Math.min(this.#remaining, buf.length - at);
        at += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#chunk = 'size';
        continue;
      }
      // 'size' and 'trailers' are line-based: wait for a whole line.
      const eol = buf.indexOf('\r\n', at, 'latin1');
      if (eol < 0) {
        if (buf.length - at > HEAD_LIMIT) throw new HttpParseError('HPE_CHUNK_SIZE', 'chunk line too long');
        this.#pending = buf.subarray(at);
        return undefined;
      }
      const line = buf.toString('latin1', at, eol);
      at = eol + 2;
      if (this.#chunk === 'trailers') {
        if (line === '') {
          this.#extra = at < buf.length;
          return this.#done(this.#keepAlive);
        }
        continue;
      }
      const size = /^([0-9a-fA-F]{1,8})\s*(?:;.*)?$/.exec(line);
      if (!size) throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'invalid chunk size');
      this.#remaining = parseInt(size[1]!, 16);
      this.#chunk = this.#remaining === 0 ? 'trailers' : 'data';
    }
    return undefined;
  }

  #keep(buf: Buffer, from: number, to: number): void {
    if (this.#keptBytes >= this.#bodyLimit || to <= from) return;
    const part = buf.subarray(from, Math.min(to, from + this.#bodyLimit - this.#keptBytes));
    // Copied: the socket's buffer may be reused once we return.
    this.#kept.push(Buffer.from(part));
    this.#keptBytes += part.length;
  }

  #done(keepAlive: boolean): ParsedResponse {
    const body = this.#kept.length === 0 ? '' : this.#kept.length === 1 ? this.#kept[0]!.toString('utf8') : Buffer.concat(this.#kept).toString('utf8');
    return { status: this.#status, body, keepAlive: keepAlive && !this.#extra };
  }
}
