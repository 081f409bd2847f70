// HTTP servers for the health-check cost measurement (measure.ts), in their own process so
// their CPU is not counted as vipcast's. Same behaviour as bench/lib/http-backend.ts: a 200
// "ok" response and a 60 s keep-alive timeout (so idle closes do not fire passive re-checks).
// Usage: node servers.mjs COUNT  -> prints one JSON line with the ports, then serves until
// its stdin closes (the parent exiting, however it exits, ends us too).
import { createServer } from 'node:http';

const count = Math.max(1, Math.min(5_000, Number(process.argv[2] ?? '1')));
const ports = [];
for (let i = 0; i < count; i++) {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    ports.push(server.address().port);
    if (ports.length === count) process.stdout.write(`${JSON.stringify(ports)}\n`);
  });
}
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
