/**
 * The service behind a VIP: a tiny HTTP server, run as its own process so a benchmark can
 * kill -9 or SIGSTOP it the way a real backend dies or hangs. Listens on `count` consecutive
 * ports from `port` (one per VIP in the capacity benchmark) and prints "ready" when all are
 * bound. Usage: node http-backend.js HOST PORT [COUNT]
 */
import { createServer } from 'node:http';

const [host = '127.0.0.1', portArg = '0', countArg = '1'] = process.argv.slice(2);
const first = Number(portArg);
const count = Number(countArg);
let pending = count;

for (let i = 0; i < count; i++) {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
  });
  // Keep-alive connections stay open between checks (event-driven detectors rely on them).
  server.keepAliveTimeout = 60_000;
  server.listen(first + i, host, () => {
    if (--pending === 0) process.stdout.write('ready\n');
  });
  server.on('error', (err) => {
    process.stderr.write(`listen ${host}:${first + i}: ${err.message}\n`);
    process.exit(1);
  });
}
