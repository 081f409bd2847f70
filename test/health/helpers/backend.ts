/**
 * A backend in its own process (tcp, http or grpc health server), so tests can kill -9 it
 * and watch what the kernel does to its connections, exactly as when a real service dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { healthProtoPath } from '../../../src/health/passive/grpc-clients.js';

export type BackendKind = 'tcp' | 'http' | 'grpc';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

// Runs with `node --input-type=module -e` from the repository root, so imports resolve there.
const CODE = String.raw`
const [kind, host, portText, protoPath] = process.argv.slice(1);
const port = Number(portText);
const ready = (p) => process.stdout.write('ready ' + p + '\n');
if (kind === 'tcp') {
  const net = await import('node:net');
  const srv = net.createServer((s) => { s.on('error', () => {}); s.resume(); });
  srv.listen(port, host, () => ready(srv.address().port));
} else if (kind === 'http') {
  const http = await import('node:http');
  const srv = http.createServer((req, res) => res.end('ok'));
  srv.keepAliveTimeout = 600000;
  srv.listen(port, host, () => ready(srv.address().port));
} else {
  const grpc = await import('@grpc/grpc-js');
  const loader = await import('@grpc/proto-loader');
  const def = loader.loadSync(protoPath, { keepCase: true, enums: String, defaults: true });
  const health = grpc.loadPackageDefinition(def).grpc.health.v1;
  const srv = new grpc.Server();
  srv.addService(health.Health.service, {
    Check: (call, cb) => cb(null, { status: 'SERVING' }),
    Watch: (call) => call.write({ status: 'SERVING' }),
  });
  srv.bindAsync(host + ':' + port, grpc.ServerCredentials.createInsecure(), (err, p) => { if (err) throw err; ready(p); });
}
`;

export interface Backend {
  port: number;
  child: ChildProcess;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
}

export async function startBackend(kind: BackendKind, host: string, port = 0): Promise<Backend> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CODE, kind, host, String(port), healthProtoPath()], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const bound = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} backend did not start in 20 s`)), 20_000);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} backend exited with ${code} before it was ready`));
    });
  });
  return {
    port: bound,
    child,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
