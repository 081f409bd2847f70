/**
 * manage: true, the neighbor settings as the daemon itself reports them (`gobgp neighbor ADDR -j`),
 * per GoBGP version: what AddPeer sets (password, multihop, families, hold time, description,
 * passive) and what UpdatePeer changes when bgp.neighbors changes. No router is needed: the
 * session state does not matter here, only the daemon's configuration of the neighbor.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gobgpd, gobgpVersions } from '../harness/gobgpd.js';
import { loopbackAddress } from '../harness/net.js';
import { GobgpBackend } from '../../src/gobgp/index.js';
import { backendOptions, captureLogger, neighbor } from './fixtures.js';

/** The part of `gobgp neighbor ADDR -j` compared here (same JSON names in v3 and v4). */
interface NeighborJson {
  conf?: { neighbor_address?: string; peer_asn?: number; description?: string; auth_password?: string };
  ebgp_multihop?: { enabled?: boolean; multihop_ttl?: number };
  timers?: { config?: { hold_time?: number; keepalive_interval?: number } };
  transport?: { passive_mode?: boolean; local_address?: string; remote_port?: number };
  afi_safis?: Array<{ config?: { family?: { afi?: number; safi?: number }; enabled?: boolean } }>;
}

const families = (n: NeighborJson): string[] =>
  (n.afi_safis ?? [])
    .filter((a) => a.config?.enabled !== false)
    .map((a) => `${a.config?.family?.afi ?? 0}/${a.config?.family?.safi ?? 0}`)
    .sort();

for (const version of gobgpVersions()) {
  describe(`GoBGP ${version.label}: neighbor configuration (manage: true)`, () => {
    if (!version.binary) {
      it.skip(`skipped: ${version.missing}`, () => undefined);
      return;
    }
    const binary = version.binary;
    let daemon: Gobgpd | undefined;
    let backend: GobgpBackend | undefined;
    let dir = '';
    let logLines: () => Array<Record<string, unknown>> = () => [];
    const peerAddr = loopbackAddress();
    const localAddr = loopbackAddress();

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'vipcast-gobgp-peer-'));
      daemon = await Gobgpd.start({ binary });
    });

    afterAll(async () => {
      backend?.detach();
      await daemon?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    async function shown(): Promise<NeighborJson> {
      return JSON.parse(await daemon!.cli(['neighbor', peerAddr, '-j'])) as NeighborJson;
    }

    it('AddPeer carries password, multihop, families, hold time, description and passive mode', async () => {
      const pw = join(dir, 'pw1');
      await writeFile(pw, 'first-secret\n');
      const { logger, lines } = captureLogger();
      logLines = lines;
      const spec = neighbor(peerAddr, 1179, localAddr, { ebgpMultihop: 4, families: ['ipv4'], holdTimeSec: 30, description: 'tor-a', passive: true, passwordFile: pw });
      backend = new GobgpBackend(backendOptions(daemon!.apiAddress, { neighbors: [spec], logger }));
      await backend.start();
      const n = await shown();
      expect(n.conf).toMatchObject({ neighbor_address: peerAddr, peer_asn: 65000, description: 'tor-a' });
      expect(n.ebgp_multihop).toMatchObject({ enabled: true, multihop_ttl: 4 });
      expect(n.timers?.config).toMatchObject({ hold_time: 30, keepalive_interval: 10 });
      expect(n.transport).toMatchObject({ passive_mode: true, local_address: localAddr, remote_port: 1179 });
      expect(families(n)).toEqual(['1/1']);
      // The password: where the daemon reports it, it is the file's content without the newline.
      console.log(`[${version.label}] auth_password shown: ${JSON.stringify(n.conf?.auth_password)}`);
      if (n.conf?.auth_password) expect(n.conf.auth_password).toBe('first-secret');
    });

    it('UpdatePeer brings changed multihop, families and hold time to the daemon', async () => {
      const spec = neighbor(peerAddr, 1179, localAddr, { ebgpMultihop: 0, families: ['ipv4', 'ipv6'], holdTimeSec: 15, description: 'tor-a', passive: true, passwordFile: join(dir, 'pw1') });
      await backend!.updateNeighbors([spec]);
      const n = await shown();
      expect(n.ebgp_multihop?.enabled ?? false).toBe(false);
      expect(n.timers?.config).toMatchObject({ hold_time: 15, keepalive_interval: 5 });
      expect(families(n)).toEqual(['1/1', '2/1']);
      await backend!.updateNeighbors([{ ...spec, ebgpMultihop: 8 }]);
      expect((await shown()).ebgp_multihop).toMatchObject({ enabled: true, multihop_ttl: 8 });
    });

    it('UpdatePeer brings a changed and a removed password to the daemon', async () => {
      const pw2 = join(dir, 'pw2');
      await writeFile(pw2, 'second-secret');
      const spec = neighbor(peerAddr, 1179, localAddr, { ebgpMultihop: 8, families: ['ipv4', 'ipv6'], holdTimeSec: 15, description: 'tor-a', passive: true });
      await backend!.updateNeighbors([{ ...spec, passwordFile: pw2 }]);
      expect((await shown()).conf?.auth_password).toBe('second-secret');
      await backend!.updateNeighbors([spec]);
      expect((await shown()).conf?.auth_password ?? '').toBe('');
    });

    it('a password added to a neighbor that had none reaches the daemon; no password is ever logged', async () => {
      const pw3 = join(dir, 'pw3');
      await writeFile(pw3, 'third-secret');
      const spec = neighbor(peerAddr, 1179, localAddr, { ebgpMultihop: 8, families: ['ipv4', 'ipv6'], holdTimeSec: 15, description: 'tor-a', passive: true });
      await backend!.updateNeighbors([spec]);
      expect((await shown()).conf?.auth_password ?? '').toBe('');
      await backend!.updateNeighbors([{ ...spec, passwordFile: pw3 }]);
      expect((await shown()).conf?.auth_password).toBe('third-secret');
      const log = JSON.stringify(logLines());
      expect(log).toContain('password: set');
      for (const secret of ['first-secret', 'second-secret', 'third-secret']) expect(log).not.toContain(secret);
    });
  });
}
