/**
 * The usual rig of the fault suite: a real BIRD (protocol "vc") peered with a real `vipcast run`
 * using the built-in speaker, with one VIP whose tcp check target the test controls. Optional:
 * a listener and a passive "bad" neighbor for our own test peer.
 */
import { rm } from 'node:fs/promises';
import type { Bird } from '../../harness/bird.js';
import { freePort, loopbackAddress } from '../../harness/net.js';
import { VipcastProcess } from '../../harness/vipcast.js';
import { FAST_HEALTH, startBird, TcpTarget, tempDir, waitAdmin, waitRoute, webVipBlock, writeText } from './fixture.js';

export interface RigOptions {
  tag: string;
  vip: string;
  /** Add bgp.listen and a passive neighbor at `badAddr` with this AS. */
  badPeerAs?: number;
  /** BIRD's hold time for the vipcast session (seconds). */
  birdHoldSec?: number;
  /** vipcast's bgp.hold_time (seconds). */
  holdSec?: number;
  /** Lines appended under the VIP (indented 4 spaces), e.g. hold_down. */
  vipExtra?: string;
  /** Replaces the default vips: block (one VIP "web" with a tcp check on `target`). */
  vips?: string;
  /** Replaces FAST_HEALTH. */
  health?: string;
  logLevel?: string;
  /** Write this token to a file and set admin.token_file. */
  token?: string;
  /** Top-level sections appended verbatim (default: a quick shutdown without GRACEFUL_SHUTDOWN). */
  extra?: string;
  /** Extra environment for `vipcast run` (e.g. VIPCAST_FAILPOINTS). */
  env?: NodeJS.ProcessEnv;
}

const QUICK_SHUTDOWN = 'shutdown: { graceful_community: false, grace_period: 0s }';

export class Rig {
  readonly ourAddr = loopbackAddress();
  readonly birdAddr = loopbackAddress();
  readonly badAddr = loopbackAddress();
  bird!: Bird;
  birdPort = 0;
  dir = '';
  configFile = '';
  tokenFile = '';
  target!: TcpTarget;
  vipcast!: VipcastProcess;
  adminPort = 0;
  listenPort = 0;

  constructor(readonly opts: RigOptions) {}

  static async start(opts: RigOptions): Promise<Rig> {
    const rig = new Rig(opts);
    await rig.#start();
    return rig;
  }

  async #start(): Promise<void> {
    const o = this.opts;
    this.dir = await tempDir(o.tag);
    this.target = await TcpTarget.create();
    const b = await startBird('10.255.6.1', this.birdAddr, [{ name: 'vc', neighbor: this.ourAddr, neighborAs: 65001, holdTimeSec: o.birdHoldSec }]);
    this.bird = b.bird;
    this.birdPort = b.port;
    this.listenPort = await freePort(this.ourAddr);
    this.adminPort = await freePort();
    if (o.token) this.tokenFile = await writeText(this.dir, 'token', `${o.token}\n`);
    this.configFile = await writeText(this.dir, 'vipcast.yaml', this.config());
    this.launch();
    await waitAdmin(this.vipcast, this.adminPort);
    await waitRoute(this.bird, 'vc', o.vip, true, 30_000);
  }

  /** The config text; `vipBlock` replaces the whole vips: list when given. */
  config(vipBlock?: string): string {
    const o = this.opts;
    const listen = o.badPeerAs ? `  listen: { address: ${this.ourAddr}, port: ${this.listenPort} }\n` : '';
    const bad = o.badPeerAs ? `    - { address: ${this.badAddr}, remote_as: ${o.badPeerAs}, passive: true }\n` : '';
    return `
bgp:
  local_as: 65001
  router_id: ${this.ourAddr}
  hold_time: ${o.holdSec ?? 9}s
${listen}  neighbors:
    - { address: ${this.birdAddr}, port: ${this.birdPort}, remote_as: 65000, local_address: ${this.ourAddr}, ebgp_multihop: 2 }
${bad}${o.health ?? FAST_HEALTH}
${vipBlock ?? o.vips ?? this.defaultVips()}
admin: { listen: "127.0.0.1:${this.adminPort}"${this.tokenFile ? `, token_file: ${this.tokenFile}` : ''} }
log: { level: ${o.logLevel ?? 'warn'} }
${o.extra ?? QUICK_SHUTDOWN}
`;
  }

  defaultVips(): string {
    return webVipBlock(this.opts.vip, this.target, this.opts.vipExtra);
  }

  launch(): VipcastProcess {
    this.vipcast = new VipcastProcess(['run', '--config', this.configFile], this.opts.env);
    return this.vipcast;
  }

  async stop(): Promise<void> {
    await this.vipcast?.stop('SIGKILL');
    await this.bird?.stop();
    await this.target?.down();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
