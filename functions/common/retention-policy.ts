/**
 * The retention policy contract (DESIGN §7), shared by the config schema and the planner.
 */
import * as z from 'zod';
import { nominalMillis, parseIsoDuration } from './duration.ts';
import { isValidTimeZone } from './time-zone.ts';

/** A count option: 0 = off, -1 = unlimited, n > 0 = keep n buckets. */
const count = z
  .number()
  .int('expected an integer')
  .refine((n) => n >= -1, 'expected 0 (off), -1 (unlimited) or a positive count');

/** An ISO 8601 duration string such as `P7D` or `P1Y6M`. */
export const isoDurationSchema = z
  .string()
  .refine(
    (text) => parseIsoDuration(text) !== undefined,
    'expected an ISO 8601 duration such as P7D or PT12H',
  );

/** An IANA time zone name. */
export const timeZoneSchema = z
  .string()
  .refine(isValidTimeZone, 'expected an IANA time zone name such as UTC or Europe/Berlin');

export const COUNT_OPTIONS = [
  'keepLast',
  'keepHourly',
  'keepDaily',
  'keepWeekly',
  'keepMonthly',
  'keepYearly',
] as const;
export type CountOption = (typeof COUNT_OPTIONS)[number];

export const retentionPolicySchema = z
  .object({
    keepLast: count.optional(),
    keepHourly: count.optional(),
    keepDaily: count.optional(),
    keepWeekly: count.optional(),
    keepMonthly: count.optional(),
    keepYearly: count.optional(),
    keepWithin: isoDurationSchema.optional(),
    timeZone: timeZoneSchema.default('UTC'),
    minKeep: z.number().int().min(0).default(1),
    minAge: isoDurationSchema.optional(),
  })
  .strict()
  .refine(
    (policy) =>
      COUNT_OPTIONS.some((option) => (policy[option] ?? 0) !== 0) || policy.keepWithin !== undefined,
    'a retention policy needs at least one keep option (keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly or keepWithin)',
  );

/**
 * A policy cleanup may enforce (the config's `retentionPolicies`, the cleanup function's
 * `RETENTION_POLICIES`): on top of the planner's contract, it must keep something. `minKeep: 0`
 * lets a run delete every point the keep options do not hold, and a zero `keepWithin` keeps only
 * points strictly newer than the newest, i.e. none. The planner itself (and `caretaker
 * plan-retention`) still takes both, to show what a rule does on its own.
 */
export const enforceableRetentionPolicySchema = retentionPolicySchema.superRefine((policy, ctx) => {
  if (policy.minKeep < 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['minKeep'],
      message:
        'expected at least 1: cleanup enforces this policy, and minKeep 0 lets it delete every recovery point the keep options do not hold',
    });
  }
  const within = policy.keepWithin === undefined ? undefined : parseIsoDuration(policy.keepWithin);
  if (within && nominalMillis(within) === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['keepWithin'],
      message: 'a zero duration keeps nothing (only points strictly newer than the newest): give a length',
    });
  }
});

export type RetentionPolicyInput = z.input<typeof retentionPolicySchema>;
export type RetentionPolicy = z.output<typeof retentionPolicySchema>;
