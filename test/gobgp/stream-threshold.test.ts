/**
 * Which RPCs an apply() uses: many changes at once go through one AddPathStream (withdrawals as
 * is_withdraw paths), a few go as unary AddPath/DeletePath. Counting calls needs a server that
 * counts, so this runs against a stand-in built from the vendored v4 protos (grpc-js); that the
 * real daemons take the stream is covered by scale.test.ts and the interop suites.
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
import { STREAM_THRESHOLD } from '../../src/gobgp/stream.js';
import { backendOptions, captureLogger, desired, vip } from './fixtures.js';

interface Counter {
  server: Server;
  address: string;
  unaryAdd: number;
  unaryDelete: number;
  /** One entry per AddPathStream call: the paths it carried. */
  streams: ApiPath[][];
}

async function counter(): Promise<Counter> {
  const def = loadGeneration('v4')['api.GoBgpService'] as ServiceDefinition;
  const c: Counter = { server: new Server(), address: '', unaryAdd: 0, unaryDelete: 0, streams: [] };
  const ok = (count: () => void) => (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => {
    count();
    cb(null, {});
  };
  const impl: UntypedServiceImplementation = {
    GetBgp: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => cb(null, { global: { asn: 65001, router_id: '10.0.0.1' } }),
    ListPeer: (call: ServerWritableStream<unknown, unknown>) => call.end(),
    ListPath: (call: ServerWritableStream<unknown, unknown>) => call.end(),
    AddPath: ok(() => c.unaryAdd++),
    DeletePath: ok(() => c.unaryDelete++),
    AddPathStream: (call: ServerReadableStream<{ paths?: ApiPath[] }, unknown>, cb: sendUnaryData<unknown>) => {
      const paths: ApiPath[] = [];
      call.on('data', (m: { paths?: ApiPath[] }) => paths.push(...(m.paths ?? [])));
      call.on('end', () => {
        c.streams.push(paths);
        cb(null, {});
      });
    },
    WatchEvent: (call: ServerWritableStream<unknown, unknown>) => call.emit('error', { code: status.UNIMPLEMENTED, details: 'not served by the stand-in' }),
  };
  c.server.addService(def, impl);
  const port = await new Promise<number>((resolve, reject) => c.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  c.address = `127.0.0.1:${port}`;
  return c;
}

const routes = (n: number, med = 1) => Array.from({ length: n }, (_, i) => vip(`198.18.${i >> 8}.${i & 255}/32`, { med }));

describe('apply(): AddPathStream for many changes, unary calls for a few', () => {
  let c: Counter | undefined;
  let backend: GobgpBackend | undefined;
  afterEach(() => {
    backend?.detach();
    c?.server.forceShutdown();
  });

  it(`more than ${STREAM_THRESHOLD} changes: one AddPathStream (withdrawals flagged); ${STREAM_THRESHOLD} or fewer: AddPath/DeletePath`, async () => {
    c = await counter();
    const { logger } = captureLogger();
    backend = new GobgpBackend(backendOptions(c.address, { manage: false, logger }));
    await backend.start();
    const many = routes(STREAM_THRESHOLD + 2);
    await backend.apply(desired(...many));
    expect(c.streams).toHaveLength(1);
    expect(c.streams[0]).toHaveLength(STREAM_THRESHOLD + 2);
    expect(c.streams[0]!.every((p) => !p.is_withdraw)).toBe(true);
    expect([c.unaryAdd, c.unaryDelete]).toEqual([0, 0]);

    // A few changes: one withdrawn, one with a new MED.
    const [, second, ...rest] = many;
    await backend.apply(desired({ ...second!, attributes: { ...second!.attributes, med: 9 } }, ...rest));
    expect(c.streams).toHaveLength(1);
    expect([c.unaryAdd, c.unaryDelete]).toEqual([1, 1]);

    // Everything withdrawn at once (one more than the threshold): a stream of withdrawals.
    await backend.apply(desired());
    expect(c.streams).toHaveLength(2);
    expect(c.streams[1]).toHaveLength(STREAM_THRESHOLD + 1);
    expect(c.streams[1]!.every((p) => p.is_withdraw === true)).toBe(true);
  });
});
