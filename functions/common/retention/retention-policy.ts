/**
 * The retention policy contract (DESIGN §7), shared by the config schema and the planner.
 */
import * as z from 'zod';
import { nominalMillis, parseIsoDuration } from '../time/duration.ts';
import { isValidTimeZone } from '../time/time-zone.ts';

/** A count option: 0 = off, -1 = unlimited, n > 0 = keep n buckets. */
const count = z
  .number()
  .int('expected an integer')
  .refine((n) => n >= -1, 'expected 0 (off), -1 (unlimited) or a positive count')
  .meta({ title: 'count' });

/** An ISO 8601 duration string such as `P7D` or `P1Y6M`. */
export const isoDurationSchema = z
  .string()
  .refine(
    (text) => parseIsoDuration(text) !== undefined,
    'expected an ISO 8601 duration such as P7D or PT12H',
  )
  .meta({ title: 'duration', examples: ['P7D', 'PT26H'] });

/** An IANA time zone name. */
export const timeZoneSchema = z
  .string()
  .refine(isValidTimeZone, 'expected an IANA time zone name such as UTC or Europe/Berlin')
  .meta({ title: 'IANA zone', examples: ['Europe/Berlin'] });

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
    keepLast: count.optional().describe('keep the newest n points (0 or absent: off; -1: all)'),
    keepHourly: count.optional().describe('keep the newest point of each of the last n hours that have one'),
    keepDaily: count.optional().describe('keep the newest point of each of the last n days that have one'),
    keepWeekly: count.optional().describe('keep the newest point of each of the last n weeks that have one'),
    keepMonthly: count
      .optional()
      .describe('keep the newest point of each of the last n months that have one'),
    keepYearly: count.optional().describe('keep the newest point of each of the last n years that have one'),
    keepWithin: isoDurationSchema
      .optional()
      .describe('keep every point younger than this, counted back from the newest point'),
    timeZone: timeZoneSchema.default('UTC').describe('time zone the hours, days, weeks … are counted in'),
    minKeep: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe('safety floor: never keep fewer than this many points, whatever the options say'),
    minAge: isoDurationSchema.optional().describe('safety floor: never delete a point younger than this'),
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
