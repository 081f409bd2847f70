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
const CRLF = Buffer.from('\r\n', 'latin1');
const COLON = 0x3a;

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
   * Feed `data[0, length)`; returns the response once complete, else undefined. Throws
   * HttpParseError. Keeps no reference to `data` after returning (what it needs later, it
   * copies), so the caller may read every connection into one shared buffer. Works on the bytes
   * in place: no string or Buffer view per response on the usual path (docs/perf-health.md).
   */
  push(data: Buffer, length = data.length): ParsedResponse | undefined {
    let buf = data;
    let to = length;
    if (this.#pending) {
      buf = Buffer.concat([this.#pending, data.subarray(0, length)]);
      to = buf.length;
      this.#pending = undefined;
    }
    let at = 0;
    while (this.#body === undefined) {
      const end = indexIn(buf, CRLFCRLF, at, to);
      if (end < 0) {
        if (to - at > HEAD_LIMIT) throw new HttpParseError('HPE_HEADER_OVERFLOW', 'response head too large');
        this.#pending = Buffer.from(buf.subarray(at, to));
        return undefined;
      }
      const informational = this.#parseHead(buf, at, end);
      at = end + 4;
      // After a 1xx the loop reads the next head; #body is still unset.
      if (informational) continue;
    }
    return this.#consume(buf, at, to);
  }

  /** The server closed the connection: complete a read-until-close body, else undefined. */
  end(): ParsedResponse | undefined {
    if (this.#body === 'close') return this.#done(false);
    return undefined;
  }

  /**
   * The head in buf[from, end) (without its final CRLF CRLF). Returns true for a 1xx response
   * (skip it, a final one follows). Byte by byte rather than split and regular expressions: it
   * runs for every check.
   */
  #parseHead(buf: Buffer, from: number, end: number): boolean {
    let eol = indexIn(buf, CRLF, from, end);
    if (eol < 0) eol = end;
    const status = statusOf(buf, from, eol);
    if (status < 0) throw new HttpParseError('HPE_INVALID_STATUS', `malformed status line ${JSON.stringify(buf.toString('latin1', from, Math.min(eol, from + 80)))}`);
    if (status >= 100 && status < 200 && status !== 101) return true;
    let length: number | undefined;
    let chunked = false;
    let close = false;
    for (let at = eol + 2; at < end; ) {
      let next = indexIn(buf, CRLF, at, end);
      if (next < 0) next = end;
      const colon = buf.indexOf(COLON, at);
      if (colon <= at || colon >= next) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'malformed header line');
      const name = trimStart(buf, at, colon);
      const nameEnd = trimEnd(buf, name, colon);
      // Only three names matter (content-length, transfer-encoding, connection): the others are
      // skipped after a length comparison.
      if (nameIs(buf, name, nameEnd, 'content-length')) {
        const value = decimal(buf, trimStart(buf, colon + 1, next), trimEnd(buf, colon + 1, next));
        if (value < 0 || (length !== undefined && length !== value)) throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid content-length');
        length = value;
      } else if (nameIs(buf, name, nameEnd, 'transfer-encoding')) {
        // Chunked when the last coding is chunked (RFC 9112 §6.3).
        let last = next;
        while (last > colon + 1 && buf[last - 1] !== 0x2c /* , */) last--;
        chunked = nameIs(buf, trimStart(buf, last, next), trimEnd(buf, last, next), 'chunked');
      } else if (nameIs(buf, name, nameEnd, 'connection')) {
        close ||= hasToken(buf, colon + 1, next, 'close');
      }
      at = next + 2;
    }
    this.#status = status;
    // As node:http decides reuse for a 1.1 response (what the previous agent-based checker did).
    this.#keepAlive = buf[from + 7] === 49 /* HTTP/1.1 */ && !close;
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

  #consume(buf: Buffer, at: number, to: number): ParsedResponse | undefined {
    switch (this.#body) {
      case 'none':
        this.#extra = to > at;
        return this.#done(this.#keepAlive);
      case 'length': {
        const take = Math.min(this.#remaining, to - at);
        this.#keep(buf, at, at + take);
        this.#remaining -= take;
        if (this.#remaining > 0) return undefined;
        this.#extra = to - at > take;
        return this.#done(this.#keepAlive);
      }
      case 'close':
        this.#keep(buf, at, to);
        return undefined;
      case 'chunked':
        return this.#chunked(buf, at, to);
      default:
        return undefined;
    }
  }

  #chunked(buf: Buffer, from: number, to: number): ParsedResponse | undefined {
    let at = from;
    while (at < to) {
      if (this.#chunk === 'data') {
        const take = Math.min(this.#remaining, to - at);
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
        const take = Math.min(this.#remaining, to - at);
        at += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#chunk = 'size';
        continue;
      }
      // 'size' and 'trailers' are line-based: wait for a whole line.
      const eol = indexIn(buf, CRLF, at, to);
      if (eol < 0) {
        if (to - at > HEAD_LIMIT) throw new HttpParseError('HPE_CHUNK_SIZE', 'chunk line too long');
        this.#pending = Buffer.from(buf.subarray(at, to));
        return undefined;
      }
      const line = at;
      at = eol + 2;
      if (this.#chunk === 'trailers') {
        if (eol === line) {
          this.#extra = at < to;
          return this.#done(this.#keepAlive);
        }
        continue;
      }
      const size = chunkSize(buf, line, eol);
      if (size < 0) throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'invalid chunk size');
      this.#remaining = size;
      this.#chunk = size === 0 ? 'trailers' : 'data';
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

/** First index of `needle` in buf[from, to), or -1 (Buffer.indexOf has no end bound). */
function indexIn(buf: Buffer, needle: Buffer, from: number, to: number): number {
  const i = buf.indexOf(needle, from);
  return i < 0 || i + needle.length > to ? -1 : i;
}

/** The status of `HTTP/1.x NNN[ reason]` in buf[from, eol), or -1 if malformed. */
function statusOf(buf: Buffer, from: number, eol: number): number {
  if (eol - from < 12) return -1;
  // "HTTP/1."
  if (buf[from] !== 72 || buf[from + 1] !== 84 || buf[from + 2] !== 84 || buf[from + 3] !== 80 || buf[from + 4] !== 47 || buf[from + 5] !== 49 || buf[from + 6] !== 46) return -1;
  const minor = buf[from + 7];
  if ((minor !== 48 && minor !== 49) || buf[from + 8] !== 32) return -1;
  if (eol - from > 12 && buf[from + 12] !== 32) return -1;
  let status = 0;
  for (let i = from + 9; i < from + 12; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    status = status * 10 + d;
  }
  return status;
}

/** buf[from, to) equals `lower` (lower-case ASCII) ignoring ASCII case. */
function nameIs(buf: Buffer, from: number, to: number, lower: string): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = buf[from + i]!;
    // A-Z to a-z; other bytes compare as they are.
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function isOws(c: number | undefined): boolean {
  return c === 32 || c === 9;
}

function trimStart(buf: Buffer, from: number, to: number): number {
  while (from < to && isOws(buf[from])) from++;
  return from;
}

function trimEnd(buf: Buffer, from: number, to: number): number {
  while (to > from && isOws(buf[to - 1])) to--;
  return to;
}

/** 1 to 15 decimal digits in buf[from, to), or -1. */
function decimal(buf: Buffer, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * A chunk-size line (RFC 9112 §7.1): 1 to 8 hex digits, optional whitespace, then nothing or a
 * `;` and extensions (ignored). Returns the size, or -1 if malformed.
 */
function chunkSize(buf: Buffer, from: number, to: number): number {
  let size = 0;
  let at = from;
  for (; at < to && at - from < 9; at++) {
    const c = buf[at]!;
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) break;
    size = size * 16 + d;
  }
  const digits = at - from;
  if (digits < 1 || digits > 8) return -1;
  at = trimStart(buf, at, to);
  return at === to || buf[at] === 0x3b /* ; */ ? size : -1;
}

/** `token` (lower case) is one of the comma-separated elements of buf[from, to), whitespace around them and case ignored. */
function hasToken(buf: Buffer, from: number, to: number, token: string): boolean {
  for (let at = from; at <= to; ) {
    let comma = buf.indexOf(0x2c /* , */, at);
    if (comma < 0 || comma > to) comma = to;
    if (nameIs(buf, trimStart(buf, at, comma), trimEnd(buf, at, comma), token)) return true;
    at = comma + 1;
  }
  return false;
}
