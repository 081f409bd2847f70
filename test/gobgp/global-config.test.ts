/**
 * The daemon's global BGP configuration, per GoBGP version, as the daemon reports it: manage: true
 * starts a bare daemon with local_as, router_id and bgp.listen (address and port, and it does
 * listen there); a daemon already running another AS is refused rather than restarted; manage:
 * false against a bare daemon says what to do.
 */
import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gobgpd, gobgpVersions } from '../harness/gobgpd.js';
import { freePort, loopbackAddress } from '../harness/net.js';
import { GobgpBackend, GobgpError } from '../../src/gobgp/index.js';
import { LOCAL_AS, backendOptions, captureLogger } from './fixtures.js';

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host, port, timeout: 3_000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function rejection(p: Promise<unknown>): Promise<GobgpError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GobgpError);
  return err as GobgpError;
}

for (const version of gobgpVersions()) {
  describe(`GoBGP ${version.label}: global configuration`, () => {
    if (!version.binary) {
      it.skip(`skipped: ${version.missing}`, () => undefined);
      return;
    }
    const binary = version.binary;
    let daemon: Gobgpd | undefined;
    const backends: GobgpBackend[] = [];
    const listenAddr = loopbackAddress();
    let listenPort = 0;

    beforeAll(async () => {
      listenPort = await freePort(listenAddr);
      daemon = await Gobgpd.start({ binary });
    });

    afterAll(async () => {
      for (const b of backends) b.detach();
      await daemon?.stop();
    });

    it('manage: false against the bare daemon: GOBGP_NOT_STARTED with a message that says what to do', async () => {
      const { logger } = captureLogger();
      const b = new GobgpBackend(backendOptions(daemon!.apiAddress, { manage: false, logger }));
      backends.push(b);
      const err = await rejection(b.start());
      expect(err.code).toBe('GOBGP_NOT_STARTED');
      expect(err.message).toContain(daemon!.apiAddress);
      expect(err.message).toMatch(/not started/);
      expect(err.message).toMatch(/gobgp\.manage/);
    });

    it('manage: true starts it with local_as, router_id and bgp.listen, and it listens there', async () => {
      const { logger } = captureLogger();
      const b = new GobgpBackend(backendOptions(daemon!.apiAddress, { logger, routerId: '10.0.0.77', listen: { address: listenAddr, port: listenPort } }));
      backends.push(b);
      await b.start();
      const global = await daemon!.cli(['global']);
      expect(global).toMatch(new RegExp(`AS:\\s+${LOCAL_AS}\\b`));
      expect(global).toMatch(/Router-ID:\s+10\.0\.0\.77\b/);
      expect(global).toMatch(new RegExp(`Listening Port:\\s+${listenPort}\\b`));
      expect(global).toContain(listenAddr);
      expect(await accepts(listenAddr, listenPort)).toBe(true);
    });

    it('a daemon already running another AS is refused (GOBGP_GLOBAL_MISMATCH), not restarted', async () => {
      const { logger } = captureLogger();
      const b = new GobgpBackend(backendOptions(daemon!.apiAddress, { logger, localAs: 65077, routerId: '10.0.0.77' }));
      backends.push(b);
      const err = await rejection(b.start());
      expect(err.code).toBe('GOBGP_GLOBAL_MISMATCH');
      expect(err.message).toContain(`AS ${LOCAL_AS}`);
      expect(err.message).toContain('65077');
      expect(await daemon!.cli(['global'])).toMatch(new RegExp(`AS:\\s+${LOCAL_AS}\\b`));
    });
  });
}
