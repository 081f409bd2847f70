/**
 * The GoBGP rig of the fault suite: a real BIRD 2 (protocol "vc", passive) peered with a real
 * gobgpd that `vipcast run` configures over gRPC (`gobgp.manage: true`), one VIP whose tcp check
 * target the test controls. Same shape as test/e2e/gobgp-bird.test.ts: BIRD runs multihop with a
 * static route "via lo" for 198.18.0.0/15 so our configured next hop 198.18.0.3 resolves (GoBGP
 * would otherwise send its 127.x session address, which routers treat as martian).
 */
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Bird } from '../../harness/bird.js';
import { Gobgpd, type GobgpBinary } from '../../harness/gobgpd.js';
import { freePort, loopbackAddress } from '../../harness/net.js';
import { VipcastProcess } from '../../harness/vipcast.js';
import { sleep, waitFor } from '../../harness/wait.js';
import { birdBgpConfig, birdStats, CALM_HEALTH, TcpTarget, tempDir, waitAdmin, waitRoute, webVipBlock, writeText } from './fixture.js';

export interface GobgpRigOptions {
  tag: string;
  binary: GobgpBinary;
  vip: string;
  /** Hold time on both sides (BIRD's protocol and vipcast's bgp.hold_time, which gobgpd gets). */
  holdSec?: number;
  /** Replaces CALM_HEALTH (interval 1 s: no watchdog trips under CPU starvation). */
  health?: string;
  /** Lines appended under the default VIP (indented 4 spaces). */
  vipExtra?: string;
  /** Replaces the default vips: block (given the rig: its targets' addresses). */
  vips?: (rig: GobgpRig) => string;
  /** Replaces the default shutdown section. */
  shutdown?: string;
  /** BIRD's router id (unique per file helps reading BIRD logs). */
  routerId: string;
  /** Extra environment for `vipcast run` (e.g. VIPCAST_FAILPOINTS). */
  env?: NodeJS.ProcessEnv;
}

export class GobgpRig {
  readonly gobgpAddr = loopbackAddress();
  readonly birdAddr = loopbackAddress();
  bird!: Bird;
  birdPort = 0;
  gobgpd!: Gobgpd;
  target!: TcpTarget;
  /** A second check target, for a VIP that stays up while `target` goes down. */
  other!: TcpTarget;
  vipcast!: VipcastProcess;
  dir = '';
  configFile = '';
  adminPort = 0;
  listenPort = 0;
  #n = 0;

  constructor(readonly opts: GobgpRigOptions) {}

  static async start(opts: GobgpRigOptions): Promise<GobgpRig> {
    const rig = new GobgpRig(opts);
    try {
      await rig.#start();
    } catch (err) {
      // afterAll only sees a rig that was returned: clean up what did start, keep the evidence.
      const evidence = await rig.evidence();
      await rig.stop();
      throw new Error(`${(err as Error).message}\n${evidence}`, { cause: err });
    }
    return rig;
  }

  async #start(): Promise<void> {
    const o = this.opts;
    this.dir = await tempDir(o.tag);
    this.target = await TcpTarget.create();
    this.other = await TcpTarget.create();
    // Seen twice in ~15 starts on the loaded shared box: BIRD's passive protocol came up "down,
    // Error: No listening socket" and stayed so (it does not retry the bind). Cause not found (a
    // port taken between freePort() and BIRD's bind is the likely one); a new port fixes it.
    for (let attempt = 0; attempt < 3; attempt++) {
      this.birdPort = await freePort(this.birdAddr);
      this.bird = await Bird.start({
        routerId: o.routerId,
        config:
          'protocol static st4 { ipv4; route 198.18.0.0/15 via "lo"; }\n' +
          birdBgpConfig(this.birdAddr, this.birdPort, [{ name: 'vc', neighbor: this.gobgpAddr, neighborAs: 65001, holdTimeSec: o.holdSec ?? 9 }]),
      });
      await sleep(300);
      if (!(await this.bird.birdc('show protocols all vc')).includes('No listening socket')) break;
      console.warn(`[faults] BIRD on ${this.birdAddr}:${this.birdPort}: no listening socket; retrying with another port`);
      await this.bird.stop();
    }
    this.gobgpd = await Gobgpd.start({ binary: o.binary });
    this.listenPort = await freePort(this.gobgpAddr);
    this.adminPort = await freePort();
    this.configFile = await writeText(this.dir, 'vipcast.yaml', this.config());
    this.launch();
    await waitAdmin(this.vipcast, this.adminPort);
    await waitRoute(this.bird, 'vc', o.vip, true, 30_000);
  }

  /** The config text; `vipBlock` replaces the whole vips: list when given. */
  config(vipBlock?: string): string {
    const o = this.opts;
    return `
bgp:
  local_as: 65001
  router_id: ${this.gobgpAddr}
  gobgp_address: ${this.gobgpd.apiAddress}
  gobgp: { manage: true, resync_interval: 2s }
  listen: { address: ${this.gobgpAddr}, port: ${this.listenPort} }
  hold_time: ${o.holdSec ?? 9}s
  next_hop: { ipv4: 198.18.0.3 }
  neighbors:
    - { address: ${this.birdAddr}, port: ${this.birdPort}, remote_as: 65000, local_address: ${this.gobgpAddr}, ebgp_multihop: 2 }
${o.health ?? CALM_HEALTH}
${vipBlock ?? o.vips?.(this) ?? this.defaultVips()}
admin: { listen: "127.0.0.1:${this.adminPort}" }
log: { level: info }
${o.shutdown ?? 'shutdown: { graceful_community: false, grace_period: 0s }'}
`;
  }

  defaultVips(): string {
    return webVipBlock(this.opts.vip, this.target, this.opts.vipExtra);
  }

  launch(): VipcastProcess {
    this.vipcast = new VipcastProcess(['run', '--config', this.configFile], this.opts.env);
    return this.vipcast;
  }

  /** Atomic replace in the same directory, as Kubernetes and editors do. */
  async replaceConfig(text: string): Promise<void> {
    const tmp = join(this.dir, `.vipcast.yaml.${++this.#n}`);
    await writeFile(tmp, text);
    await rename(tmp, this.configFile);
  }

  /** Is `prefix` in gobgpd's own global RIB (`gobgp global rib`)? */
  async inGobgp(prefix = this.opts.vip): Promise<boolean> {
    return (await this.gobgpd.rib('ipv4')).some((p) => p.prefix === prefix);
  }

  async waitEstablished(timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => (await birdStats(this.bird, 'vc')).state === 'Established', { timeoutMs, intervalMs: 50, what: 'BIRD session with gobgpd Established' });
  }

  /** BIRD's and gobgpd's view plus vipcast's log tail, for failure messages. */
  async evidence(): Promise<string> {
    const bird = await this.bird?.birdc('show protocols all vc').catch((e: Error) => e.message);
    const neighbor = await this.gobgpd?.cli(['neighbor']).catch((e: Error) => e.message);
    return `BIRD: ${bird}\ngobgp neighbor: ${neighbor}\ngobgpd log: ${this.gobgpd?.log.slice(-1_500)}\nvipcast log: ${this.logTail()}`;
  }

  /** vipcast's stderr tail, for failure messages. */
  logTail(n = 2_000): string {
    return this.vipcast?.output.slice(-n) ?? '';
  }

  /** Safe to call on a half-started rig; SIGCONTs everything first (a stopped process ignores SIGTERM). */
  async stop(): Promise<void> {
    for (const p of [this.vipcast, this.gobgpd, this.bird]) p?.signal('SIGCONT');
    await this.vipcast?.stop('SIGKILL');
    await this.gobgpd?.stop();
    await this.bird?.stop();
    await this.target?.down();
    await this.other?.down();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
