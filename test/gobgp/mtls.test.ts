/**
 * Mutual TLS to the daemon's API (gobgp.tls with ca_file, cert_file and key_file), on the GoBGP
 * versions whose gobgpd can require client certificates (--tls-client-ca-file: v3.37 and v4;
 * Debian's 3.10 cannot, and says so as the skip reason). One test CA signs gobgpd's server
 * certificate and vipcast's client certificate. The daemon's RIB is read with the gobgp CLI
 * presenting a client certificate of its own.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gobgpVersions } from '../harness/gobgpd.js';
import { freePort } from '../harness/net.js';
import { stopProcess } from '../harness/process.js';
import { waitFor } from '../harness/wait.js';
import { GobgpBackend } from '../../src/gobgp/index.js';
import { backendOptions, captureLogger, desired, vip } from './fixtures.js';

const run = promisify(execFile);
let dir = '';
const f = (name: string): string => join(dir, name);

/** A key and a certificate signed by the test CA. */
async function issue(name: string, ext: string): Promise<void> {
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`)], { timeout: 30_000 });
  await writeFile(f(`${name}.ext`), ext);
  await run('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`)], {
    timeout: 30_000,
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vipcast-gobgp-mtls-'));
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=vipcast-test-ca', '-keyout', f('ca.key'), '-out', f('ca.crt')], { timeout: 30_000 });
  await issue('gobgpd', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await issue('vipcast', 'extendedKeyUsage=clientAuth\n');
  await issue('cli', 'extendedKeyUsage=clientAuth\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const accepting = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

for (const version of gobgpVersions()) {
  describe(`mutual TLS to GoBGP ${version.label}`, () => {
    const missing = version.missing ?? (version.label.includes('3.10') ? "gobgpd 3.10 has no --tls-client-ca-file (it cannot require client certificates)" : undefined);
    if (missing) {
      it.skip(`skipped: ${missing}`, () => undefined);
      return;
    }
    const binary = version.binary!;
    let proc: ChildProcess | undefined;
    let port = 0;
    let output = '';
    const backends: GobgpBackend[] = [];

    beforeAll(async () => {
      port = await freePort();
      const args = ['--api-hosts', `127.0.0.1:${port}`, '--pprof-disable', '--log-plain', '--tls', '--tls-cert-file', f('gobgpd.crt'), '--tls-key-file', f('gobgpd.key'), '--tls-client-ca-file', f('ca.crt')];
      const p = spawn(binary.gobgpd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      proc = p;
      const keep = (d: Buffer): void => {
        output = (output + d.toString()).slice(-20_000);
      };
      p.stdout.on('data', keep);
      p.stderr.on('data', keep);
      await waitFor(
        async () => {
          if (p.exitCode !== null) throw new Error(`gobgpd exited ${p.exitCode}: ${output}`);
          return accepting(port);
        },
        { timeoutMs: 15_000, intervalMs: 50, what: `gobgpd ${version.label} API (mTLS) on 127.0.0.1:${port}` },
      );
    });

    afterAll(async () => {
      for (const b of backends) b.detach();
      await stopProcess(proc, 'SIGTERM');
    });

    const cli = async (args: string[]): Promise<string> =>
      (
        await run(
          binary.gobgp,
          ['-u', '127.0.0.1', '-p', String(port), '--tls', '--tls-ca-file', f('ca.crt'), '--tls-client-cert-file', f('cli.crt'), '--tls-client-key-file', f('cli.key'), ...args],
          { timeout: 20_000 },
        )
      ).stdout;

    it('with cert_file and key_file: connected, manages the daemon, adds a path', async () => {
      const { logger } = captureLogger();
      const b = new GobgpBackend(backendOptions(`127.0.0.1:${port}`, { logger, tls: { caFile: f('ca.crt'), certFile: f('vipcast.crt'), keyFile: f('vipcast.key') } }));
      backends.push(b);
      await b.start();
      expect(b.readiness().ready).toBe(true);
      expect(b.apiVersion).toBe(version.api);
      await b.apply(desired(vip('192.0.2.78/32')));
      expect(await cli(['global', 'rib', '-a', 'ipv4'])).toContain('192.0.2.78/32');
    });

    it('without a client certificate the daemon refuses: not ready, the reason names GetBgp', async () => {
      const { logger } = captureLogger();
      const b = new GobgpBackend(backendOptions(`127.0.0.1:${port}`, { logger, tls: { caFile: f('ca.crt') } }));
      backends.push(b);
      await b.start();
      expect(b.readiness().ready).toBe(false);
      expect(b.readiness().reason).toMatch(/GetBgp failed/);
    });

    it('an unreadable key_file is a GOBGP_TLS error at start', async () => {
      const { logger } = captureLogger();
      const b = new GobgpBackend(backendOptions(`127.0.0.1:${port}`, { logger, tls: { caFile: f('ca.crt'), certFile: f('vipcast.crt'), keyFile: f('missing.key') } }));
      await expect(b.start()).rejects.toMatchObject({ code: 'GOBGP_TLS' });
    });
  });
}
