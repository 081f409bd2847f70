/**
 * The speaker's side of TCP-MD5 that needs no peer: reading a neighbor's password_file (bytes,
 * one trailing newline trimmed, 1-80 bytes, errors naming the file and never the password) and
 * failing closed when a key cannot be set (a connect that fails, one error line per neighbor).
 */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SocketOptionError } from '../../../src/net/socket-options.js';
import { Md5FailureLog, Md5KeyError, connectSigned, readMd5Key, readMd5Keys } from '../../../src/speaker/session/md5.js';
import { captureLog } from '../../harness/log-capture.js';
import { neighbor } from '../session/helpers.js';

describe('password_file', () => {
  let dir: string;
  const file = async (name: string, content: string | Buffer): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };
  const keyOf = async (content: string | Buffer): Promise<Buffer | undefined> =>
    readMd5Key(neighbor({ address: '10.0.0.254', remoteAs: 65000, passwordFile: await file(`k${Math.random()}`, content) }));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vipcast-md5-keys-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is read as bytes with one trailing newline trimmed (LF or CRLF), as the GoBGP backend does', async () => {
    expect((await keyOf('secret\n'))!.toString()).toBe('secret');
    expect((await keyOf('secret\r\n'))!.toString()).toBe('secret');
    expect((await keyOf('secret'))!.toString()).toBe('secret');
    expect((await keyOf('secret\n\n'))!.toString()).toBe('secret\n');
    expect((await keyOf(' with spaces '))!.toString()).toBe(' with spaces ');
  });

  it('no password_file: no key', async () => {
    expect(await readMd5Key(neighbor({ address: '10.0.0.254', remoteAs: 65000 }))).toBeUndefined();
  });

  it('1-80 bytes (UTF-8 counted in bytes); empty or longer is an error naming password_file, not the password', async () => {
    expect((await keyOf('x'.repeat(80)))!.length).toBe(80);
    await expect(keyOf('\n')).rejects.toMatchObject({ code: 'BGP_MD5_PASSWORD_EMPTY', message: expect.stringMatching(/password_file/) as unknown });
    const long = 'é'.repeat(41); // 82 bytes
    const err: unknown = await keyOf(long).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Md5KeyError);
    expect((err as Md5KeyError).code).toBe('BGP_MD5_PASSWORD_TOO_LONG');
    expect((err as Md5KeyError).message).toMatch(/password_file .* holds 82 bytes/);
    expect((err as Md5KeyError).message).not.toContain(long);
  });

  it('an unreadable file: BGP_MD5_PASSWORD_FILE with the neighbor and the path', async () => {
    const n = neighbor({ address: '10.0.0.9', remoteAs: 65000, passwordFile: join(dir, 'missing') });
    await expect(readMd5Key(n)).rejects.toMatchObject({ code: 'BGP_MD5_PASSWORD_FILE', message: expect.stringContaining('neighbor 10.0.0.9') as unknown });
  });

  it('readMd5Keys: one entry per keyed neighbor, by address', async () => {
    const path = await file('shared', 'k1\n');
    const keys = await readMd5Keys([
      neighbor({ address: '10.0.0.1', remoteAs: 65000, passwordFile: path }),
      neighbor({ address: '10.0.0.2', remoteAs: 65000 }),
      neighbor({ address: 'fd00::2', remoteAs: 65000, passwordFile: path }),
    ]);
    expect([...keys.keys()]).toEqual(['10.0.0.1', 'fd00::2']);
  });
});

describe('fails closed', () => {
  it('a key that cannot be set gives a connect that fails (never a plain one), logged at error once per neighbor', async () => {
    const { log, lines } = captureLog();
    const failures = new Md5FailureLog(log, 'outbound connect');
    const key = Buffer.from('never-logged-secret');
    // A target that is not an IP address: connectWithOptions refuses it before any socket exists.
    for (let i = 0; i < 3; i++) {
      const socket = connectSigned({ host: 'not-an-address', port: 179 }, { hopLimit: 1 }, key, failures);
      let connected = false;
      socket.on('connect', () => (connected = true));
      const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
      expect(err.code).toBe('BGP_TCP_MD5_FAILED');
      expect(connected).toBe(false);
      expect(socket.destroyed).toBe(true);
    }
    const errors = lines.filter((l) => l.code === 'BGP_TCP_MD5_FAILED');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.level).toBe(50);
    expect(JSON.stringify(lines)).not.toContain('never-logged-secret');
    failures.forget('not-an-address');
    failures.report('not-an-address', new SocketOptionError('SOCKOPT_UNAVAILABLE', 'koffi missing'));
    expect(lines.filter((l) => l.code === 'BGP_TCP_MD5_FAILED')).toHaveLength(2);
  });
});
