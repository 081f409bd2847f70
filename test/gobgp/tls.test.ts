/**
 * The GoBGP backend over TLS (gobgp.tls), against every available GoBGP version: gobgpd serves
 * its API with a certificate made here; vipcast trusts it through ca_file. Without the CA the
 * connection is refused, with a clear error.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gobgpd, gobgpVersions } from '../harness/gobgpd.js';
import { GobgpBackend } from '../../src/gobgp/index.js';
import { backendOptions, captureLogger, desired, vip } from './fixtures.js';

const run = promisify(execFile);
let dir = '';
const cert = (): string => join(dir, 'api.crt');
const key = (): string => join(dir, 'api.key');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vipcast-gobgp-tls-'));
  // A self-signed certificate for 127.0.0.1 (it is its own CA).
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=gobgpd-test', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key(), '-out', cert()], { timeout: 30_000 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

for (const version of gobgpVersions()) {
  describe(`TLS to GoBGP ${version.label}`, () => {
    if (!version.binary) {
      it.skip(`skipped: ${version.missing}`, () => undefined);
      return;
    }
    const binary = version.binary;
    let daemon: Gobgpd | undefined;
    const backends: GobgpBackend[] = [];
    afterAll(async () => {
      for (const b of backends) b.detach();
      await daemon?.stop();
    });

    it('connects with ca_file, adds a path; an untrusted server certificate is an UNAVAILABLE readiness reason', async () => {
      daemon = await Gobgpd.start({ binary, tls: { cert: cert(), key: key() } });
      const { logger } = captureLogger();
      const b = new GobgpBackend(backendOptions(daemon.apiAddress, { logger, tls: { caFile: cert() } }));
      backends.push(b);
      await b.start();
      expect(b.readiness().ready).toBe(true);
      expect(b.apiVersion).toBe(version.api);
      await b.apply(desired(vip('192.0.2.77/32')));
      expect(await daemon.cli(['global', 'rib', '-a', 'ipv4'])).toContain('192.0.2.77/32');

      // Without the CA (system roots only) the handshake fails: not ready, with the reason.
      const untrusting = new GobgpBackend(backendOptions(daemon.apiAddress, { logger, tls: {} }));
      backends.push(untrusting);
      await untrusting.start();
      expect(untrusting.readiness()).toMatchObject({ ready: false });
      expect(untrusting.readiness().reason).toMatch(/GetBgp failed: UNAVAILABLE/);
    });

    it('a missing ca_file is a GOBGP_TLS error at start', async () => {
      const { logger } = captureLogger();
      const b = new GobgpBackend(backendOptions('127.0.0.1:1', { logger, tls: { caFile: join(dir, 'missing.crt') } }));
      await expect(b.start()).rejects.toMatchObject({ code: 'GOBGP_TLS' });
    });
  });
}
