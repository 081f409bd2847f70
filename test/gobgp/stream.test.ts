/**
 * How apply() talks to the daemon, call by call: the snapshot taken at connect instead of a
 * ListPath before the first add, the chunked AddPathStream (first message small, then full
 * ones), unary calls for few changes with withdrawals first, an invalid set rejected before
 * anything is sent, and a failed stream making the next apply repair from ListPath. A stand-in
 * daemon built from the vendored v4 protos records every call (what the real daemons make of
 * the same calls is covered by interop-*.test.ts and scale.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { GobgpBackend } from '../../src/gobgp/index.js';
import { loadGeneration } from '../../src/gobgp/api/generation.js';
import type { ApiPath } from '../../src/gobgp/api/types.js';
import { decodePrefixes } from '../../src/speaker/codec/index.js';
import { desiredPath } from '../../src/gobgp/paths.js';
import type { VipRoute } from '../../src/backend/types.js';
import { backendOptions, captureLogger, desired, vip } from './fixtures.js';

interface Call {
  rpc: 'AddPath' | 'DeletePath';
  prefix: string;
}

interface Fake {
  server: Server;
  address: string;
  /** What ListPath answers for IPv4 (IPv6: nothing). */
  rib: ApiPath[];
  listPaths: number;
  unary: Call[];
  /** One entry per AddPathStream call: its messages, as [prefix, withdraw] per path. */
  streams: Array<Array<Array<[string, boolean]>>>;
  /** Fail every AddPathStream after its first message. */
  failStreams: boolean;
}

const prefixOf = (p: ApiPath): string => {
  const nlri = Uint8Array.from(p.nlri_binary ?? []);
  const family = p.family?.afi === 2 ? 'ipv6' : 'ipv4';
  return decodePrefixes(nlri, 0, nlri.length, family, (d) => new Error(d))[0]?.prefix ?? '?';
};

async function fakeDaemon(): Promise<Fake> {
  const def = loadGeneration('v4')['api.GoBgpService'] as ServiceDefinition;
  const fake: Fake = { server: new Server(), address: '', rib: [], listPaths: 0, unary: [], streams: [], failStreams: false };
  const unary =
    <T>(answer: (req: { path?: ApiPath }) => T) =>
    (call: ServerUnaryCall<{ path?: ApiPath }, unknown>, cb: sendUnaryData<unknown>) =>
      cb(null, answer(call.request));
  const impl: UntypedServiceImplementation = {
    GetBgp: unary(() => ({ global: { asn: 65001, router_id: '10.0.0.1' } })),
    ListPeer: (call: ServerWritableStream<unknown, unknown>) => call.end(),
    ListPath: (call: ServerWritableStream<{ family?: { afi?: number } }, unknown>) => {
      fake.listPaths++;
      if (call.request.family?.afi === 1) for (const p of fake.rib) call.write({ destination: { prefix: prefixOf(p), paths: [p] } });
      call.end();
    },
    AddPath: unary((req) => {
      fake.unary.push({ rpc: 'AddPath', prefix: prefixOf(req.path!) });
      return {};
    }),
    DeletePath: unary((req) => {
      fake.unary.push({ rpc: 'DeletePath', prefix: prefixOf(req.path!) });
      return {};
    }),
    AddPathStream: (call: ServerReadableStream<{ paths?: ApiPath[] }, unknown>, cb: sendUnaryData<unknown>) => {
      const messages: Array<Array<[string, boolean]>> = [];
      fake.streams.push(messages);
      call.on('data', (req: { paths?: ApiPath[] }) => {
        messages.push((req.paths ?? []).map((p) => [prefixOf(p), p.is_withdraw === true]));
        if (fake.failStreams) cb({ code: status.INTERNAL, details: 'stand-in refuses the rest' });
      });
      call.on('end', () => {
        if (!fake.failStreams) cb(null, {});
      });
    },
    WatchEvent: (call: ServerWritableStream<unknown, unknown>) => call.emit('error', { code: status.UNIMPLEMENTED, details: 'WatchEvent is not served here' }),
  };
  fake.server.addService(def, impl);
  const port = await new Promise<number>((resolve, reject) =>
    fake.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  fake.address = `127.0.0.1:${port}`;
  return fake;
}

const hosts = (n: number, over: (i: number) => Partial<VipRoute['attributes']> = () => ({})): VipRoute[] =>
  Array.from({ length: n }, (_, i) => vip(`10.1.${i >> 8}.${i & 255}/32`, over(i)));

/** A path as the daemon lists it: ours (our identifier) or an operator's (identifier 0). */
function listed(prefix: string, ours: boolean): ApiPath {
  const p = desiredPath(vip(prefix), { localAs: 65001, nextHop: {} }).path;
  return { family: p.family, nlri_binary: p.nlri_binary, pattrs_binary: p.pattrs_binary, identifier: ours ? p.identifier : 0 };
}

describe('apply() on the wire', () => {
  let fake: Fake | undefined;
  let backend: GobgpBackend | undefined;
  afterEach(() => {
    backend?.detach();
    fake?.server.forceShutdown();
  });

  async function started(): Promise<{ fake: Fake; backend: GobgpBackend }> {
    fake = await fakeDaemon();
    const { logger } = captureLogger();
    backend = new GobgpBackend(backendOptions(fake.address, { manage: false, logger, peerPollIntervalMs: 60_000 }));
    return { fake, backend };
  }

  it('the first apply streams at once: the connect-time snapshot is the known state (stale paths of ours withdrawn first, operator paths left alone)', async () => {
    const { fake, backend } = await started();
    fake.rib = [listed('192.0.2.200/32', true), listed('192.0.2.201/32', false)];
    await backend.start();
    expect(fake.listPaths).toBe(2); // the snapshot, IPv4 and IPv6
    await backend.apply(desired(...hosts(1000)));
    expect(fake.listPaths).toBe(2); // none before (or for) the first add
    expect(fake.unary).toEqual([]);
    expect(fake.streams).toHaveLength(1);
    const messages = fake.streams[0]!;
    // The held unary candidates (the withdrawal, then adds) lead the first message; then one
    // message per chunk: 200 routes first, so the daemon starts early, then up to 1,000.
    expect(messages.map((m) => m.length)).toEqual([201, 800]);
    expect(messages[0]![0]).toEqual(['192.0.2.200/32', true]);
    const all = messages.flat();
    expect(all.filter(([, w]) => w)).toEqual([['192.0.2.200/32', true]]);
    expect(new Set(all.filter(([, w]) => !w).map(([p]) => p))).toEqual(new Set(hosts(1000).map((r) => r.prefix)));
  });

  it('later applies send only the diff: a few changes as unary calls, withdrawals first', async () => {
    const { fake, backend } = await started();
    await backend.start();
    const [a, b, c, d] = hosts(4);
    await backend.apply(desired(a!, b!));
    expect(fake.unary).toEqual([
      { rpc: 'AddPath', prefix: a!.prefix },
      { rpc: 'AddPath', prefix: b!.prefix },
    ]);
    fake.unary = [];
    await backend.apply(desired(b!, { ...c!, attributes: { ...c!.attributes } }, { ...a!, attributes: { ...a!.attributes, med: 5 } }));
    expect(fake.unary).toEqual([
      { rpc: 'AddPath', prefix: c!.prefix },
      { rpc: 'AddPath', prefix: a!.prefix },
    ]);
    fake.unary = [];
    await backend.apply(desired(c!, d!));
    expect(fake.unary).toEqual([
      { rpc: 'DeletePath', prefix: b!.prefix },
      { rpc: 'DeletePath', prefix: a!.prefix },
      { rpc: 'AddPath', prefix: d!.prefix },
    ]);
    expect(fake.streams).toEqual([]);
    expect(fake.listPaths).toBe(2);
  });

  it('a large change with withdrawals: all withdrawals before the first add, in one stream', async () => {
    const { fake, backend } = await started();
    await backend.start();
    const before = hosts(600);
    await backend.apply(desired(...before));
    const after = hosts(1200).slice(300);
    await backend.apply(desired(...after));
    const paths = fake.streams[1]!.flat();
    const firstAdd = paths.findIndex(([, w]) => !w);
    expect(paths.slice(0, firstAdd)).toEqual(before.slice(0, 300).map((r) => [r.prefix, true]));
    expect(paths.slice(firstAdd).map(([p]) => p)).toEqual(hosts(1200).slice(600).map((r) => r.prefix));
  });

  it('an invalid community anywhere in the set rejects apply() before anything is sent', async () => {
    const { fake, backend } = await started();
    await backend.start();
    const routes = hosts(1000, (i) => (i === 700 ? { communities: ['65001:100000'] } : { communities: ['65001:1'] }));
    await expect(backend.apply(desired(...routes))).rejects.toThrow(/65001:100000/);
    expect(fake.streams).toEqual([]);
    expect(fake.unary).toEqual([]);
    // Nothing was sent, so the daemon's state is still known: the next apply needs no ListPath.
    await backend.apply(desired(...hosts(3)));
    expect(fake.listPaths).toBe(2);
    expect(fake.unary).toHaveLength(3);
  });

  it('a stream the daemon fails rejects apply(); the next apply repairs from ListPath', async () => {
    const { fake, backend } = await started();
    await backend.start();
    fake.failStreams = true;
    await expect(backend.apply(desired(...hosts(2000)))).rejects.toMatchObject({ code: 'GOBGP_RPC_FAILED' });
    fake.failStreams = false;
    const lists = fake.listPaths;
    await backend.apply(desired(...hosts(2000)));
    expect(fake.listPaths).toBe(lists + 2);
    expect(fake.streams.at(-1)!.flat()).toHaveLength(2000);
  });

  it('resync() before the first apply refreshes the snapshot: what a predecessor left since connect is withdrawn too', async () => {
    const { fake, backend } = await started();
    await backend.start();
    fake.rib = [listed('192.0.2.202/32', true)];
    await backend.resync();
    expect(fake.listPaths).toBe(4);
    await backend.apply(desired(hosts(1)[0]!));
    expect(fake.unary).toEqual([
      { rpc: 'DeletePath', prefix: '192.0.2.202/32' },
      { rpc: 'AddPath', prefix: hosts(1)[0]!.prefix },
    ]);
  });
});
