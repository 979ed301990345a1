/**
 * rds-restore: restores a configured RDS target from a snapshot with the settings recorded with
 * it, reports status for polling, and deletes what an execution restored; for disaster recovery
 * it also chooses the snapshot to restore from. Actions: `choose`, `restore`, `status`, `delete`.
 * Switching over (renaming production) is rds-switch-over's, under another role: this one cannot
 * rename or modify a database it did not create. docs/rds-restore.md describes the contract.
 */

import { ENV, LAMBDA_ENV } from '#common/contract';
import { rdsTargetsFromEnv, targetNamed } from '#common/rds/rds-targets';
import { rds, rdsIn } from '#common/runtime/clients';
import { requireEnv } from '#common/runtime/env';
import { caretakerHandler } from '#common/runtime/middleware';
import { chooseSnapshot } from './choose.ts';
import type { RestoreDeps } from './deps.ts';
import { type RestoreEvent, restoreEventSchema } from './input.ts';
import { restoreDatabase } from './restore.ts';
import { databaseStatus } from './status.ts';
import { deleteRestored } from './teardown.ts';

const TARGETS = rdsTargetsFromEnv();
const DEPS: RestoreDeps = {
  rds: rds(),
  rdsIn,
  region: requireEnv(LAMBDA_ENV.region),
  stack: requireEnv(ENV.stackName),
};

/** Runs one action. */
export async function restoreAction(event: RestoreEvent) {
  const target = targetNamed(TARGETS, event.target);
  switch (event.action) {
    case 'choose':
      return chooseSnapshot(DEPS, target, event);
    case 'restore':
      return restoreDatabase(DEPS, target, event);
    case 'status':
      return databaseStatus(DEPS, target, event);
    case 'delete':
      return deleteRestored(DEPS, target, event);
  }
}

export const handler = caretakerHandler('rds-restore', restoreEventSchema(TARGETS), restoreAction);
