/**
 * Runs one of vipcast's backend classes in a worker thread for the bulk benchmark, so that its
 * synchronous work (encoding 100,000 paths) cannot delay the main thread's polling of BIRD:
 * in one event loop the poller would see nothing until apply() yields, and "first route seen"
 * would be meaningless. Messages: {cmd:'start', yaml?, file?} -> {ok} (a new backend instance,
 * from the given config or the one the worker was created with), {cmd:'apply', prefixes} -> {ok},
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

interface Message {
  cmd: string;
  prefixes?: string[];
  yaml?: string;
  file?: string;
}

async function handle(msg: Message): Promise<unknown> {
  if (msg.cmd === 'start') {
    if (backend) throw new Error('a backend is running in this worker: stop it first');
    backend = await createBackend(parseConfig(msg.yaml ?? yaml, msg.file ?? file), pino({ level: 'warn' }));
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
    const b = backend;
    backend = undefined;
    await b.stop('benchmark done');
    return {};
  }
  throw new Error(`unknown command ${msg.cmd}`);
}

parentPort?.on('message', (msg: Message) => {
  handle(msg).then(
    (r) => parentPort?.postMessage({ ok: r }),
    (err: unknown) => parentPort?.postMessage({ error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});
