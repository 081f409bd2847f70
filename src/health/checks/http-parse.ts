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
  #head: boolean;
  #bodyLimit: number;
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

  /** Start over for the next response on the same connection (one parser per connection). */
  reset(head: boolean, bodyLimit: number): void {
    this.#head = head;
    this.#bodyLimit = bodyLimit;
    this.#pending = undefined;
    this.#status = 0;
    this.#keepAlive = false;
    this.#body = undefined;
    this.#remaining = 0;
    this.#chunk = 'size';
    if (this.#keptBytes > 0) this.#kept = [];
    this.#keptBytes = 0;
    this.#extra = false;
  }

  /** True once any byte of the response has arrived (a reused socket failing before that is retried). */
  get started(): boolean {
    return this.#pending !== undefined || this.#body !== undefined;
  }

  /**
   * Feed bytes; returns the response once complete, else undefined. Throws HttpParseError.
   * Keeps no reference to `data` after returning (what it needs later, it copies).
   */
  push(data: Buffer): ParsedResponse | undefined {
    let buf = this.#pending ? Buffer.concat([this.#pending, data]) : data;
    this.#pending = undefined;
    while (this.#body === undefined) {
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        if (buf.length > HEAD_LIMIT) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'response head too large');
        // A copy: the caller's buffer may be reused once we return (http-client reads into one).
        this.#pending = Buffer.from(buf);
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

  /**
   * Returns true for a 1xx response (skip it, a final one follows). Hand-rolled rather than
   * split and regular expressions: it runs for every check (docs/perf-health.md).
   */
  #parseHead(head: string): boolean {
    let eol = head.indexOf('\r\n');
    if (eol < 0) eol = head.length;
    const status = statusOf(head, eol);
    if (status < 0) throw new HttpParseError('HPE_INVALID_STATUS', `malformed status line ${JSON.stringify(head.slice(0, Math.min(eol, 80)))}`);
    if (status >= 100 && status < 200 && status !== 101) return true;
    let length: number | undefined;
    let chunked = false;
    let close = false;
    for (let at = eol + 2; at < head.length; ) {
      let next = head.indexOf('\r\n', at);
      if (next < 0) next = head.length;
      const colon = head.indexOf(':', at);
      if (colon <= at || colon >= next) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'malformed header line');
      const raw = head.slice(at, colon).trim();
      // Only three names matter, of lengths 10, 14 and 17: skip the others without lowering.
      if (raw.length === 10 || raw.length === 14 || raw.length === 17) {
        const name = raw.toLowerCase();
        if (name === 'content-length') {
          const value = head.slice(colon + 1, next).trim();
          if (!isLength(value) || (length !== undefined && length !== Number(value))) throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid content-length');
          length = Number(value);
        } else if (name === 'transfer-encoding') {
          // Chunked when the last coding is chunked (RFC 9112 §6.3).
          const value = head.slice(colon + 1, next);
          chunked = value.slice(value.lastIndexOf(',') + 1).trim().toLowerCase() === 'chunked';
        } else if (name === 'connection') {
          close ||= hasToken(head.slice(colon + 1, next).toLowerCase(), 'close');
        }
      }
      at = next + 2;
    }
    this.#status = status;
    // As node:http decides reuse for a 1.1 response (what the previous agent-based checker did).
    this.#keepAlive = head.charCodeAt(7) === 49 /* HTTP/1.1 */ && !close;
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
        this.#pending = Buffer.from(buf.subarray(at));
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

/** The status of `HTTP/1.x NNN[ reason]` in head[0, eol), or -1 if malformed. */
function statusOf(head: string, eol: number): number {
  if (eol < 12 || !head.startsWith('HTTP/1.')) return -1;
  const minor = head.charCodeAt(7);
  if ((minor !== 48 && minor !== 49) || head.charCodeAt(8) !== 32) return -1;
  if (eol > 12 && head.charCodeAt(12) !== 32) return -1;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = head.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    status = status * 10 + d;
  }
  return status;
}

/** 1 to 15 decimal digits. */
function isLength(value: string): boolean {
  if (value.length === 0 || value.length > 15) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** `token` is one of the comma-separated elements of `list` (whitespace around them ignored). */
function hasToken(list: string, token: string): boolean {
  for (let at = 0; at <= list.length; ) {
    let comma = list.indexOf(',', at);
    if (comma < 0) comma = list.length;
    if (list.slice(at, comma).trim() === token) return true;
    at = comma + 1;
  }
  return false;
}
