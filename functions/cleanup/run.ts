/**
 * One cleanup run over the selected targets: each RDS target's snapshots in the stack's region
 * and (with crossRegionCopy) in its DR region, and each backup set. Targets are independent: one
 * that fails or is refused does not stop the others. Pure orchestration over injected parts.
 */
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BackupCrypto } from '#common/backup/crypto';
import type { RdsTarget } from '#common/rds/rds-targets';
import type { RetentionPolicy } from '#common/retention/retention-policy';
import { type BackupRunOptions, cleanBackups } from './backup-retention.ts';
import type { TargetReport } from './report.ts';
import { cleanSnapshots } from './snapshot-retention.ts';

export interface CleanupConfig {
  readonly region: string;
  readonly rdsTargets: readonly RdsTarget[];
  readonly backupSets: readonly { readonly name: string; readonly retention: string }[];
  readonly policies: Readonly<Record<string, RetentionPolicy>>;
  readonly bucket?: string;
}

export interface CleanupClients {
  readonly rds: RDSClient;
  readonly rdsIn: (region: string) => RDSClient;
  readonly s3: S3Client;
  /** The stack key's crypto: manifests and verification records count only when their seal opens. */
  readonly crypto?: BackupCrypto;
}

/** Runs retention over every selected target, one after the other. */
export async function runCleanup(
  config: CleanupConfig,
  clients: CleanupClients,
  /** With `fanOut`, backups are only planned and queued (backup-retention.ts). */
  options: BackupRunOptions,
  selected?: readonly string[],
): Promise<TargetReport[]> {
  const wanted = (name: string) => !selected || selected.includes(name);
  const reports: TargetReport[] = [];
  for (const target of config.rdsTargets.filter((t) => wanted(t.name))) {
    const policy = config.policies[target.retention]!;
    reports.push(await cleanSnapshots(clients.rds, target, config.region, target.retention, policy, options));
    const dr = target.crossRegionCopy;
    if (dr) {
      reports.push(
        await cleanSnapshots(clients.rdsIn(dr.region), target, dr.region, target.retention, policy, options),
      );
    }
  }
  for (const set of config.backupSets.filter((s) => wanted(s.name))) {
    const policy = config.policies[set.retention]!;
    reports.push(
      await cleanBackups(
        clients.s3,
        clients.crypto!,
        config.bucket!,
        set.name,
        set.retention,
        policy,
        options,
      ),
    );
  }
  return reports;
}
