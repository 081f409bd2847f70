/**
 * GoBGP (Debian gobgpd 3.10, API v3 `apipb.GobgpApi`) as a peer under test, driven the ways its
 * users drive it: the `gobgp` CLI (one process per prefix), unary AddPath, and AddPathStream.
 * Paths travel as raw BGP bytes (nlri_binary, pattrs_binary), the form vipcast's GoBGP backend
 * uses too (proto/gobgp/NOTE.md), so the baseline and vipcast pay the same encoding cost.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startDaemon, type Daemon } from './proc.js';
import { freePort } from './router.js';
import type { Router } from './router.js';
import { waitFor } from '../../test/harness/wait.js';

const run = promisify(execFile);
export const GOBGPD_BIN = '/usr/bin/gobgpd';
export const GOBGP_CLI = '/usr/bin/gobgp';

/** Repository root, from dist/bench/lib or bench/lib. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), fileURLToPath(import.meta.url).includes('/dist/') ? '../../..' : '../..');
const PROTO_V3 = join(ROOT, 'proto/gobgp/v3/gobgp.proto');

export interface GobgpInstance {
  daemon: Daemon;
  apiPort: number;
  client: grpc.Client & Record<string, unknown>;
}

/**
 * Starts gobgpd with a global config (AS, router id; a BGP listener on `listenPort` when given,
 * for BIRD to connect to: see PeerSpec.activePort) and, if `router` is given, the router as its
 * neighbor on the router's port. `bare`: no config file at all, for
 * vipcast's `gobgp.manage: true` to configure (StartBgp, AddPeer) as in a sidecar.
 */
export async function startGobgpd(
  dir: string,
  opts: { localAddress: string; localAs: number; router?: Router; bare?: boolean; listenPort?: number },
): Promise<GobgpInstance> {
  const apiPort = await freePort('127.0.0.1');
  const conf = join(dir, 'gobgpd.toml');
  const listen = opts.listenPort ? [`  port = ${opts.listenPort}`, `  local-address-list = ["${opts.localAddress}"]`] : ['  port = -1'];
  const lines = ['[global.config]', `  as = ${opts.localAs}`, `  router-id = "${opts.localAddress}"`, ...listen];
  if (opts.router) {
    lines.push(
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${opts.router.address}"`,
      '    peer-as = 65000',
      '  [neighbors.transport.config]',
      `    local-address = "${opts.localAddress}"`,
      `    remote-port = ${opts.router.port}`,
      // Retry the connection every second (default 120 s with a random initial delay): the
      // session set-up is not what the benchmarks time, but it would dominate a quick run.
      '  [neighbors.timers.config]',
      '    connect-retry = 1',
      '  [neighbors.ebgp-multihop.config]',
      '    enabled = true',
      '    multihop-ttl = 2',
    );
  }
  await writeFile(conf, lines.join('\n') + '\n');
  const fileArgs = opts.bare ? [] : ['-f', conf];
  const daemon = startDaemon('gobgpd', GOBGPD_BIN, [...fileArgs, '--api-hosts', `127.0.0.1:${apiPort}`, '-l', 'warn', '--pprof-disable'], join(dir, 'gobgpd.log'));
  const client = gobgpClient(`127.0.0.1:${apiPort}`);
  await waitFor(async () => (await unary(client, 'GetBgp', {}, 2_000)) !== undefined, { timeoutMs: 15_000, intervalMs: 100, what: 'gobgpd API' });
  return { daemon, apiPort, client };
}

let serviceCtor: grpc.ServiceClientConstructor | undefined;

export function gobgpClient(address: string): grpc.Client & Record<string, unknown> {
  if (!serviceCtor) {
    const def = protoLoader.loadSync(PROTO_V3, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { apipb: { GobgpApi: grpc.ServiceClientConstructor } };
    serviceCtor = pkg.apipb.GobgpApi;
  }
  const Ctor = serviceCtor;
  return new Ctor(address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 << 20 });
}

type UnaryFn = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;

export function unary(client: grpc.Client & Record<string, unknown>, method: string, req: unknown, deadlineMs = 30_000): Promise<unknown> {
  const fn = client[method] as UnaryFn;
  return new Promise((resolve, reject) => {
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(new Error(`${method}: ${err.message}`)) : resolve(res)));
  });
}

const FAMILY_V4 = { afi: 'AFI_IP', safi: 'SAFI_UNICAST' };

/** ORIGIN IGP and NEXT_HOP as raw attribute bytes. */
function pattrs(nextHop: string): Buffer[] {
  return [Buffer.from([0x40, 1, 1, 0]), Buffer.from([0x40, 3, 4, ...nextHop.split('.').map(Number)])];
}

function binaryPath(prefix: string, nextHop: string, withdraw = false): Record<string, unknown> {
  const [addr, len] = prefix.split('/');
  const bits = Number(len);
  const bytes = addr!.split('.').map(Number).slice(0, Math.ceil(bits / 8));
  return { family: FAMILY_V4, nlri_binary: Buffer.from([bits, ...bytes]), pattrs_binary: pattrs(nextHop), is_withdraw: withdraw };
}

/** All prefixes through one AddPathStream call, `batch` paths per stream message. */
export async function addPathStream(client: grpc.Client & Record<string, unknown>, prefixes: readonly string[], nextHop: string, batch = 1_000, withdraw = false): Promise<void> {
  const fn = client.AddPathStream as (meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void) => grpc.ClientWritableStream<unknown>;
  await new Promise<void>((resolve, reject) => {
    const stream = fn.call(client, new grpc.Metadata(), { deadline: Date.now() + 600_000 }, (err) => (err ? reject(new Error(`AddPathStream: ${err.message}`)) : resolve()));
    void writeBatches(stream, prefixes, nextHop, batch, withdraw).then(
      () => stream.end(),
      (err: unknown) => reject(err as Error),
    );
  });
}

async function writeBatches(stream: grpc.ClientWritableStream<unknown>, prefixes: readonly string[], nextHop: string, batch: number, withdraw: boolean): Promise<void> {
  for (let i = 0; i < prefixes.length; i += batch) {
    const paths = prefixes.slice(i, i + batch).map((p) => binaryPath(p, nextHop, withdraw));
    // Respect back-pressure so memory stays bounded at 100,000 paths.
    if (!stream.write({ table_type: 'GLOBAL', paths })) await new Promise((r) => stream.once('drain', r));
  }
}

/** Unary AddPath (or DeletePath) per prefix with `inFlight` calls outstanding. */
export async function unaryPaths(client: grpc.Client & Record<string, unknown>, method: 'AddPath' | 'DeletePath', prefixes: readonly string[], nextHop: string, inFlight = 64): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < prefixes.length) {
      const p = prefixes[next++]!;
      await unary(client, method, { table_type: 'GLOBAL', path: binaryPath(p, nextHop, method === 'DeletePath') });
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, prefixes.length) }, worker));
}

/** `gobgp global rib add PREFIX` per prefix, `parallel` CLI processes at a time. */
export async function cliAddPaths(apiPort: number, prefixes: readonly string[], nextHop: string, parallel = 4): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < prefixes.length) {
      const p = prefixes[next++]!;
      await run(GOBGP_CLI, ['-p', String(apiPort), 'global', 'rib', 'add', p, 'nexthop', nextHop, 'origin', 'igp'], { timeout: 30_000 });
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, prefixes.length) }, worker));
}

/** Reads the whole global ipv4 table with ListPath; returns the number of destinations and the prefixes. */
export async function listPaths(client: grpc.Client & Record<string, unknown>, binaryOnly: boolean): Promise<Map<string, Buffer[]>> {
  const fn = client.ListPath as (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientReadableStream<{ destination: { prefix: string; paths: { pattrs_binary: Buffer[] }[] } }>;
  const stream = fn.call(client, { table_type: 'GLOBAL', family: FAMILY_V4, enable_only_binary: binaryOnly }, new grpc.Metadata(), { deadline: Date.now() + 300_000 });
  const out = new Map<string, Buffer[]>();
  for await (const res of stream) {
    const d = (res as { destination: { prefix: string; paths: { pattrs_binary: Buffer[] }[] } }).destination;
    out.set(d.prefix, d.paths[0]?.pattrs_binary ?? []);
  }
  return out;
}

export function closeClient(client: grpc.Client): void {
  client.close();
}
