/**
 * The gRPC call policy of the GoBGP client: every call has a deadline, only idempotent calls are
 * retried (with backoff) on transient codes, and every error names the RPC and carries the
 * daemon's message.
 *
 * Transient failures and calls that never answer cannot be provoked on demand in a real gobgpd,
 * so those run against a stand-in server built from the vendored v4 protos (grpc-js); what a real
 * daemon says when it refuses a call is checked against each GoBGP version.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  credentials,
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
import { GobgpClient, DEFAULT_TIMEOUTS } from '../../src/gobgp/api/client.js';
import { connect } from '../../src/gobgp/api/detect.js';
import { loadGeneration } from '../../src/gobgp/api/generation.js';
import { GobgpError } from '../../src/gobgp/errors.js';
import { desiredPath } from '../../src/gobgp/paths.js';
import { neighborToPeer } from '../../src/gobgp/peers.js';
import { Gobgpd, gobgpVersions } from '../harness/gobgpd.js';
import { loopbackAddress } from '../harness/net.js';
import { neighbor, vip } from './fixtures.js';

/** What the stand-in does with each call of one RPC: 'ok', a gRPC status code to fail with, or 'hang'. */
type Script = Array<'ok' | 'hang' | number>;

interface Standin {
  server: Server;
  address: string;
  /** Times (ms since epoch) each RPC was called. */
  calls: Map<string, number[]>;
  script: Map<string, Script>;
}

async function standin(): Promise<Standin> {
  const def = loadGeneration('v4')['api.GoBgpService'] as ServiceDefinition;
  const s: Standin = { server: new Server(), address: '', calls: new Map(), script: new Map() };
  const next = (rpc: string): 'ok' | 'hang' | number => {
    s.calls.set(rpc, [...(s.calls.get(rpc) ?? []), Date.now()]);
    return s.script.get(rpc)?.shift() ?? 'ok';
  };
  const unary = (rpc: string) => (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => {
    const step = next(rpc);
    if (step === 'hang') return; // never answers: only the client's deadline ends the call
    if (step === 'ok') return cb(null, {});
    cb({ code: step, details: `stand-in ${rpc} refused (${step})` });
  };
  const impl: UntypedServiceImplementation = {
    GetBgp: unary('GetBgp'),
    StartBgp: unary('StartBgp'),
    AddPeer: unary('AddPeer'),
    UpdatePeer: unary('UpdatePeer'),
    DeletePeer: unary('DeletePeer'),
    AddPath: unary('AddPath'),
    DeletePath: unary('DeletePath'),
    ListPath: (call: ServerWritableStream<unknown, unknown>) => {
      if (next('ListPath') === 'hang') return;
      call.end();
    },
    AddPathStream: (call: ServerReadableStream<unknown, unknown>, cb: sendUnaryData<unknown>) => {
      const step = next('AddPathStream');
      call.on('data', () => undefined);
      call.on('end', () => {
        if (step !== 'hang') cb(null, {});
      });
    },
  };
  s.server.addService(def, impl);
  const port = await new Promise<number>((resolve, reject) => s.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  s.address = `127.0.0.1:${port}`;
  return s;
}

const path = desiredPath(vip('192.0.2.40/32'), { localAs: 65001, nextHop: {} }).path;
const peer = neighborToPeer(neighbor('127.0.0.9', 179, '127.0.0.1'), undefined);

async function failure(p: Promise<unknown>): Promise<GobgpError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GobgpError);
  return err as GobgpError;
}

describe('GoBGP client call policy (stand-in server)', () => {
  let s: Standin | undefined;
  let client: GobgpClient | undefined;
  afterEach(() => {
    client?.close();
    s?.server.forceShutdown();
  });

  async function setup(timeouts = DEFAULT_TIMEOUTS): Promise<{ s: Standin; client: GobgpClient }> {
    s = await standin();
    client = new GobgpClient(s.address, 'v4', credentials.createInsecure(), timeouts);
    return { s, client };
  }

  it('idempotent calls (AddPath, DeletePath, UpdatePeer, GetBgp) are retried on UNAVAILABLE with growing pauses', async () => {
    const { s, client } = await setup();
    s.script.set('AddPath', [status.UNAVAILABLE, status.UNAVAILABLE, 'ok']);
    await client.addPath(path);
    const t = s.calls.get('AddPath')!;
    expect(t).toHaveLength(3);
    // Backoff 100 ms, then 200 ms (timer jitter allowed downwards only by a few ms).
    expect(t[1]! - t[0]!).toBeGreaterThanOrEqual(95);
    expect(t[2]! - t[1]!).toBeGreaterThanOrEqual(195);
    for (const [rpc, call] of [
      ['DeletePath', () => client.deletePath(path)],
      ['UpdatePeer', () => client.updatePeer(peer)],
      ['GetBgp', () => client.getBgp()],
    ] as const) {
      s.script.set(rpc, [status.UNAVAILABLE, 'ok']);
      await call();
      expect(s.calls.get(rpc), rpc).toHaveLength(2);
    }
  });

  it('gives up after 3 attempts and names the RPC with the daemon message', async () => {
    const { s, client } = await setup();
    s.script.set('AddPath', [status.UNAVAILABLE, status.UNAVAILABLE, status.UNAVAILABLE, 'ok']);
    const err = await failure(client.addPath(path));
    expect(s.calls.get('AddPath')).toHaveLength(3);
    expect(err.code).toBe('GOBGP_UNAVAILABLE');
    expect(err.message).toBe('GoBGP AddPath failed: UNAVAILABLE: stand-in AddPath refused (14)');
    expect(err.details).toMatchObject({ rpc: 'AddPath', grpcCode: status.UNAVAILABLE, daemonMessage: 'stand-in AddPath refused (14)' });
  });

  it('UpdatePeer is not repeated after DEADLINE_EXCEEDED (it may have been applied; 3.10 resets the session on each)', async () => {
    const { s, client } = await setup();
    s.script.set('UpdatePeer', [status.DEADLINE_EXCEEDED, 'ok']);
    const err = await failure(client.updatePeer(peer));
    expect(s.calls.get('UpdatePeer')).toHaveLength(1);
    expect(err.details).toMatchObject({ rpc: 'UpdatePeer', grpcCode: status.DEADLINE_EXCEEDED });
  });

  it('a refusal (not transient) is not retried, even for an idempotent call', async () => {
    const { s, client } = await setup();
    s.script.set('AddPath', [status.INVALID_ARGUMENT]);
    const err = await failure(client.addPath(path));
    expect(s.calls.get('AddPath')).toHaveLength(1);
    expect(err).toMatchObject({ code: 'GOBGP_RPC_FAILED', details: { rpc: 'AddPath', grpcCode: status.INVALID_ARGUMENT } });
  });

  it('calls that are not safe to repeat (StartBgp, AddPeer, DeletePeer) are tried once', async () => {
    const { s, client } = await setup();
    for (const [rpc, call] of [
      ['StartBgp', () => client.startBgp({ asn: 65001, router_id: '10.0.0.1', listen_port: -1 })],
      ['AddPeer', () => client.addPeer(peer)],
      ['DeletePeer', () => client.deletePeer('127.0.0.9')],
    ] as const) {
      s.script.set(rpc, [status.UNAVAILABLE, 'ok']);
      const err = await failure(call());
      expect(err.details.rpc).toBe(rpc);
      expect(s.calls.get(rpc), rpc).toHaveLength(1);
    }
  });

  it('a call the daemon never answers ends at its deadline: unary, ListPath and AddPathStream', async () => {
    const { s, client } = await setup({ unaryMs: 300, streamMs: 600 });
    s.script.set('AddPeer', ['hang']);
    let t0 = Date.now();
    let err = await failure(client.addPeer(peer));
    expect(err.message).toMatch(/^GoBGP AddPeer failed: DEADLINE_EXCEEDED/);
    expect(err.code).toBe('GOBGP_UNAVAILABLE');
    expect(Date.now() - t0).toBeLessThan(5_000);

    // Idempotent: three attempts of 300 ms and two pauses, then the error.
    s.script.set('AddPath', ['hang', 'hang', 'hang']);
    t0 = Date.now();
    err = await failure(client.addPath(path));
    const took = Date.now() - t0;
    expect(err.message).toMatch(/^GoBGP AddPath failed: DEADLINE_EXCEEDED/);
    expect(s.calls.get('AddPath')).toHaveLength(3);
    expect(took).toBeGreaterThanOrEqual(3 * 300 + 300 - 50);
    expect(took).toBeLessThan(8_000);

    s.script.set('ListPath', ['hang']);
    err = await failure(client.listPath({ afi: 1, safi: 1 }));
    expect(err.message).toMatch(/^GoBGP ListPath failed: DEADLINE_EXCEEDED/);

    s.script.set('AddPathStream', ['hang']);
    t0 = Date.now();
    err = await failure(client.addPathStream([path]));
    expect(err.message).toMatch(/^GoBGP AddPathStream failed: DEADLINE_EXCEEDED/);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});

describe('GoBGP daemon errors carry the RPC and the daemon message', () => {
  for (const version of gobgpVersions()) {
    describe(`GoBGP ${version.label}`, () => {
      if (!version.binary) {
        it.skip(`skipped: ${version.missing}`, () => undefined);
        return;
      }
      const binary = version.binary;
      let daemon: Gobgpd | undefined;
      afterAll(async () => {
        await daemon?.stop();
      });

      it('AddPeer before StartBgp and a duplicate AddPeer: GOBGP_RPC_FAILED naming AddPeer with the daemon text', async () => {
        daemon = await Gobgpd.start({ binary });
        const { client } = await connect(daemon.apiAddress, version.api, credentials.createInsecure());
        try {
          const p = neighborToPeer(neighbor(loopbackAddress(), 1179, loopbackAddress()), undefined);
          // A bare daemon refuses peers until its global config is started.
          let err = await failure(client.addPeer(p));
          expect(err.code).toBe('GOBGP_RPC_FAILED');
          expect(err.details.rpc).toBe('AddPeer');
          expect(err.details.daemonMessage).toMatch(/not started|hasn't started/i);
          expect(err.message).toContain(`GoBGP AddPeer failed: `);
          expect(err.message).toContain(err.details.daemonMessage);

          await client.startBgp({ asn: 65001, router_id: '10.0.0.1', listen_port: -1 });
          await client.addPeer(p);
          err = await failure(client.addPeer(p));
          expect(err).toMatchObject({ code: 'GOBGP_RPC_FAILED', details: { rpc: 'AddPeer' } });
          expect(err.details.daemonMessage).toMatch(/overwrite|exist/i);
          expect(err.message).toContain(err.details.daemonMessage);
        } finally {
          client.close();
        }
      });
    });
  }
});
