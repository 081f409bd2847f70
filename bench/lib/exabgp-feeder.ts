/**
 * An ExaBGP API process for the bulk benchmark: writes the commands in FILE (one per line) to
 * ExaBGP on stdout, honouring back-pressure, and drains ExaBGP's acks on stdin so the ack pipe
 * never fills (the ~13,000-route stall). Exits when ExaBGP closes stdin, or after MAX_SEC.
 * Usage: node exabgp-feeder.js FILE MAX_SEC
 */
import { createReadStream } from 'node:fs';

const [file, maxSec = '600'] = process.argv.slice(2);
if (!file) throw new Error('usage: exabgp-feeder.js FILE MAX_SEC');

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
setTimeout(() => process.exit(0), Number(maxSec) * 1000).unref();
// Keep the process alive while ExaBGP runs (stdin is the lifeline; the timer is the bound).
setInterval(() => undefined, 60_000);
createReadStream(file).pipe(process.stdout);
