/**
 * `vipcast listen`: receive-only BGP speaker that prints what its peers announce and withdraw,
 * one line per route (JSON lines with --json). Serves the README quickstart (vipcast talking to
 * vipcast with nothing else installed), tests, and operators checking what a box announces.
 */
import { isIP } from 'node:net';
import type { Command } from 'commander';
import type { LevelWithSilent } from 'pino';
import type { PeerStatus } from '../../backend/types.js';
import { createLogger } from '../../log/logger.js';
import { Receiver, type ReceiverPeer } from '../../speaker/listen/receiver.js';
import { formatText, type RouteEvent } from '../../speaker/listen/route-format.js';
import { UsageError } from '../options.js';

interface ListenFlags {
  localAs: string;
  routerId: string;
  address: string;
  port: string;
  peer: string[];
  json?: boolean;
  holdTime: string;
  logLevel: string;
}

export function registerListen(program: Command): void {
  program
    .command('listen')
    .description('receive-only BGP speaker: print each route every peer announces and withdraws')
    .requiredOption('--local-as <asn>', 'our AS number (1..4294967295)')
    .requiredOption('--router-id <id>', 'our BGP identifier (IPv4 dotted quad)')
    .option('--address <addr>', 'address to accept sessions on', '::')
    .option('--port <port>', 'TCP port to accept sessions on (0: do not listen)', '179')
    .option('--peer <addr[:port],asn>', 'also connect to this peer (repeatable; [v6addr]:port for IPv6 with a port)', collect, [])
    .option('--json', 'JSON lines instead of text')
    .option('--hold-time <sec>', 'hold time to offer', '90')
    .option('--log-level <level>', 'log level on stderr', 'warn')
    .action(async (flags: ListenFlags) => {
      await runListen(flags);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function int(text: string, min: number, max: number, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`${what} must be an integer in ${min}..${max}, got "${text}"`);
  return Number(text);
}

/** "10.0.0.1,65001", "10.0.0.1:1790,65001", "[2001:db8::1]:1790,65001", "2001:db8::1,65001". */
export function parsePeer(text: string): ReceiverPeer {
  const comma = text.lastIndexOf(',');
  if (comma < 0) throw new UsageError(`--peer "${text}": expected ADDR[:port],AS`);
  const remoteAs = int(text.slice(comma + 1), 1, 0xffffffff, `--peer "${text}" AS`);
  const target = text.slice(0, comma);
  let address = target;
  let port = 179;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(target);
  if (bracket) {
    address = bracket[1]!;
    if (bracket[2]) port = int(bracket[2], 1, 65535, `--peer "${text}" port`);
  } else if (target.split(':').length === 2) {
    [address = '', port = 179] = [target.split(':')[0], int(target.split(':')[1]!, 1, 65535, `--peer "${text}" port`)];
  }
  if (isIP(address) === 0) throw new UsageError(`--peer "${text}": "${address}" is not an IP address`);
  return { address, port, remoteAs };
}

async function runListen(flags: ListenFlags): Promise<void> {
  const localAs = int(flags.localAs, 1, 0xffffffff, '--local-as');
  if (isIP(flags.routerId) !== 4) throw new UsageError(`--router-id must be an IPv4 address, got "${flags.routerId}"`);
  const port = int(flags.port, 0, 65535, '--port');
  const holdTimeSec = int(flags.holdTime, 0, 65535, '--hold-time');
  if (holdTimeSec === 1 || holdTimeSec === 2) throw new UsageError('--hold-time must be 0 or at least 3 (RFC 4271 §4.2)');
  const peers = flags.peer.map(parsePeer);
  if (port === 0 && peers.length === 0) throw new UsageError('nothing to do: --port 0 and no --peer');
  const logger = createLogger({ level: flags.logLevel as LevelWithSilent, format: 'json' });
  const print = (line: string): boolean => process.stdout.write(line + '\n');
  const receiver = new Receiver({
    localAs,
    routerId: flags.routerId,
    listen: port === 0 ? undefined : { address: flags.address, port },
    peers,
    holdTimeSec,
    logger,
    onRoute: (e: RouteEvent) => print(flags.json ? JSON.stringify(e) : formatText(e)),
    onPeer: (p: PeerStatus) =>
      print(
        flags.json
          ? JSON.stringify({ type: 'peer', peer: p.address, peer_as: p.remoteAs, state: p.state, reason: p.reason })
          : `peer ${p.address} AS${p.remoteAs} ${p.state}${p.reason ? ` (${p.reason})` : ''}`,
      ),
  });
  await receiver.start();
  if (port !== 0) process.stderr.write(`vipcast listen: AS${localAs} ${flags.routerId} accepting BGP on ${flags.address} port ${receiver.port}\n`);
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await receiver.stop('vipcast listen stopping');
}
