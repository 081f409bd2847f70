/**
 * A tiny authoritative DNS responder over UDP for tests (RFC 1035 §4.1 message format):
 * answers A/AAAA from a zone map, NXDOMAIN for unknown names, SERVFAIL for "servfail.test",
 * and never answers "drop.test" (a timeout).
 */
import { createSocket, type Socket } from 'node:dgram';

export type Zone = Map<string, { A?: string[]; AAAA?: string[] }>;

const TYPE_A = 1;
const TYPE_AAAA = 28;

export interface DnsServer {
  host: string;
  port: number;
  queries: number;
  close(): Promise<void>;
}

export async function startDnsServer(host: string, zone: Zone): Promise<DnsServer> {
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const server: DnsServer = { host, port: 0, queries: 0, close: () => new Promise((resolve) => socket.close(() => resolve())) };
  socket.on('message', (msg, rinfo) => {
    server.queries++;
    const reply = answer(msg, zone);
    if (reply) socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  server.port = socket.address().port;
  return server;
}

function answer(query: Buffer, zone: Zone): Buffer | undefined {
  if (query.length < 12) return undefined;
  // Question: length-prefixed labels, then QTYPE and QCLASS.
  const labels: string[] = [];
  let off = 12;
  for (let guard = 0; guard < 128 && off < query.length; guard++) {
    const len = query[off]!;
    off++;
    if (len === 0) break;
    labels.push(query.subarray(off, off + len).toString('ascii'));
    off += len;
  }
  const qtype = query.readUInt16BE(off);
  const questionEnd = off + 4;
  const name = labels.join('.').toLowerCase();
  if (name === 'drop.test') return undefined;
  const entry = zone.get(name);
  let rcode = 0;
  const rdatas: Buffer[] = [];
  if (name === 'servfail.test') rcode = 2;
  else if (!entry) rcode = 3;
  else if (qtype === TYPE_A) for (const a of entry.A ?? []) rdatas.push(Buffer.from(a.split('.').map(Number)));
  else if (qtype === TYPE_AAAA) for (const a of entry.AAAA ?? []) rdatas.push(ipv6Bytes(a));
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // ID
  const rd = query.readUInt16BE(2) & 0x0100;
  header.writeUInt16BE(0x8000 | 0x0400 | rd | 0x0080 | rcode, 2); // QR, AA, RD, RA, RCODE
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rdatas.length, 6);
  const answers = rdatas.map((rdata) => {
    const rr = Buffer.alloc(12 + rdata.length);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(qtype, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(rdata.length, 10);
    rdata.copy(rr, 12);
    return rr;
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...answers]);
}

function ipv6Bytes(addr: string): Buffer {
  const [head = '', tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = addr.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(Number.parseInt(g, 16), i * 2));
  return buf;
}
