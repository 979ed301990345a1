/**
 * The update event: an RDS change (settings, or the pending maintenance actions) applied now and
 * polled until visible, or a Lambda alias shifted to a new version in canary steps (one step per
 * call) and back.
 */
import * as z from 'zod';
import { isValidIdentifier, MAX_SNAPSHOT_IDENTIFIER } from '#common/rds/rds-names';
import { type RdsTarget, targetNameSchema } from '#common/rds/rds-targets';

/** Canary weights (percent) when the event gives none. */
export const DEFAULT_STEPS = [5, 25, 50, 100] as const;

const engineVersion = z
  .string()
  .regex(/^\d+(\.[0-9A-Za-z_-]+)*$/, 'expected an engine version such as 16.4 or 8.0.39');
const instanceClass = z
  .string()
  .regex(/^db\.[a-z0-9]+(\.[a-z0-9]+)?$/, 'expected an instance class such as db.r6g.large');
const parameterGroup = z
  .string()
  .max(255)
  .regex(
    /^[a-zA-Z](?!.*--)[a-zA-Z0-9.-]*$/,
    'expected a parameter group name (letters, digits, dots, single hyphens, starting with a letter)',
  )
  .refine((name) => !name.endsWith('-'), 'a parameter group name cannot end with a hyphen');

/** Which pending RDS maintenance actions an update applies: security patches only, or every one. */
export const PENDING_MAINTENANCE_KINDS = ['security', 'all'] as const;
export type PendingMaintenanceKind = (typeof PENDING_MAINTENANCE_KINDS)[number];

/**
 * What to change on an RDS target: at least one of engine version, instance class, parameter
 * group; or, on its own, the pending maintenance actions to apply now (`pendingMaintenance`).
 */
export const rdsChangeSchema = z
  .object({
    engineVersion: engineVersion.optional(),
    instanceClass: instanceClass.optional(),
    /** DB parameter group (instances) or DB cluster parameter group (clusters). */
    parameterGroup: parameterGroup.optional(),
    /** Required by RDS for a new major engine version. */
    allowMajorVersionUpgrade: z.boolean().default(false),
    /** Apply the pending maintenance actions (`security` patches, or `all`) now, after a rollback point. */
    pendingMaintenance: z.enum(PENDING_MAINTENANCE_KINDS).optional(),
  })
  .strict()
  .superRefine((change, ctx) => {
    const settings = (['engineVersion', 'instanceClass', 'parameterGroup'] as const).filter(
      (key) => change[key] !== undefined,
    );
    if (change.pendingMaintenance !== undefined && settings.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['pendingMaintenance'],
        message: `applies pending maintenance on its own: start a separate update for ${settings.join(', ')}`,
      });
    } else if (change.pendingMaintenance === undefined && settings.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected at least one of engineVersion, instanceClass, parameterGroup, pendingMaintenance',
      });
    }
  });

export type RdsChange = z.output<typeof rdsChangeSchema>;

/** A Lambda function name or unqualified ARN. */
export const functionName = z
  .string()
  .regex(
    /^(arn:aws[\w-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}$/,
    'expected a Lambda function name or ARN (without a qualifier)',
  );
/** A Lambda alias name (never a version number). */
export const aliasName = z
  .string()
  .regex(/^(?!\d+$)[A-Za-z0-9_-]{1,128}$/, 'expected an alias name (not a version number)');
/** A published Lambda version. */
export const version = z
  .string()
  .regex(/^\d+$/, 'expected a published version number such as 7 (not $LATEST)');

/** Ascending percentages ending at 100. */
export const stepsSchema = z
  .array(z.number().int().min(1).max(100))
  .min(1)
  .refine(
    (steps) => steps.every((weight, i) => i === 0 || weight > steps[i - 1]!),
    'expected ascending weights',
  )
  .refine((steps) => steps.at(-1) === 100, 'expected the last weight to be 100');

/** One pending maintenance action of a target (the instance, the cluster or a cluster member). */
export const maintenanceItemSchema = z.object({
  resourceArn: z.string(),
  /** The instance or cluster the action is pending on. */
  identifier: z.string(),
  action: z.string(),
  description: z.string().optional(),
  security: z.boolean(),
  optInStatus: z.string().optional(),
});

export type MaintenanceItem = z.output<typeof maintenanceItemSchema>;

/** An RDS target's settings at the rollback point, as `rds-capture` returns them. */
export const capturedSettingsSchema = z.object({
  target: z.string(),
  type: z.enum(['instance', 'cluster']),
  identifier: z.string(),
  engineVersion: z.string().optional(),
  /** DB parameter group (instances) or DB cluster parameter group (clusters). */
  parameterGroup: z.string().optional(),
  /** The instance, or each cluster member, with its class. */
  members: z.array(
    z.object({
      identifier: z.string(),
      instanceClass: z.string().optional(),
      writer: z.boolean().optional(),
    }),
  ),
  /** A pending-maintenance update: the actions it would apply, as they were pending at the rollback point. */
  pendingMaintenance: z.array(maintenanceItemSchema).optional(),
  capturedAt: z.iso.datetime({ offset: true }),
});

export type CapturedSettings = z.output<typeof capturedSettingsSchema>;

/** How a change is rolled back: set back in place, or by restoring the rollback snapshot. */
export const rollbackMethodSchema = z.enum(['in-place', 'restore']);
export type RollbackMethod = z.output<typeof rollbackMethodSchema>;

const snapshotIdentifier = z
  .string()
  .refine(
    (text) => isValidIdentifier(text, MAX_SNAPSHOT_IDENTIFIER),
    'expected a DB snapshot identifier (letters, digits, single hyphens, starting with a letter)',
  );

export function updateEventSchema(targets: readonly RdsTarget[]) {
  const target = targetNameSchema(targets);
  return z.discriminatedUnion('action', [
    z
      .object({
        action: z.literal('rds-apply'),
        target,
        executionId: z.string().min(1).optional(),
        change: rdsChangeSchema,
      })
      .strict(),
    z.object({ action: z.literal('rds-progress'), target, change: rdsChangeSchema }).strict(),
    z
      .object({
        action: z.literal('alias-shift'),
        functionName,
        alias: aliasName,
        targetVersion: version,
        /** Which step to apply (0-based): the flow passes the previous result's `nextStep`. */
        step: z.number().int().min(0).default(0),
        steps: stepsSchema.default([...DEFAULT_STEPS]),
        /** The version the alias pointed at before the shift (echoed; read from the alias when absent). */
        originalVersion: version.optional(),
      })
      .strict()
      .superRefine((event, ctx) => {
        if (event.step >= event.steps.length) {
          ctx.addIssue({
            code: 'custom',
            path: ['step'],
            message: `expected a step below ${event.steps.length} (there are ${event.steps.length} steps)`,
          });
        }
        if (event.originalVersion === event.targetVersion) {
          ctx.addIssue({
            code: 'custom',
            path: ['targetVersion'],
            message: 'must differ from originalVersion',
          });
        }
      }),
    z
      .object({
        action: z.literal('alias-rollback'),
        functionName,
        alias: aliasName,
        originalVersion: version,
        /** The version this update shifted to: when given, an alias pointing anywhere else is refused. */
        targetVersion: version.optional(),
      })
      .strict(),
    z
      .object({
        action: z.literal('rds-capture'),
        target,
        /** The update's change: a pending-maintenance update also records the actions it applies. */
        change: rdsChangeSchema.optional(),
      })
      .strict(),
    z
      .object({
        action: z.literal('rds-rollback-check'),
        target,
        change: rdsChangeSchema,
        captured: capturedSettingsSchema,
        method: rollbackMethodSchema,
        /** The rollback snapshot, named in the manual commands. */
        snapshotIdentifier: snapshotIdentifier.optional(),
      })
      .strict(),
    z
      .object({
        action: z.literal('rds-revert'),
        target,
        change: rdsChangeSchema,
        captured: capturedSettingsSchema,
      })
      .strict(),
    z
      .object({ action: z.literal('alias-capture'), functionName, alias: aliasName, targetVersion: version })
      .strict(),
    z
      .object({
        action: z.literal('alias-rollback-check'),
        functionName,
        alias: aliasName,
        originalVersion: version,
        targetVersion: version,
      })
      .strict(),
  ]);
}

export type UpdateEvent = z.output<ReturnType<typeof updateEventSchema>>;
export type RdsApplyEvent = Extract<UpdateEvent, { action: 'rds-apply' }>;
export type RdsProgressEvent = Extract<UpdateEvent, { action: 'rds-progress' }>;
export type AliasShiftEvent = Extract<UpdateEvent, { action: 'alias-shift' }>;
export type AliasRollbackEvent = Extract<UpdateEvent, { action: 'alias-rollback' }>;
export type RdsRollbackCheckEvent = Extract<UpdateEvent, { action: 'rds-rollback-check' }>;
export type RdsRevertEvent = Extract<UpdateEvent, { action: 'rds-revert' }>;
export type AliasCaptureEvent = Extract<UpdateEvent, { action: 'alias-capture' }>;
export type AliasRollbackCheckEvent = Extract<UpdateEvent, { action: 'alias-rollback-check' }>;
