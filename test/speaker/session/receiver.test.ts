/**
 * Receive-only mode (`vipcast listen`) fed by the speaker itself (vipcast -> vipcast, as in the
 * README quickstart): each announced and withdrawn route is reported once, with its attributes.
 * Also the --peer parser of the CLI command.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parsePeer } from '../../../src/cli/commands/listen.js';
import { silentLogger } from '../../../src/log/logger.js';
import { Receiver } from '../../../src/speaker/listen/receiver.js';
import { formatText, type RouteEvent } from '../../../src/speaker/listen/route-format.js';
import { freePort, loopbackAddress } from '../../harness/net.js';
import { waitFor } from '../../harness/wait.js';
import { desired, neighbor, speaker, vip } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe('vipcast listen (receive-only)', () => {
  it('prints what a vipcast speaker announces and withdraws, with attributes', async () => {
    const listenAddr = loopbackAddress();
    const speakerAddr = loopbackAddress();
    const events: RouteEvent[] = [];
    const receiver = new Receiver({
      localAs: 65000,
      routerId: '10.9.9.9',
      listen: { address: listenAddr, port: 0 },
      peers: [],
      holdTimeSec: 9,
      logger: silentLogger,
      onRoute: (e) => events.push(e),
    });
    await receiver.start();
    cleanups.push(() => receiver.stop());
    const s = speaker({
      localAs: 4200000001,
      nextHop: { ipv6: 'fd00::1' },
      neighbors: [neighbor({ address: listenAddr, port: receiver.port!, remoteAs: 65000, localAddress: speakerAddr })],
    });
    cleanups.push(() => s.stop('test over'));
    await s.apply(
      desired(
        vip('192.0.2.10/32', { med: 10, asPathPrepend: 1, communities: ['65001:100'], largeCommunities: ['4200000001:1:2'], extendedCommunities: ['rt:65001:7'] }),
        vip('2001:db8::10/128', {}, 'v6'),
      ),
    );
    await s.start();
    await waitFor(() => events.filter((e) => e.type === 'eor').length === 2, { what: 'End-of-RIB for both families' });
    const v4 = events.find((e) => e.prefix === '192.0.2.10/32')!;
    expect(v4).toMatchObject({
      type: 'announce',
      peer: speakerAddr,
      peer_as: 4200000001,
      family: 'ipv4',
      next_hop: speakerAddr,
      origin: 'igp',
      as_path: [4200000001, 4200000001],
      med: 10,
      communities: ['65001:100'],
      large_communities: ['4200000001:1:2'],
      extended_communities: ['0002fde900000007'],
    });
    expect(formatText(v4)).toBe(
      `announce 192.0.2.10/32 from ${speakerAddr} AS4200000001 next-hop ${speakerAddr} as-path 4200000001 4200000001 origin igp med 10 ` +
        'communities 65001:100 large-communities 4200000001:1:2 extended-communities 0002fde900000007',
    );
    expect(events.find((e) => e.prefix === '2001:db8::10/128')).toMatchObject({ type: 'announce', family: 'ipv6', next_hop: 'fd00::1' });

    await s.apply(desired(vip('2001:db8::10/128', {}, 'v6')));
    await waitFor(() => events.some((e) => e.type === 'withdraw' && e.prefix === '192.0.2.10/32'), { what: 'withdrawal printed' });
    expect(events.filter((e) => e.prefix === '192.0.2.10/32').map((e) => e.type)).toEqual(['announce', 'withdraw']);
    expect(receiver.peers()[0]).toMatchObject({ address: speakerAddr, remoteAs: 4200000001, state: 'established' });
  });

  it('connects actively to a --peer and checks its AS', async () => {
    const listenAddr = loopbackAddress();
    const receiverAddr = loopbackAddress();
    const s = speaker({
      localAs: 65001,
      neighbors: [neighbor({ address: receiverAddr, remoteAs: 65000, passive: true })],
      listen: { address: listenAddr, port: 0 },
    });
    cleanups.push(() => s.stop('test over'));
    await s.apply(desired(vip('192.0.2.11/32')));
    await s.start();
    const events: RouteEvent[] = [];
    // The receiver binds its outgoing connection to receiverAddr through the neighbor spec it
    // builds; here the speaker accepts from receiverAddr only, so the connection must come from it.
    const receiver = new Receiver({
      localAs: 65000,
      routerId: '10.9.9.8',
      peers: [{ address: listenAddr, port: s.listenPort!, remoteAs: 65001, localAddress: receiverAddr }],
      holdTimeSec: 9,
      logger: silentLogger,
      onRoute: (e) => events.push(e),
    });
    await receiver.start();
    cleanups.push(() => receiver.stop());
    await waitFor(() => events.some((e) => e.prefix === '192.0.2.11/32'), { what: 'route from the actively connected peer' });
  });

  it('parses --peer ADDR[:port],AS', () => {
    expect(parsePeer('10.0.0.1,65001')).toEqual({ address: '10.0.0.1', port: 179, remoteAs: 65001 });
    expect(parsePeer('10.0.0.1:1790,4200000001')).toEqual({ address: '10.0.0.1', port: 1790, remoteAs: 4200000001 });
    expect(parsePeer('[2001:db8::1]:1790,65001')).toEqual({ address: '2001:db8::1', port: 1790, remoteAs: 65001 });
    expect(parsePeer('2001:db8::1,65001')).toEqual({ address: '2001:db8::1', port: 179, remoteAs: 65001 });
    expect(() => parsePeer('10.0.0.1')).toThrow(/ADDR/);
    expect(() => parsePeer('nonsense,65001')).toThrow(/not an IP/);
    expect(() => parsePeer('10.0.0.1,0')).toThrow(/AS/);
  });
});

describe('vipcast listen command', () => {
  it('prints JSON lines for the routes a speaker announces and stops on SIGINT', async () => {
    const { Command } = await import('commander');
    const { registerListen } = await import('../../../src/cli/commands/listen.js');
    const addr = loopbackAddress();
    const port = await freePort(addr);
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const spy = (chunk: string | Uint8Array): boolean => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    };
    process.stdout.write = spy;
    cleanups.push(() => Promise.resolve((process.stdout.write = write)));
    const program = new Command('vipcast').exitOverride();
    registerListen(program);
    const running = program.parseAsync(['node', 'vipcast', 'listen', '--local-as', '65000', '--router-id', '10.9.9.7', '--address', addr, '--port', String(port), '--json', '--log-level', 'silent']);
    const s = speaker({ localAs: 65001, neighbors: [neighbor({ address: addr, port, remoteAs: 65000 })] });
    cleanups.push(() => s.stop('test over'));
    await s.apply(desired(vip('192.0.2.12/32', { communities: ['65001:12'] })));
    await s.start();
    const line = await waitFor(() => lines.find((l) => l.includes('192.0.2.12/32')), { what: 'the route printed as JSON' });
    expect(JSON.parse(line)).toMatchObject({ type: 'announce', prefix: '192.0.2.12/32', peer_as: 65001, as_path: [65001], communities: ['65001:12'] });
    expect(lines.some((l) => JSON.parse(l).type === 'peer' && JSON.parse(l).state === 'established')).toBe(true);
    process.emit('SIGINT');
    await running;
    await waitFor(() => s.peers()[0]!.reason?.includes('vipcast listen stopping'), { what: 'the speaker to see our shutdown' });
  });
});
