/**
 * Loopback addresses and ports for tests. Every test gets its own 127.x.y.z addresses so that
 * test files running in parallel (one fork per worker) never collide, and ports come from the
 * kernel. Traffic never leaves the machine.
 */
import { createServer } from 'node:net';

const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 1) % 50;
let counter = (process.pid % 200) * 256;

/** A fresh loopback address such as 127.12.3.4 (never 127.0.0.1, which daemons like to own). */
export function loopbackAddress(): string {
  counter = (counter + 1) % 65_000;
  return `127.${100 + worker}.${(counter >> 8) & 255}.${(counter & 255) || 1}`;
}

/** A TCP port that was free a moment ago on `host`. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
