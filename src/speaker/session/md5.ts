/**
 * TCP-MD5 (RFC 2385) for the built-in speaker: a neighbor with `password_file` gets its key on
 * every socket that can carry its session, and never a session without it.
 *
 * - Outbound: connectWithOptions() keys the socket before the SYN (with the TTL plan of ./ttl.ts).
 * - Inbound: the key must be on the listening socket before the peer's SYN arrives (the kernel
 *   checks the SYN's signature and the accepted socket inherits the key); ../listen/listener.ts
 *   keeps one entry per keyed neighbor there and sets the key on each accepted socket as well.
 *
 * Fails closed (RFC 2385 §2: a segment without the expected digest is dropped; a session we
 * could not key must not come up unsigned): where the key cannot be set (koffi or glibc missing,
 * setsockopt refused) the connection is dropped and BGP_TCP_MD5_FAILED is logged at error, once
 * per neighbor and place. The password itself is never logged.
 */
import { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { NeighborSpec } from '../../backend/types.js';
import { readSecretFile } from '../../net/secret-file.js';
import { SocketOptionError, TCP_MD5SIG_MAXKEYLEN, connectWithOptions, type ConnectTarget, type IpOptions } from '../../net/socket-options.js';

export type Md5KeyErrorCode = 'BGP_MD5_PASSWORD_FILE' | 'BGP_MD5_PASSWORD_EMPTY' | 'BGP_MD5_PASSWORD_TOO_LONG';

export class Md5KeyError extends Error {
  override readonly name = 'Md5KeyError';
  constructor(
    readonly code: Md5KeyErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

/**
 * A neighbor's key from its password_file, read as the GoBGP backend reads it
 * (src/net/secret-file.ts: one trailing newline trimmed). Linux takes 1-80 bytes
 * (TCP_MD5SIG_MAXKEYLEN).
 */
export async function readMd5Key(n: NeighborSpec): Promise<Buffer | undefined> {
  if (n.passwordFile === undefined) return undefined;
  const where = `neighbor ${n.address}: password_file ${n.passwordFile}`;
  let text: string;
  try {
    text = await readSecretFile(n.passwordFile);
  } catch (err) {
    throw new Md5KeyError('BGP_MD5_PASSWORD_FILE', `${where} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const key = Buffer.from(text, 'utf8');
  if (key.length === 0) throw new Md5KeyError('BGP_MD5_PASSWORD_EMPTY', `${where} is empty: a TCP-MD5 password needs 1-${TCP_MD5SIG_MAXKEYLEN} bytes`);
  if (key.length > TCP_MD5SIG_MAXKEYLEN) {
    throw new Md5KeyError('BGP_MD5_PASSWORD_TOO_LONG', `${where} holds ${key.length} bytes: Linux takes TCP-MD5 passwords of at most ${TCP_MD5SIG_MAXKEYLEN} bytes (TCP_MD5SIG_MAXKEYLEN)`);
  }
  return key;
}

/** Every keyed neighbor's key by address (rejects on the first unusable password_file). */
export async function readMd5Keys(neighbors: readonly NeighborSpec[]): Promise<Map<string, Buffer>> {
  const keys = new Map<string, Buffer>();
  for (const n of neighbors) {
    const key = await readMd5Key(n);
    if (key) keys.set(n.address, key);
  }
  return keys;
}

/** Logs a failure to key a neighbor's socket at error, once per neighbor and error code. */
export class Md5FailureLog {
  readonly #logged = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly where: string,
  ) {}

  report(address: string, err: SocketOptionError): void {
    const id = `${address} ${err.code}`;
    if (this.#logged.has(id)) return;
    this.#logged.add(id);
    this.log.error(
      { code: 'BGP_TCP_MD5_FAILED', peer: address, err: err.message },
      `cannot set the TCP-MD5 key for ${address} (${this.where}): its connections are dropped, never run unsigned`,
    );
  }

  /** The neighbor could be keyed again: a later failure is worth a new line. */
  forget(address: string): void {
    for (const id of this.#logged) if (id.startsWith(`${address} `)) this.#logged.delete(id);
  }
}

/**
 * An outbound connection keyed from the SYN on. Where the key cannot be set, a socket that fails
 * with BGP_TCP_MD5_FAILED on the next tick (the session sees a failed connect and retries after
 * its backoff): never a plain connection instead.
 */
export function connectSigned(target: ConnectTarget, ip: IpOptions, key: Uint8Array, failures: Md5FailureLog): Socket {
  try {
    return connectWithOptions(target, { ...ip, md5Key: key });
  } catch (err) {
    if (!(err instanceof SocketOptionError)) throw err;
    failures.report(target.host, err);
    const failed = new Socket();
    failed.destroy(Object.assign(new Error(`TCP-MD5 key not set: ${err.message}`), { code: 'BGP_TCP_MD5_FAILED' }));
    return failed;
  }
}
