/**
 * TCP-MD5 (RFC 2385) between the built-in speaker and a real BIRD 2, which sets TCP_MD5SIG
 * itself on Linux (`password "..."` in its bgp protocol). Everything is asserted from BIRD's own
 * view: `show protocols` (Established or not) and `show route` (our VIP or not).
 *
 * One BIRD with one protocol per case, one speaker with one neighbor per case (neighbors are
 * keyed by address, so each case has its own loopback addresses):
 * - out_ok:   we connect, same password both sides        -> Established, route
 * - in_ok:    BIRD connects to our (dual-stack) listener, same password -> Established
 * - v6_ok:    as out_ok over ::1                            -> Established, IPv6 route
 * - out_bad:  different passwords                          -> never Established, no route
 * - out_ours: password on our side only                    -> never
 * - out_bird: password on BIRD's side only                 -> never
 * - in_bird:  BIRD connects in signed, we have no key       -> never
 * - in_late:  like in_bird until updateNeighbors gives the neighbor its password -> Established
 * "Never" is watched for 10 s after the good sessions are up (so the setup demonstrably works).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NeighborSpec } from '../../../src/backend/types.js';
import type { SpeakerBackend } from '../../../src/speaker/backend.js';
import { Bird, hasBird, parseRoutes } from '../../harness/bird.js';
import { freePort, loopbackAddress } from '../../harness/net.js';
import { sleep, waitFor } from '../../harness/wait.js';
import { LOCAL_AS, NEXT_HOP, PEER_AS, V4, V6 } from '../interop/scenario.js';
import { desired, neighbor, speaker } from '../session/helpers.js';

const SECRET = 'vipcast-md5-secret';
const OTHER = 'not-the-same-secret';
/** How long a session that must not come up is watched. */
const NEVER_MS = 10_000;

interface Case {
  name: string;
  /** BIRD's side. */
  bird: { address: string; port: number; password?: string; active: boolean };
  /** Our side: the neighbor's address is BIRD's, ours is `local`. */
  local: string;
  password?: string;
}

describe.skipIf(!hasBird())('TCP-MD5 with BIRD 2 (built-in speaker)', () => {
  let bird: Bird;
  let s: SpeakerBackend;
  let dir: string;
  let listen: { address: string; port: number };
  const cases = new Map<string, Case>();
  const files = new Map<string, string>();

  const birdProtocol = (c: Case): string => {
    const b = c.bird;
    const ours = b.active ? `neighbor ${c.local} port ${listen.port} as ${LOCAL_AS};` : `neighbor ${c.local} as ${LOCAL_AS};\n  passive on;`;
    return `protocol bgp ${c.name} {
  local ${b.address} port ${b.port} as ${PEER_AS};
  ${ours}${b.password ? `\n  password "${b.password}";` : ''}
  strict bind yes;
  multihop;
  hold time 9;
  connect delay time 1;
  connect retry time 3;
  error wait time 1, 3;
  ipv4 { import all; export none; };
  ipv6 { import all; export none; };
}`;
  };

  const ourNeighbor = (c: Case, password = c.password): NeighborSpec =>
    neighbor({
      address: c.bird.address,
      port: c.bird.active ? 179 : c.bird.port,
      remoteAs: PEER_AS,
      passive: c.bird.active,
      localAddress: c.bird.active ? undefined : c.local,
      holdTimeSec: 9,
      families: ['ipv4', 'ipv6'],
      passwordFile: password === undefined ? undefined : files.get(password),
    });

  /** BIRD's session state; if birdc fails, the error carries the end of BIRD's log. */
  const state = async (name: string): Promise<string> => {
    try {
      return await bird.protocolState(name);
    } catch (err) {
      const tail = (await bird.log()).split('\n').slice(-30).join('\n');
      throw new Error(`birdc failed for ${name}: ${(err as Error).message}\nBIRD log:\n${tail}`, { cause: err });
    }
  };
  const routes = async (name: string, table: string): Promise<string[]> =>
    parseRoutes(await bird.birdc(`show route all table ${table} protocol ${name}`)).map((r) => r.prefix);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vipcast-md5-'));
    for (const [pw, file] of [[SECRET, 'secret'], [OTHER, 'other']] as const) {
      const path = join(dir, file);
      // A trailing newline, as mounted secrets have: trimmed by the reader.
      await writeFile(path, `${pw}\n`, { mode: 0o600 });
      files.set(pw, path);
    }
    // Dual-stack, so that each BIRD protocol connecting in has its own neighbor address (BIRD
    // locks a neighbor address: two protocols to the same one never both start), and IPv4 peers
    // are keyed on an AF_INET6 listener by their IPv4-mapped address.
    listen = { address: '::', port: await freePort('::') };
    const add = async (name: string, active: boolean, birdPw: string | undefined, ourPw: string | undefined, v6 = false): Promise<void> => {
      const address = v6 ? '::1' : loopbackAddress();
      const local = v6 ? '::1' : loopbackAddress();
      cases.set(name, { name, bird: { address, port: await freePort(address), password: birdPw, active }, local, password: ourPw });
    };
    await add('out_ok', false, SECRET, SECRET);
    await add('in_ok', true, SECRET, SECRET);
    await add('v6_ok', false, SECRET, SECRET, true);
    await add('out_bad', false, OTHER, SECRET);
    await add('out_ours', false, undefined, SECRET);
    await add('out_bird', false, SECRET, undefined);
    await add('in_bird', true, SECRET, undefined);
    await add('in_late', true, SECRET, undefined);
    bird = await Bird.start({
      routerId: '10.255.0.7',
      config: [
        'protocol static st4 { ipv4; route 198.18.0.0/15 via "lo"; }',
        'protocol static st6 { ipv6; route fd00::/8 via "lo"; }',
        ...[...cases.values()].map(birdProtocol),
      ].join('\n'),
    });
    s = speaker(
      { localAs: LOCAL_AS, routerId: '10.0.0.7', nextHop: NEXT_HOP, listen, neighbors: [...cases.values()].map((c) => ourNeighbor(c)) },
      { connectRetry: { baseMs: 250, maxMs: 2_000 } },
    );
    await s.apply(desired(V4, V6));
    await s.start();
  }, 60_000);

  afterAll(async () => {
    await s?.stop('test over').catch(() => undefined);
    await bird?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const established = (name: string): Promise<true> =>
    waitFor(async () => (await state(name)) === 'Established' || undefined, { timeoutMs: 45_000, intervalMs: 250, what: `${name} Established at BIRD` });

  it('same password, we connect: Established at BIRD with our VIP', async () => {
    await established('out_ok');
    await waitFor(async () => (await routes('out_ok', 'master4')).includes(V4.prefix), { timeoutMs: 20_000, intervalMs: 250, what: 'the VIP at BIRD' });
  });

  it('same password, BIRD connects to our listener: Established', async () => {
    await established('in_ok');
    await waitFor(async () => (await routes('in_ok', 'master4')).includes(V4.prefix), { timeoutMs: 20_000, intervalMs: 250, what: 'the VIP at BIRD' });
  });

  it('IPv6 (::1) with TCP-MD5: Established with the IPv6 VIP', async () => {
    await established('v6_ok');
    await waitFor(async () => (await routes('v6_ok', 'master6')).includes(V6.prefix), { timeoutMs: 20_000, intervalMs: 250, what: 'the IPv6 VIP at BIRD' });
  });

  it('a wrong password, or a password on one side only: never Established, no route (10 s)', async () => {
    await established('out_ok');
    const never = ['out_bad', 'out_ours', 'out_bird', 'in_bird', 'in_late'];
    const deadline = Date.now() + NEVER_MS;
    const seen = new Map<string, Set<string>>(never.map((n) => [n, new Set()]));
    for (let round = 0; round < 100 && Date.now() < deadline; round++) {
      for (const n of never) seen.get(n)!.add(await state(n));
      await sleep(500);
    }
    for (const n of never) {
      expect([...seen.get(n)!], n).not.toContain('Established');
      expect(await routes(n, 'master4'), n).toEqual([]);
    }
    // Our view agrees: none of them got further than a TCP attempt.
    const ours = new Map(s.peers().map((p) => [p.address, p.state]));
    for (const n of never) expect(ours.get(cases.get(n)!.bird.address), n).not.toBe('established');
  }, 30_000);

  it('updateNeighbors gives a neighbor its password: the running listener takes the signed SYN', async () => {
    expect(await state('in_late')).not.toBe('Established');
    const late = cases.get('in_late')!;
    await s.updateNeighbors([...cases.values()].map((c) => (c === late ? ourNeighbor(c, SECRET) : ourNeighbor(c))));
    await established('in_late');
    await waitFor(async () => (await routes('in_late', 'master4')).includes(V4.prefix), { timeoutMs: 20_000, intervalMs: 250, what: 'the VIP at BIRD' });
    // The others were not touched by the change.
    expect(await state('out_ok')).toBe('Established');
  }, 60_000);
});
