/**
 * The part of the health engine the app uses (src/health/engine.ts implements it). Kept as an
 * interface so the app can be tested with a scripted health source.
 */
import type { Detector } from '../health/types.js';
import type { VipConfig } from '../config/types.js';

export interface VipHealthLike {
  name: string;
  healthy: boolean;
  reason: string;
  since: Date;
  lastDetector: Detector;
}

export interface HealthEngineLike {
  start(): void;
  stop(): Promise<void>;
  update(vips: VipConfig[]): void;
  status(name: string): VipHealthLike | undefined;
  onTransition(listener: (h: VipHealthLike) => void): void;
  /** Epoch ms by which every VIP had completed a round (for the metric). */
  lastRoundAt(): number;
  /** Why the health loop counts as stalled (a VIP without a completed round for 3 of its intervals), or undefined. */
  stalled(): string | undefined;
}
