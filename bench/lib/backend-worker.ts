/**
 * Runs one of vipcast's backend classes in a worker thread for the bulk benchmark, so that its
 * synchronous work (encoding 100,000 paths) cannot delay the main thread's polling of BIRD:
 * in one event loop the poller would see nothing until apply() yields, and "first route seen"
 * would be meaningless. Messages: {cmd:'start'} -> {ok}, {cmd:'apply', prefixes} -> {ok},
 * {cmd:'resync'} -> {ok: {ms}} (timed inside the worker), {cmd:'stop'} -> {ok}; failures come
 * back as {error}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { createBackend } from '../../src/backend/create.js';
import type { BgpBackend, VipRoute } from '../../src/backend/types.js';
import { parseConfig } from '../../src/config/load.js';

interface Init {
  yaml: string;
  file: string;
}

const { yaml, file } = workerData as Init;
let backend: BgpBackend | undefined;

function route(i: number, prefix: string): VipRoute {
  return { vip: `v${i}`, prefix, family: 'ipv4', attributes: { origin: 'igp', asPathPrepend: 0, communities: [], largeCommunities: [], extendedCommunities: [] } };
}

async function handle(msg: { cmd: string; prefixes?: string[] }): Promise<unknown> {
  if (msg.cmd === 'start') {
    backend = await createBackend(parseConfig(yaml, file), pino({ level: 'warn' }));
    await backend.start();
    return { kind: backend.kind };
  }
  if (!backend) throw new Error('backend not started');
  if (msg.cmd === 'apply') {
    await backend.apply(new Map((msg.prefixes ?? []).map((p, i) => [p, route(i, p)])));
    return {};
  }
  if (msg.cmd === 'resync') {
    const t0 = performance.now();
    await backend.resync();
    return { ms: performance.now() - t0 };
  }
  if (msg.cmd === 'stop') {
    await backend.stop('benchmark done');
    return {};
  }
  throw new Error(`unknown command ${msg.cmd}`);
}

parentPort?.on('message', (msg: { cmd: string; prefixes?: string[] }) => {
  handle(msg).then(
    (r) => parentPort?.postMessage({ ok: r }),
    (err: unknown) => parentPort?.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});
