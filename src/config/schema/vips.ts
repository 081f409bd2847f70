/**
 * `vips:`: each VIP with its prefix, checks, requirement, timing overrides and attributes
 * up and down. Depends on the `health:` defaults and the global bind_interface, which come
 * in through VipsContext.
 */
import * as z from 'zod';
import type { HealthPolicy } from '../../health/types.js';
import type { VipConfig } from '../types.js';
import { DEFAULT_ATTRIBUTES, attributesObject, mergeAttributes } from './attributes.js';
import { checkSchema, connectIntervalIssue } from './checks.js';
import type { ParsedCheck } from './checks.js';
import { DEFAULT_POLICY, applyPolicy, checkPolicy, policyShape } from './health.js';
import { duration, filePath, interfaceName, name, report, vipPrefix } from './primitives.js';
import type { SchemaContext } from './primitives.js';
import { formatDuration } from '../duration.js';

export interface VipsContext extends SchemaContext {
  /** Effective `health:` defaults; undefined when that section is invalid (timing rules are then skipped). */
  health: HealthPolicy | undefined;
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

function vipSchema(vctx: VipsContext) {
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
    .superRefine((v, ctx) => {
      checkRequirement(v.require, v.checks.length, ctx);
      checkLabels(v.checks, ctx);
      const nh = v.attributes.next_hop;
      if (nh !== undefined && nh.includes(':') !== (v.prefix.family === 'ipv6')) {
        report(ctx, 'conflict', `next_hop ${nh} is not of the VIP's family (${v.prefix.family})`, ['attributes', 'next_hop']);
      }
      const downNh = v.when_down === 'withdraw' ? undefined : v.when_down.attributes.next_hop;
      if (downNh !== undefined && downNh.includes(':') !== (v.prefix.family === 'ipv6')) {
        report(ctx, 'conflict', `next_hop ${downNh} is not of the VIP's family (${v.prefix.family})`, ['when_down', 'attributes', 'next_hop']);
      }
      if (vctx.health) checkTiming(vctx.health, v, ctx);
    })
    .transform((v): VipConfig => {
      // Without valid health: defaults the whole parse fails anyway; DEFAULT_POLICY keeps this total.
      const policy = applyPolicy(vctx.health ?? DEFAULT_POLICY, v);
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
    });
}

type Ctx = { addIssue: z.core.$RefinementCtx['addIssue'] };

function checkRequirement(req: 'all' | 'any' | number, count: number, ctx: Ctx): void {
  if (typeof req !== 'number') return;
  if (!Number.isInteger(req) || req < 1 || req > count) {
    report(ctx, 'out_of_range', `${req} checks cannot be required: must be a whole number from 1 to the number of checks (${count})`, ['require']);
  }
}

function checkLabels(checks: ParsedCheck[], ctx: Ctx): void {
  const seen = new Map<string, number>();
  checks.forEach((c, i) => {
    const first = seen.get(c.label);
    if (first === undefined) {
      seen.set(c.label, i);
      return;
    }
    const hint = c.labelSet ? '' : ' (two checks of the same target: give one a label:)';
    report(ctx, 'duplicate', `check label "${c.label}" is already used by checks[${first}]${hint}`, ['checks', i]);
  });
}

function checkTiming(defaults: HealthPolicy, v: { checks: ParsedCheck[] } & Parameters<typeof applyPolicy>[1], ctx: Ctx): void {
  const policy = applyPolicy(defaults, v);
  checkPolicy(policy, v, ctx);
  v.checks.forEach((c, i) => {
    if (c.timeoutMs !== undefined && c.timeoutMs >= policy.intervalMs) {
      report(ctx, 'conflict', `timeout (${formatDuration(c.timeoutMs)}) must be shorter than the VIP's interval (${formatDuration(policy.intervalMs)}): a check never overlaps itself`, ['checks', i, 'timeout']);
    }
    const connectInterval = connectIntervalIssue(c, policy.intervalMs);
    if (connectInterval) report(ctx, 'out_of_range', connectInterval, ['checks', i, 'connect_interval']);
  });
}

export function vipsSchema(vctx: VipsContext) {
  return z
    .array(vipSchema(vctx))
    .default([])
    .superRefine((vips, ctx) => {
      const names = new Map<string, number>();
      const prefixes = new Map<string, number>();
      vips.forEach((v, i) => {
        const n = names.get(v.name);
        if (n !== undefined) report(ctx, 'duplicate', `VIP name "${v.name}" is already used by vips[${n}]`, [i, 'name']);
        else names.set(v.name, i);
        const p = prefixes.get(v.prefix);
        if (p !== undefined) report(ctx, 'duplicate', `prefix ${v.prefix} is already the VIP "${vips[p]?.name}" (vips[${p}])`, [i, 'prefix']);
        else prefixes.set(v.prefix, i);
      });
    });
}
