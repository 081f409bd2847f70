/**
 * Health faults with the built-in speaker (issue 6), asserted at a real BIRD 2: a check target
 * that hangs (accepts TCP, never answers HTTP), answers garbage, flaps every check, or flaps
 * every second (rise/fall and hold_down must keep the route quiet: UPDATEs and withdraws are
 * counted by BIRD), and vipcast itself frozen (SIGSTOP: the event loop, health loop included,
 * stops; the router's hold timer must take the route away).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hasBird } from '../harness/bird.js';
import { freePort } from '../harness/net.js';
import { hasBuild } from '../harness/vipcast.js';
import { sleep, waitFor } from '../harness/wait.js';
import { birdStats, LONG, waitRoute } from './lib/fixture.js';
import { Rig } from './lib/rig.js';

const WEB = '198.51.100.65/32';
const FLAPPY = '198.51.100.66/32';

type Mode = 'ok' | 'hang' | 'garbage' | 'alternate' | 'down';

/** An HTTP check target whose behaviour the test switches. */
class Target {
  mode: Mode = 'ok';
  requests = 0;
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = createServer((req, res) => this.answer(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', () => resolve()));
  }

  private answer(_req: IncomingMessage, res: ServerResponse): void {
    this.requests++;
    switch (this.mode) {
      case 'ok':
        return void res.end('ok');
      case 'down':
        res.statusCode = 503;
        return void res.end('down');
      case 'alternate':
        res.statusCode = this.requests % 2 === 0 ? 200 : 503;
        return void res.end('ok');
      case 'hang':
        return; // never answers; the socket stays open
      case 'garbage':
        res.socket?.write(Buffer.from('\x00\x01garbage\xff\xfe not http at all\r\n\r\n'));
        res.socket?.destroy();
        return;
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const report = (what: string, v: number | string): void => console.info(`[faults] builtin: ${what}: ${v}`);

describe.skipIf(!hasBird() || !hasBuild())('health faults, built-in speaker -> BIRD', () => {
  let rig: Rig;
  const web = new Target();
  const flappy = new Target();

  beforeAll(async () => {
    await web.start();
    await flappy.start();
    rig = await Rig.start({
      tag: 'health',
      vip: WEB,
      holdSec: 3,
      birdHoldSec: 3,
      vips: `vips:
  - name: web
    prefix: ${WEB}
    checks: [{ type: http, url: "http://127.0.0.1:${web.port}/" }]
  - name: flappy
    prefix: ${FLAPPY}
    rise: 3
    fall: 3
    hold_down: 3s
    checks: [{ type: http, url: "http://127.0.0.1:${flappy.port}/" }]`,
    });
    await waitRoute(rig.bird, 'vc', FLAPPY, true, 10_000);
  });

  afterAll(async () => {
    rig?.vipcast.signal('SIGCONT');
    await rig?.stop();
    await web.stop();
    await flappy.stop();
  });

  async function withdrawnAfter(mode: Mode): Promise<number> {
    await waitRoute(rig.bird, 'vc', WEB, true, 10_000);
    const t0 = Date.now();
    web.mode = mode;
    await waitRoute(rig.bird, 'vc', WEB, false, 10_000);
    const ms = Date.now() - t0;
    web.mode = 'ok';
    await waitRoute(rig.bird, 'vc', WEB, true, 10_000);
    return ms;
  }

  it('a target that accepts and never answers: withdrawn within interval + timeout + margin', async () => {
    const ms = await withdrawnAfter('hang');
    report('hung HTTP target (interval 200ms, timeout 150ms, fall 1): withdrawn after ms', ms);
    expect(ms).toBeLessThan(3_000);
  });

  it('a target that answers garbage: withdrawn', async () => {
    const ms = await withdrawnAfter('garbage');
    report('garbage HTTP answer: withdrawn after ms', ms);
    expect(ms).toBeLessThan(3_000);
  });

  it('flapping on every check (200/503 alternating), rise 3 / fall 3: no UPDATE at all', async () => {
    const before = await birdStats(rig.bird, 'vc');
    flappy.mode = 'alternate';
    const requests0 = flappy.requests;
    await sleep(LONG ? 20_000 : 4_000);
    flappy.mode = 'ok';
    const after = await birdStats(rig.bird, 'vc');
    report('alternating checks during the window', flappy.requests - requests0);
    expect(flappy.requests - requests0).toBeGreaterThan(8);
    expect([after.importUpdates - before.importUpdates, after.importWithdraws - before.importWithdraws]).toEqual([0, 0]);
    await waitRoute(rig.bird, 'vc', FLAPPY, true, 1_000);
  });

  it('flapping every second (up 1 s / down 1 s), hold_down 3 s: UPDATEs bounded by the hold-down', async () => {
    const windowMs = LONG ? 30_000 : 9_000;
    const before = await birdStats(rig.bird, 'vc');
    const t0 = Date.now();
    for (let i = 0; Date.now() - t0 < windowMs && i < 1_000; i++) {
      flappy.mode = i % 2 === 0 ? 'down' : 'ok';
      await sleep(1_000);
    }
    flappy.mode = 'ok';
    const after = await birdStats(rig.bird, 'vc');
    // The counting window is what elapsed between the two readings (longer than planned on a loaded box).
    const elapsed = Date.now() - t0;
    const updates = after.importUpdates - before.importUpdates;
    const withdraws = after.importWithdraws - before.importWithdraws;
    report(`flap 1 s for ${elapsed} ms (rise 3, fall 3, hold_down 3s): UPDATEs/withdraws at BIRD`, `${updates}/${withdraws}`);
    // At most one advertisement per hold-down period (+1 for the edge); each withdraw follows an advertisement.
    const bound = Math.ceil(elapsed / 3_000) + 1;
    expect(updates).toBeLessThanOrEqual(bound);
    expect(withdraws).toBeLessThanOrEqual(updates + 1);
    // Back after the flap: hold_down + rise at fast_interval, more if CPU starvation tripped the
    // 200 ms-interval watchdog or the 3 s hold timer meanwhile (both withdraw on purpose).
    await waitRoute(rig.bird, 'vc', FLAPPY, true, 30_000);
  });

  it('vipcast frozen (SIGSTOP, health loop and all): BIRD\'s hold timer (3 s) takes both routes away; SIGCONT brings them back', async () => {
    await waitRoute(rig.bird, 'vc', WEB, true, 10_000);
    const t0 = Date.now();
    rig.vipcast.signal('SIGSTOP');
    let gone: number;
    try {
      await waitRoute(rig.bird, 'vc', WEB, false, 10_000);
      gone = Date.now() - t0;
      // Hold timer expiry is announced with a NOTIFICATION, so graceful restart does not keep the routes.
      expect(await waitFor(async () => !(await rig.bird.routes('master4', 'vc')).some((r) => r.prefix === FLAPPY), { timeoutMs: 1_000 })).toBe(true);
    } finally {
      rig.vipcast.signal('SIGCONT');
    }
    const t1 = Date.now();
    await waitRoute(rig.bird, 'vc', WEB, true, 30_000);
    report('vipcast SIGSTOPped: routes gone at BIRD after ms', gone);
    report('vipcast SIGCONT: routes back after ms', Date.now() - t1);
    expect(gone).toBeLessThan(6_000);
  });
});
