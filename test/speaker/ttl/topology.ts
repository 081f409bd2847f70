/**
 * A three-namespace test network of our own, so that TTL has something to expire on:
 *
 *   A (vipcast) --- R (router, forwarding) --- B (BIRD)
 *   A ------------------ direct link ---------- B
 *
 *   A-R 10.201.1.0/24, fd00:201:1::/64 (A .2-.7 / ::2 ::3, R .254 / ::fe)
 *   R-B 10.201.2.0/24, fd00:201:2::/64 (R .254 / ::fe, B .2-.7 / ::2 ::3)
 *   A-B 10.201.3.0/24                  (A .1 .3 .5, B .2 .4 .6)
 *
 * One address pair per BGP session, because BIRD allows one protocol per neighbor address:
 * across R between A's .n and B's .n, on the direct link between A's .(2k+1) and B's .(2k+2).
 *
 * The prefixes exist only inside these namespaces, which the tests create and delete; names
 * carry the process id so parallel runs never meet. Needs root (ip netns).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const canNetns = process.getuid?.() === 0;

export class Topology {
  readonly a: string;
  readonly r: string;
  readonly b: string;

  /** `name`: what the test file calls it; the process id is added. */
  constructor(name: string) {
    const tag = `${name}-${process.pid}`;
    this.a = `vipcast-${tag}-a`;
    this.r = `vipcast-${tag}-r`;
    this.b = `vipcast-${tag}-b`;
  }

  get namespaces(): string[] {
    return [this.a, this.r, this.b];
  }

  async create(): Promise<void> {
    for (const ns of this.namespaces) {
      await ip('netns', 'add', ns);
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    await this.#link(this.a, 'ar0', this.r, 'ra0');
    await this.#link(this.r, 'rb0', this.b, 'br0');
    await this.#link(this.a, 'ab0', this.b, 'ba0');
    for (const host of [2, 3, 4, 5, 6, 7]) {
      await addr(this.a, 'ar0', `10.201.1.${host}/24`, host <= 3 ? `fd00:201:1::${host}/64` : undefined);
      await addr(this.b, 'br0', `10.201.2.${host}/24`, host <= 3 ? `fd00:201:2::${host}/64` : undefined);
    }
    await addr(this.r, 'ra0', '10.201.1.254/24', 'fd00:201:1::fe/64');
    await addr(this.r, 'rb0', '10.201.2.254/24', 'fd00:201:2::fe/64');
    for (const host of [1, 3, 5]) {
      await addr(this.a, 'ab0', `10.201.3.${host}/24`);
      await addr(this.b, 'ba0', `10.201.3.${host + 1}/24`);
    }
    // A and B reach each other's far subnet through R only.
    await ip('-n', this.a, 'route', 'add', '10.201.2.0/24', 'via', '10.201.1.254');
    await ip('-n', this.a, '-6', 'route', 'add', 'fd00:201:2::/64', 'via', 'fd00:201:1::fe');
    await ip('-n', this.b, 'route', 'add', '10.201.1.0/24', 'via', '10.201.2.254');
    await ip('-n', this.b, '-6', 'route', 'add', 'fd00:201:1::/64', 'via', 'fd00:201:2::fe');
    await run('ip', ['netns', 'exec', this.r, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'], { timeout: 5_000 });
  }

  /** Deletes every namespace of this topology (their veths go with them). */
  async destroy(): Promise<void> {
    for (const ns of this.namespaces) await ip('netns', 'del', ns).catch(() => undefined);
  }

  /** TCP sockets in `ns` as `ss -Htan` prints them (every state: SYN-RECV, ESTAB, ...). */
  async tcpSockets(ns: string): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'ss', '-Htan'], { timeout: 5_000 });
    return stdout;
  }

  async #link(nsA: string, ifA: string, nsB: string, ifB: string): Promise<void> {
    await ip('-n', nsA, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB);
    await ip('-n', nsA, 'link', 'set', ifA, 'up');
    await ip('-n', nsB, 'link', 'set', ifB, 'up');
  }
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args, { timeout: 5_000 });
}

/** nodad: an IPv6 address must be usable at once, not after duplicate address detection. */
async function addr(ns: string, dev: string, v4: string, v6?: string): Promise<void> {
  await ip('-n', ns, 'addr', 'add', v4, 'dev', dev);
  if (v6) await ip('-n', ns, '-6', 'addr', 'add', v6, 'dev', dev, 'nodad');
}
