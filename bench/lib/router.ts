/**
 * The router under observation: a real BIRD 2 (the test harness's daemon) configured with one
 * passive BGP protocol per speaker being measured, plus a kept-open control socket.
 *
 * Failover timing reads BIRD's own log: with `timeformat log "%s.%6f"` and route tracing on a
 * protocol, BIRD stamps the moment it removes a route from its table with its wall clock.
 * Subtracting the wall-clock instant of the kill gives the latency without a polling loop that
 * would steal CPU from the processes being measured. Resolution: 1 ms (both clocks are the
 * same system clock; BIRD's log stamp is taken in the event-loop iteration that removes it).
 */
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { Bird } from '../../test/harness/bird.js';
import { loopbackAddress, freePort } from '../../test/harness/net.js';
import { sleep } from '../../test/harness/wait.js';
import { BirdCtl } from './birdctl.js';

export const ROUTER_AS = 65000;

export interface PeerSpec {
  /** BIRD protocol name. */
  name: string;
  /** The speaker's address (BIRD's neighbor). */
  address: string;
  as: number;
  /** Trace route changes in the log (failover); off for bulk (100,000 log lines would skew it). */
  traceRoutes: boolean;
  /**
   * BIRD connects to the speaker on this port instead of waiting passively. For gobgpd, whose
   * first outgoing attempt comes 5-10 s after a neighbor is added (a hard-coded minimum).
   */
  activePort?: number;
}

export class Router {
  private constructor(
    readonly bird: Bird,
    readonly ctl: BirdCtl,
    readonly address: string,
    readonly port: number,
  ) {}

  /**
   * A free port can be taken by someone else between freePort() and BIRD's bind (the machine
   * is shared), and BIRD then runs without its listener. So check that it accepts, and start
   * over on a fresh address and port if not (3 attempts).
   */
  static async start(peers: PeerSpec[]): Promise<Router> {
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const router = await Router.startOnce(peers);
      if (await accepts(router.address, router.port)) return router;
      lastError = new Error(`BIRD is not accepting on ${router.address}:${router.port} (log: ${(await router.bird.log()).slice(-500)})`);
      await router.stop();
    }
    throw lastError ?? new Error('BIRD did not start');
  }

  private static async startOnce(peers: PeerSpec[]): Promise<Router> {
    const address = loopbackAddress();
    const port = await freePort(address);
    // BIRD ignores lo (host scope), so the speakers' 127.x next hops stay unresolved: routes are
    // in the RIB as "unreachable". Nothing is exported to the kernel; the RIB is what we time.
    const protocols = peers.map((p) => protocolConfig(p, address, port));
    const bird = await Bird.start({ routerId: address, config: ['timeformat log "%s.%6f";', ...protocols].join('\n') });
    const ctl = await BirdCtl.connect(bird.socket);
    return new Router(bird, ctl, address, port);
  }

  async stop(): Promise<void> {
    this.ctl.close();
    await this.bird.stop();
  }

  async established(protocol: string): Promise<boolean> {
    const r = await this.ctl.command(`show protocols ${protocol}`);
    return /Established/.test(r.text);
  }

  /**
   * Polls until `protocol` holds `count` routes; returns the performance.now() of the first poll
   * that saw it. Bounded by `timeoutMs`; `intervalMs` is the resolution.
   */
  async waitCount(protocol: string, count: number, timeoutMs: number, intervalMs = 5): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    let last = -1;
    while (performance.now() < deadline) {
      last = await this.ctl.routeCount(protocol);
      if (last === count) return performance.now();
      await sleep(intervalMs);
    }
    throw new Error(`${protocol}: ${last} routes in BIRD after ${timeoutMs} ms, expected ${count}`);
  }

  /** Byte offset of the end of BIRD's log now: later searches start here. */
  async logMark(): Promise<number> {
    return Buffer.byteLength(await this.bird.log());
  }

  /**
   * Epoch milliseconds at which BIRD logged `event` ("added"/"removed") for `prefix` from
   * `protocol` after log offset `mark`; polls the log file every 20 ms, bounded.
   */
  async waitRouteEvent(protocol: string, prefix: string, event: 'added' | 'removed', mark: number, timeoutMs: number): Promise<number> {
    const re = new RegExp(`^(\\d+\\.\\d+) <TRACE> ${protocol}\\.ipv4 [<>] ${event} \\S* ?${prefix.replace(/\./g, '\\.')}\\b`, 'm');
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const text = (await readFile(this.bird.logFile)).subarray(mark).toString();
      const m = re.exec(text);
      if (m?.[1]) return Number(m[1]) * 1000;
      await sleep(20);
    }
    throw new Error(`BIRD did not log "${event}" for ${prefix} from ${protocol} within ${timeoutMs} ms`);
  }
}

function protocolConfig(p: PeerSpec, address: string, port: number): string {
  return [
    `protocol bgp ${p.name} {`,
    `  local ${address} port ${port} as ${ROUTER_AS};`,
    `  neighbor ${p.address}${p.activePort ? ` port ${p.activePort}` : ''} as ${p.as};`,
    // Loopback peers are not on a shared subnet BIRD would call directly connected.
    '  multihop;',
    // Listen on this address only: a wildcard bind of the port can collide with another loopback socket.
    '  strict bind yes;',
    ...(p.activePort ? ['  start delay time 0;', '  connect retry time 1;', '  connect delay time 1;'] : ['  passive;']),
    `  debug { states${p.traceRoutes ? ', routes' : ''} };`,
    '  ipv4 { import all; export none; };',
    '}',
  ].join('\n');
}

export { loopbackAddress, freePort };

export interface FillTiming {
  /** performance.now() of the first poll that saw at least one route (or `count` reach 0 for a drain). */
  firstAt: number;
  /** performance.now() of the first poll that saw the target. */
  doneAt: number;
}

/**
 * Polls the O(1) imported-routes counter every `intervalMs` (the resolution) until it equals
 * `target`, noting when it first moved away from `from`. Bounded by `timeoutMs`.
 */
export async function watchCount(router: Router, protocol: string, from: number, target: number, timeoutMs: number, intervalMs = 2): Promise<FillTiming> {
  const deadline = performance.now() + timeoutMs;
  let firstAt: number | undefined;
  let last = from;
  while (performance.now() < deadline) {
    last = await router.ctl.routeCount(protocol);
    const now = performance.now();
    if (firstAt === undefined && last !== from) firstAt = now;
    if (last === target) return { firstAt: firstAt ?? now, doneAt: now };
    await sleep(intervalMs);
  }
  throw new Error(`${protocol}: ${last} routes in BIRD after ${timeoutMs} ms, expected ${target}`);
}

/** Whether something accepts TCP connections on host:port (one attempt, 2 s bound). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 2_000);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
