/**
 * What the real daemons cannot show: a GoBGP API server without WatchEvent (peer state then
 * comes from ListPeer polling), and counting the calls behind concurrent applies; a stand-in
 * built from the vendored v4 protos with grpc-js. The real-daemon behaviour is covered by
 * interop-*.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { GobgpBackend } from '../../src/gobgp/index.js';
import { loadGeneration } from '../../src/gobgp/api/generation.js';
import type { ApiPeer } from '../../src/gobgp/api/types.js';
import { waitFor } from '../harness/wait.js';
import { backendOptions, captureLogger, desired, vip } from './fixtures.js';

interface Fake {
  server: Server;
  address: string;
  peers: ApiPeer[];
  added: number;
  deleted: number;
}

async function fakeDaemon(): Promise<Fake> {
  const def = loadGeneration('v4')['api.GoBgpService'] as ServiceDefinition;
  const fake: Fake = { server: new Server(), address: '', peers: [], added: 0, deleted: 0 };
  const unary =
    <T>(answer: () => T) =>
    (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) =>
      cb(null, answer());
  const impl: UntypedServiceImplementation = {
    GetBgp: unary(() => ({ global: { asn: 65001, router_id: '10.0.0.1' } })),
    ListPeer: (call: ServerWritableStream<unknown, unknown>) => {
      for (const peer of fake.peers) call.write({ peer });
      call.end();
    },
    ListPath: (call: ServerWritableStream<unknown, unknown>) => call.end(),
    AddPath: unary(() => {
      fake.added++;
      return {};
    }),
    DeletePath: unary(() => {
      fake.deleted++;
      return {};
    }),
    WatchEvent: (call: ServerWritableStream<unknown, unknown>) => call.emit('error', { code: status.UNIMPLEMENTED, details: 'WatchEvent is not served here' }),
  };
  fake.server.addService(def, impl);
  const port = await new Promise<number>((resolve, reject) =>
    fake.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  fake.address = `127.0.0.1:${port}`;
  return fake;
}

describe('GoBGP API without WatchEvent', () => {
  let fake: Fake | undefined;
  let backend: GobgpBackend | undefined;
  afterEach(() => {
    backend?.detach();
    fake?.server.forceShutdown();
  });

  it('polls ListPeer for peer state, and still applies paths', async () => {
    fake = await fakeDaemon();
    const peer = (state: number): ApiPeer => ({ conf: { neighbor_address: '127.0.0.9', peer_asn: 65000 }, state: { neighbor_address: '127.0.0.9', session_state: state } });
    fake.peers = [peer(3)];
    const { logger, lines } = captureLogger();
    backend = new GobgpBackend(backendOptions(fake.address, { manage: false, logger, peerPollIntervalMs: 100 }));
    await backend.start();
    expect(backend.apiVersion).toBe('v4');
    expect(backend.peers()).toMatchObject([{ address: '127.0.0.9', state: 'active' }]);
    await waitFor(() => lines().some((l) => String(l.msg).includes('polling ListPeer')), { timeoutMs: 5_000, what: 'the fallback to polling' });
    fake.peers = [peer(6)];
    await waitFor(() => backend!.peers()[0]?.state === 'established', { timeoutMs: 5_000, what: 'polled state established' });
    await backend.apply(desired(vip('192.0.2.1/32')));
    expect(fake.added).toBe(1);
    expect(backend.readiness().ready).toBe(true);
  });

  it('concurrent applies: a newer one supersedes the queued older ones; invalid attributes reject', async () => {
    fake = await fakeDaemon();
    const { logger } = captureLogger();
    backend = new GobgpBackend(backendOptions(fake.address, { manage: false, logger }));
    await backend.start();
    const [a, b, c, d] = ['192.0.2.1/32', '192.0.2.2/32', '192.0.2.3/32', '192.0.2.4/32'].map((p) => vip(p));
    await backend.apply(desired(a!));
    expect(fake.added).toBe(1);
    // Not awaited one by one: the first queued apply already sends the latest set ({a, d}).
    await Promise.all([backend.apply(desired(a!, b!)), backend.apply(desired(a!, b!, c!)), backend.apply(desired(a!, d!))]);
    expect({ added: fake.added, deleted: fake.deleted }).toEqual({ added: 2, deleted: 0 });
    await expect(backend.apply(desired(vip('192.0.2.9/32', { communities: ['no-such-community'] })))).rejects.toThrow(/no-such-community/);
  });
});
