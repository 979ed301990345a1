/**
 * The DisasterRecovery flow's input and plan (docs/flows/disaster-recovery.md).
 *
 * - `drill` (the quarterly schedule's `{"mode": "drill"}`): restores every configured RDS target
 *   and backup set (or the ones named), in the DR region when `disasterRecovery.region` is set
 *   (from the cross-region copies), verifies them, measures RTO/RPO and tears them down.
 * - `failover`: restores in the stack's region and switches the restored databases over to the
 *   original identifiers. A failover changes production, so it must name what it fails over
 *   (`rdsTargets` and/or `backupSets`; there is no "everything" default) and carry
 *   `confirm: "<environment name>"`: a console click with a copied drill input cannot fail over.
 *   It restores in the stack's region even when a DR region is configured, because the
 *   switch-over renames within the region of the original (identifiers and endpoints are
 *   per region).
 *
 * The plan carries, per database, what the flow passes to rds-restore and the configured query
 * checks to point at the restored copy; per backup set, where its data is restored
 * (`disasterRecovery.restoreBucket`, else the set's source bucket, under `restorePrefix<set>/`).
 */
import * as z from 'zod';
import { isBackupId } from '../backup/layout.ts';
import { isValidIdentifier, MAX_SNAPSHOT_IDENTIFIER } from '../rds/rds-names.ts';
import { type FlowContext, oneOf } from './context.ts';
import { pollSchedules } from './polling.ts';

export const DISASTER_RECOVERY_MODES = ['drill', 'failover'] as const;
export type DisasterRecoveryMode = (typeof DISASTER_RECOVERY_MODES)[number];

const snapshotIdentifier = z
  .string()
  .refine(
    (text) => isValidIdentifier(text, MAX_SNAPSHOT_IDENTIFIER),
    'expected a DB snapshot identifier (letters, digits, single hyphens, starting with a letter)',
  );
const backupId = z.string().refine(isBackupId, 'expected a backup id (yyyyMMddTHHmmssZ-<8 hex>)');

/** Where a backup set's data is restored: `<restoreBucket or source bucket>/<restorePrefix><set>/`. */
export function restoreLocation(
  set: { readonly name: string; readonly sourceBucket: string },
  dr: FlowContext['disasterRecovery'],
): { bucket: string; prefix: string } {
  return { bucket: dr.restoreBucket ?? set.sourceBucket, prefix: `${dr.restorePrefix}${set.name}/` };
}

function duplicates(names: readonly string[]): string[] {
  return [...new Set(names.filter((name, index) => names.indexOf(name) !== index))];
}

export const disasterRecoveryFlowInput = (context: FlowContext) => {
  const targetNames = context.rdsTargets.map((target) => target.name);
  const setNames = context.backupSets.map((set) => set.name);
  const dr = context.disasterRecovery;
  return z
    .object({
      /** `drill`: restore, verify, measure, tear down. `failover`: restore, verify, switch over. */
      mode: z.enum(DISASTER_RECOVERY_MODES),
      /** RDS targets to recover; default (drills only): every configured target. */
      rdsTargets: z.array(oneOf(targetNames, 'RDS target')).optional(),
      /** Backup sets to recover; default (drills only): every configured set. */
      backupSets: z.array(oneOf(setNames, 'backup set')).optional(),
      /** Recovery points to use instead of the newest verified ones. */
      recoveryPoints: z
        .object({
          /** RDS target → DB (cluster) snapshot identifier, in the region the flow restores in. */
          snapshots: z.record(z.string(), snapshotIdentifier).optional(),
          /** Backup set → backup id. */
          backups: z.record(z.string(), backupId).optional(),
        })
        .strict()
        .optional(),
      /** Failover only, required: the environment's name, typed out. */
      confirm: z.string().optional(),
    })
    .strict()
    .superRefine((input, ctx) => {
      const problem = (path: (string | number)[], message: string) =>
        ctx.addIssue({ code: 'custom', path, message });
      const targets = input.rdsTargets ?? (input.mode === 'drill' ? targetNames : []);
      const sets = input.backupSets ?? (input.mode === 'drill' ? setNames : []);
      for (const [field, names] of [
        ['rdsTargets', input.rdsTargets ?? []],
        ['backupSets', input.backupSets ?? []],
      ] as const) {
        for (const name of duplicates(names)) problem([field], `names ${name} twice`);
      }
      if (input.mode === 'failover') {
        if (input.rdsTargets === undefined && input.backupSets === undefined) {
          problem(
            ['rdsTargets'],
            'a failover must name what it fails over (rdsTargets and/or backupSets); there is no default',
          );
        }
        if (input.confirm === undefined) {
          problem(
            ['confirm'],
            `a failover switches production over: confirm it with "confirm": "${context.environmentName}" (the environment's name)`,
          );
        } else if (input.confirm === '' || input.confirm !== context.environmentName) {
          problem(['confirm'], `expected the environment's name "${context.environmentName}"`);
        }
      } else if (input.confirm !== undefined) {
        problem(['confirm'], 'only a failover takes confirm (a drill changes nothing in production)');
      }
      if (targets.length === 0 && sets.length === 0) {
        problem(['rdsTargets'], 'nothing to recover: no RDS target or backup set is configured or named');
      }
      for (const name of Object.keys(input.recoveryPoints?.snapshots ?? {})) {
        if (!targets.includes(name)) {
          problem(['recoveryPoints', 'snapshots', name], `${name} is not among the RDS targets recovered`);
        }
      }
      for (const name of Object.keys(input.recoveryPoints?.backups ?? {})) {
        if (!sets.includes(name)) {
          problem(['recoveryPoints', 'backups', name], `${name} is not among the backup sets recovered`);
        }
      }
      if (input.mode === 'drill' && dr.region !== undefined) {
        for (const name of targets) {
          const target = context.rdsTargets.find((candidate) => candidate.name === name);
          if (target && target.crossRegionCopy?.region !== dr.region) {
            problem(
              ['rdsTargets'],
              `a drill restores ${name} from its copy in disasterRecovery.region ${dr.region}, but rdsTargets.${name}.crossRegionCopy ${target.crossRegionCopy ? `copies to ${target.crossRegionCopy.region}` : 'is not set'}`,
            );
          }
        }
      }
      for (const name of sets) {
        const set = context.backupSets.find((candidate) => candidate.name === name);
        if (!set) continue;
        const location = restoreLocation(set, dr);
        const overlaps =
          location.bucket === set.sourceBucket &&
          (location.prefix.startsWith(set.prefix) || set.prefix.startsWith(location.prefix));
        if (overlaps) {
          problem(
            ['backupSets'],
            `${name} would be restored into s3://${location.bucket}/${location.prefix}, inside the data it backs up (s3://${set.sourceBucket}/${set.prefix}): set disasterRecovery.restoreBucket or restorePrefix`,
          );
        }
      }
    })
    .transform((input) => {
      const mode: DisasterRecoveryMode = input.mode;
      const targets = input.rdsTargets ?? (mode === 'drill' ? targetNames : []);
      const sets = input.backupSets ?? (mode === 'drill' ? setNames : []);
      const region = mode === 'drill' ? (dr.region ?? null) : null;
      const polls = pollSchedules();
      const { queries: configuredQueries, ...service } = context.healthChecks;
      return {
        mode,
        environment: context.environmentName,
        /** Where databases are restored: the DR region (drills, when configured), else null (the stack's). */
        region,
        /** Tear the restored copies down once measured (drills with `teardownAfterDrill`). */
        teardown: mode === 'drill' && dr.teardownAfterDrill,
        objectives: { rtoSeconds: dr.rtoTargetMinutes * 60, rpoSeconds: dr.rpoTargetMinutes * 60 },
        databases: targets.map((name) => {
          const target = context.rdsTargets.find((candidate) => candidate.name === name)!;
          return {
            target: target.name,
            type: target.type,
            identifier: target.identifier,
            region,
            snapshotIdentifier: input.recoveryPoints?.snapshots?.[name] ?? null,
            overrides: dr.instanceClass ? { instanceClass: dr.instanceClass } : {},
            // The configured query checks of this target, to be pointed at the restored copy.
            queries: configuredQueries
              .filter((query) => query.rdsTarget === name)
              .map(({ rdsTarget: _target, ...query }) => query),
          };
        }),
        backups: sets.map((name) => {
          const set = context.backupSets.find((candidate) => candidate.name === name)!;
          const location = restoreLocation(set, dr);
          return {
            set: set.name,
            backupId: input.recoveryPoints?.backups?.[name] ?? null,
            targetBucket: location.bucket,
            targetPrefix: location.prefix,
          };
        }),
        /** After a switch-over: the configured service checks (freshness is no reason to undo a failover). */
        recheck: { ...service, queries: configuredQueries, backupFreshness: false },
        poll: { restore: polls.restore, rename: polls.rename, delete: polls.delete },
      };
    });
};

export type DisasterRecoveryPlan = z.output<ReturnType<typeof disasterRecoveryFlowInput>>;
