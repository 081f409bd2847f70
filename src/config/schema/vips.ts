/**
 * `vips:`: each VIP with its prefix, checks, requirement, timing overrides and attributes
 * up and down. Depends on the `health:` defaults and the global bind_interface, which come
 * in through VipsContext.
 */
import * as z from 'zod';
import type { VipConfig } from '../types.js';
import { DEFAULT_ATTRIBUTES, attributesObject, mergeAttributes } from './attributes.js';
import type { PartialAttributes } from './attributes.js';
import { checkSchema, connectIntervalIssue } from './checks.js';
import type { ParsedCheck } from './checks.js';
import { DEFAULT_POLICY, applyPolicy, policyShape, timingRules } from './health.js';
import type { PolicyDefaults } from './health.js';
import { needs, partsOf } from './cross-field.js';
import type { Parts } from './cross-field.js';
import { duration, filePath, interfaceName, ipAddress, name, report, vipPrefix } from './primitives.js';
import type { SchemaContext } from './primitives.js';
import { formatDuration } from '../duration.js';

export interface VipsContext extends SchemaContext {
  /**
   * The `health:` defaults as far as they parsed (health.ts policyDefaults): a key is missing
   * when its value there is invalid, and the timing rules needing it are then skipped.
   */
  health: PolicyDefaults;
  /** Global default for bind_interface. */
  bindInterface: string | undefined;
}

const requirement = z.union([z.enum(['all', 'any']), z.number()], {
  error: 'must be all, any, or a number of checks',
});

const whenDown = z.union([z.literal('withdraw'), z.strictObject({ attributes: attributesObject })], {
  error: 'must be withdraw or { attributes: {...} }',
});

/** Hold-down beyond an hour would strand a recovered service for longer than anyone would notice why. */
const HOUR = 3_600_000;

/**
 * One VIP, not yet transformed: the transform runs over the whole list (vipsSchema), so that
 * the list's rules see every VIP in one shape, the parsed and the failed alike.
 */
function vipSchema(vctx: VipsContext) {
  const timing = timingRules(vctx.health);
  return z
    .strictObject({
      name,
      prefix: vipPrefix,
      require: requirement.default('all'),
      checks: z.array(checkSchema(vctx)).min(1, {
        message: 'a VIP needs at least one check (it would otherwise be advertised unconditionally)',
      }),
      ...policyShape,
      attributes: attributesObject.prefault({}),
      when_down: whenDown.default('withdraw'),
      drain_file: filePath(vctx).optional(),
      hold_down: duration(0, HOUR, '0s..1h').prefault('0s'),
      bind_interface: interfaceName.optional(),
    })
    // The number of checks is known even when one of them is invalid.
    .superRefine((v, ctx) => checkRequirement(v.require, v.checks.length, ctx), { when: needs('require', 'checks[]') })
    .superRefine((v, ctx) => checkLabels(v.checks, partsOf(ctx), ctx), { when: needs('checks[]') })
    .superRefine(
      (v, ctx) => checkNextHopFamily(v.attributes.next_hop, v.prefix.family, ['attributes', 'next_hop'], ctx),
      { when: needs('prefix', 'attributes.next_hop') },
    )
    .superRefine(
      (v, ctx) => checkNextHopFamily(downNextHop(v.when_down, partsOf(ctx)), v.prefix.family, ['when_down', 'attributes', 'next_hop'], ctx),
      { when: needs('prefix') },
    )
    .superRefine(timing.timeout.rule, { when: timing.timeout.when })
    .superRefine(timing.fastInterval.rule, { when: timing.fastInterval.when })
    .superRefine((v, ctx) => checkCheckTiming(v.interval ?? vctx.health.intervalMs, v.checks, partsOf(ctx), ctx), { when: needs('interval', 'checks[]') });
}

type ParsedVip = z.output<ReturnType<typeof vipSchema>>;

function toVipConfig(v: ParsedVip, vctx: VipsContext): VipConfig {
  // Without valid health: defaults the whole parse fails anyway; DEFAULT_POLICY keeps this total.
  const policy = applyPolicy({ ...DEFAULT_POLICY, ...vctx.health }, v);
  const attributes = mergeAttributes(DEFAULT_ATTRIBUTES, v.attributes);
  return {
    name: v.name,
    prefix: v.prefix.prefix,
    family: v.prefix.family,
    address: v.prefix.address,
    require: v.require,
    // The check's own timeout, else the VIP's: filled in so the engine has one number.
    checks: v.checks.map(({ labelSet: _labelSet, ...c }) => ({ ...c, timeoutMs: c.timeoutMs ?? policy.timeoutMs })),
    policy,
    attributes,
    whenDown: v.when_down === 'withdraw' ? 'withdraw' : { attributes: mergeAttributes(attributes, v.when_down.attributes) },
    drainFile: v.drain_file,
    holdDownMs: v.hold_down,
    bindInterface: v.bind_interface ?? vctx.bindInterface,
  };
}

type Ctx = { addIssue: z.core.$RefinementCtx['addIssue'] };

function checkRequirement(req: 'all' | 'any' | number, count: number, ctx: Ctx): void {
  if (typeof req !== 'number') return;
  if (!Number.isInteger(req) || req < 1 || req > count) {
    report(ctx, 'out_of_range', `${req} checks cannot be required: must be a whole number from 1 to the number of checks (${count})`, ['require']);
  }
}

function checkNextHopFamily(nh: string | undefined, family: 'ipv4' | 'ipv6', path: PropertyKey[], ctx: Ctx): void {
  if (nh !== undefined && nh.includes(':') !== (family === 'ipv6')) {
    report(ctx, 'conflict', `next_hop ${nh} is not of the VIP's family (${family})`, path);
  }
}

/**
 * when_down's next hop, where it parsed. A when_down that failed anywhere is left as raw input
 * by its union, with one issue at when_down (the branch's issues inside it), so its next_hop is
 * then parsed here on its own: a bad community next to it must not hide its family conflict.
 */
function downNextHop(whenDown: unknown, parts: Parts): string | undefined {
  if (parts.ok('when_down')) return whenDown === 'withdraw' ? undefined : (whenDown as { attributes: PartialAttributes }).attributes.next_hop;
  const raw = (whenDown as { attributes?: { next_hop?: unknown } | null } | null | undefined)?.attributes?.next_hop;
  if (raw === undefined) return undefined;
  const nh = ipAddress().safeParse(raw);
  return nh.success ? nh.data : undefined;
}

/** Labels derive from a check's whole spec, so only the checks that parsed entirely take part. */
function checkLabels(checks: ParsedCheck[], parts: Parts, ctx: Ctx): void {
  const seen = new Map<string, number>();
  checks.forEach((c, i) => {
    if (!parts.ok('checks', i)) return;
    const first = seen.get(c.label);
    if (first === undefined) {
      seen.set(c.label, i);
      return;
    }
    const hint = c.labelSet ? '' : ' (two checks of the same target: give one a label:)';
    report(ctx, 'duplicate', `check label "${c.label}" is already used by checks[${first}]${hint}`, ['checks', i]);
  });
}

/**
 * A check's own timeout and connect_interval, where they parsed. A check that parsed entirely
 * is a ParsedCheck (timeoutMs, connectIntervalMs); one that failed elsewhere keeps its keys
 * untransformed (timeout, connect_interval in ms) as ./cross-field.ts explains; one whose type
 * failed is raw input and gives nothing.
 */
function checkTimers(c: unknown, i: number, parts: Parts): { timeoutMs?: number | undefined; connectIntervalMs?: number | undefined } {
  if (parts.ok('checks', i)) {
    const p = c as ParsedCheck;
    return { timeoutMs: p.timeoutMs, connectIntervalMs: p.type === 'tcp' ? p.connectIntervalMs : undefined };
  }
  if (!parts.shape('checks', i) || !parts.ok('checks', i, 'type')) return {};
  const raw = c as { timeout?: number; connect_interval?: number };
  return {
    timeoutMs: parts.ok('checks', i, 'timeout') ? raw.timeout : undefined,
    connectIntervalMs: parts.ok('checks', i, 'connect_interval') ? raw.connect_interval : undefined,
  };
}

/** Each check against the VIP's effective interval (unknown when `health.interval` is invalid). */
function checkCheckTiming(intervalMs: number | undefined, checks: unknown[], parts: Parts, ctx: Ctx): void {
  if (intervalMs === undefined) return;
  checks.forEach((c, i) => {
    const { timeoutMs, connectIntervalMs } = checkTimers(c, i, parts);
    if (timeoutMs !== undefined && timeoutMs >= intervalMs) {
      report(ctx, 'conflict', `timeout (${formatDuration(timeoutMs)}) must be shorter than the VIP's interval (${formatDuration(intervalMs)}): a check never overlaps itself`, ['checks', i, 'timeout']);
    }
    const connectInterval = connectIntervalIssue(connectIntervalMs, intervalMs);
    if (connectInterval) report(ctx, 'out_of_range', connectInterval, ['checks', i, 'connect_interval']);
  });
}

/**
 * Names and prefixes are unique. Compared among the VIPs whose name or prefix parsed, also when
 * other VIPs (or other keys of the same VIP) failed.
 */
function uniqueVips(vips: ParsedVip[], parts: Parts, ctx: Ctx): void {
  const names = new Map<string, number>();
  const prefixes = new Map<string, number>();
  vips.forEach((v, i) => {
    if (parts.ok(i, 'name')) {
      const n = names.get(v.name);
      if (n !== undefined) report(ctx, 'duplicate', `VIP name "${v.name}" is already used by vips[${n}]`, [i, 'name']);
      else names.set(v.name, i);
    }
    if (parts.ok(i, 'prefix')) {
      const p = prefixes.get(v.prefix.prefix);
      if (p === undefined) prefixes.set(v.prefix.prefix, i);
      else {
        // The first VIP is named only if its name parsed.
        const owner = parts.ok(p, 'name') ? ` "${vips[p]?.name}"` : '';
        report(ctx, 'duplicate', `prefix ${v.prefix.prefix} is already the VIP${owner} (vips[${p}])`, [i, 'prefix']);
      }
    }
  });
}

export function vipsSchema(vctx: VipsContext) {
  return z
    .array(vipSchema(vctx))
    .default([])
    .superRefine((vips, ctx) => uniqueVips(vips, partsOf(ctx), ctx), { when: needs('[]') })
    .transform((vips) => vips.map((v) => toVipConfig(v, vctx)));
}
