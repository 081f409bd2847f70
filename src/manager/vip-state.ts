/**
 * Per-VIP state: what the health engine says, whether an operator (or a drain file) drained
 * it, and the hold-down after a withdraw. Pure data plus the rule that turns it into the
 * attributes the VIP should be advertised with right now (or none). The BgpManager owns the
 * timers; this file owns the decisions, so they can be tested without a clock.
 */
import type { RouteAttributes } from '../backend/types.js';
import type { VipConfig } from '../config/types.js';
import type { Detector } from '../health/types.js';

/** RFC 8326 §5: GRACEFUL_SHUTDOWN well-known community 65535:0. */
export const GRACEFUL_SHUTDOWN = '65535:0';

export type VipStateName = 'up' | 'down' | 'draining' | 'drained';
export type DrainSource = 'api' | 'file' | 'shutdown';

export interface VipRuntime {
  config: VipConfig;
  healthy: boolean;
  healthReason: string;
  detector: Detector;
  /** Non-empty: the VIP is drained (each source must be cleared separately). */
  drainSources: Set<DrainSource>;
  /**
   * While `graceful`, the VIP stays advertised with GRACEFUL_SHUTDOWN added so routers move
   * traffic away before the withdraw (RFC 8326 §4); `done` once the grace period ended.
   */
  drainPhase: 'none' | 'graceful' | 'done';
  /** Attributes in force when the drain started, re-advertised with the community added. */
  drainAttributes?: RouteAttributes;
  /** No re-advertise with the up attributes before this (epoch ms): flap damping. */
  holdDownUntil: number;
  /** What the manager currently wants advertised (undefined = withdrawn). */
  wanted?: RouteAttributes;
  state: VipStateName;
  reason: string;
  since: Date;
  /** The value vipcast_vip_advertised last got for this VIP (set only when it changes). */
  exportedAdvertised?: boolean;
}

export function newRuntime(config: VipConfig, now: number): VipRuntime {
  return {
    config,
    healthy: false,
    healthReason: 'starting: no check result yet',
    detector: 'initial',
    drainSources: new Set(),
    drainPhase: 'none',
    holdDownUntil: 0,
    state: 'down',
    reason: 'starting: no check result yet',
    since: new Date(now),
  };
}

export function withGracefulShutdown(attrs: RouteAttributes): RouteAttributes {
  if (attrs.communities.includes(GRACEFUL_SHUTDOWN)) return attrs;
  return { ...attrs, communities: [...attrs.communities, GRACEFUL_SHUTDOWN] };
}

/** The attributes the VIP should carry now, or undefined for "withdrawn". */
export function wantedAttributes(vip: VipRuntime, now: number): RouteAttributes | undefined {
  if (vip.drainSources.size > 0) {
    return vip.drainPhase === 'graceful' && vip.drainAttributes ? withGracefulShutdown(vip.drainAttributes) : undefined;
  }
  const down = vip.config.whenDown === 'withdraw' ? undefined : vip.config.whenDown.attributes;
  if (!vip.healthy) return down;
  // Healthy again but still inside the hold-down: keep whatever the down state advertises.
  if (now < vip.holdDownUntil) return down;
  return vip.config.attributes;
}

/** The state name and reason shown in /v1/vips. */
export function describe(vip: VipRuntime, now: number): { state: VipStateName; reason: string } {
  if (vip.drainSources.size > 0) {
    const by = [...vip.drainSources].map(drainSourceText).join(', ');
    return vip.drainPhase === 'graceful'
      ? { state: 'draining', reason: `${by}: advertising with GRACEFUL_SHUTDOWN before withdraw` }
      : { state: 'drained', reason: by };
  }
  if (!vip.healthy) return { state: 'down', reason: vip.healthReason };
  if (now < vip.holdDownUntil) {
    const left = Math.ceil((vip.holdDownUntil - now) / 1000);
    return { state: 'up', reason: `healthy; hold-down after a recent withdraw, ${left}s left` };
  }
  return { state: 'up', reason: vip.healthReason };
}

function drainSourceText(source: DrainSource): string {
  switch (source) {
    case 'api':
      return 'drained through the admin API';
    case 'file':
      return 'drain file present';
    case 'shutdown':
      return 'shutting down';
  }
}

/** Structural equality of attribute sets (arrays compared in order: the config fixes it). */
export function sameAttributes(a: RouteAttributes | undefined, b: RouteAttributes | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
