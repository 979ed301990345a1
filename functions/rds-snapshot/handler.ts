/**
 * rds-snapshot: manual snapshots of the configured RDS targets, tagged and named per execution,
 * within the manual snapshot quota, and their copies in the DR region under the DR key.
 * Actions: `create`, `status` (polling), `copy`. docs/rds-snapshots.md describes the contract.
 */
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { ENV, LAMBDA_ENV } from '#common/contract';
import { rdsTargetsFromEnv, targetNamed } from '#common/rds/rds-targets';
import { kms, rds, rdsIn } from '#common/runtime/clients';
import { intEnv, requireEnv } from '#common/runtime/env';
import { caretakerHandler } from '#common/runtime/middleware';
import { correlate, logger } from '#common/runtime/observability';
import { copySnapshot } from './copy.ts';
import { createSnapshot } from './create.ts';
import type { SnapshotDeps } from './deps.ts';
import { type SnapshotEvent, snapshotEventSchema } from './input.ts';
import { snapshotStatus } from './status.ts';

const TARGETS = rdsTargetsFromEnv();
const DEPS: SnapshotDeps = {
  rds: rds(),
  rdsIn,
  region: requireEnv(LAMBDA_ENV.region),
  stack: requireEnv(ENV.stackName),
  quota: {
    manualSnapshots: intEnv(ENV.snapshotQuota, 100),
    warnPercent: intEnv(ENV.snapshotWarnPercent, 80),
    maxConcurrentCopies: intEnv(ENV.maxConcurrentCopies, 5),
  },
  keyManager: async (keyId) => {
    try {
      const out = await kms().send(new DescribeKeyCommand({ KeyId: keyId }));
      return out.KeyMetadata?.KeyManager;
    } catch (error) {
      // Only used to explain the copy in the notes: the copy itself does not depend on it.
      logger.warn('Could not tell who manages the source key', { keyId, error: (error as Error).message });
      return undefined;
    }
  },
};

/** Runs one action. */
export async function snapshotAction(event: SnapshotEvent) {
  const target = targetNamed(TARGETS, event.target);
  if ('snapshotIdentifier' in event) correlate({ snapshotId: event.snapshotIdentifier });
  switch (event.action) {
    case 'create':
      return createSnapshot(DEPS, target, event);
    case 'status':
      return snapshotStatus(DEPS, target, event);
    case 'copy':
      return copySnapshot(DEPS, target, event);
  }
}

export const handler = caretakerHandler('rds-snapshot', snapshotEventSchema(TARGETS), snapshotAction);
