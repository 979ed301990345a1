/**
 * update: applies an RDS change (engine version, instance class, parameter group, or the pending
 * maintenance actions) now and reports its progress for polling, or shifts a Lambda alias to a new version in canary steps and back;
 * and the Update flow's rollback point and rollback checks for both.
 * Actions: `rds-capture`, `rds-apply`, `rds-progress`, `rds-rollback-check`, `rds-revert`,
 * `alias-capture`, `alias-shift`, `alias-rollback-check`, `alias-rollback`. docs/updates.md
 * describes the contract.
 */

import { rdsTargetsFromEnv, targetNamed } from '#common/rds/rds-targets';
import { lambda, rds } from '#common/runtime/clients';
import { caretakerHandler } from '#common/runtime/middleware';
import { captureAlias, checkAliasRollback } from './alias-rollback.ts';
import { rollbackAlias, shiftAlias } from './alias-shift.ts';
import { type UpdateEvent, updateEventSchema } from './input.ts';
import { applyRdsChange, rdsChangeProgress } from './rds-change.ts';
import { captureSettings, checkRdsRollback, revertRdsChange } from './rds-rollback.ts';

const TARGETS = rdsTargetsFromEnv();

/** Runs one action. */
export async function updateAction(event: UpdateEvent) {
  switch (event.action) {
    case 'rds-apply':
      return applyRdsChange(rds(), targetNamed(TARGETS, event.target), event.change);
    case 'rds-progress':
      return rdsChangeProgress(rds(), targetNamed(TARGETS, event.target), event.change);
    case 'alias-shift':
      return shiftAlias(lambda(), event);
    case 'alias-rollback':
      return rollbackAlias(lambda(), event);
    case 'rds-capture':
      return captureSettings(rds(), targetNamed(TARGETS, event.target), event.change);
    case 'rds-rollback-check':
      return checkRdsRollback(rds(), targetNamed(TARGETS, event.target), event);
    case 'rds-revert':
      return revertRdsChange(rds(), targetNamed(TARGETS, event.target), event.change, event.captured);
    case 'alias-capture':
      return captureAlias(lambda(), event);
    case 'alias-rollback-check':
      return checkAliasRollback(lambda(), event);
  }
}

export const handler = caretakerHandler('update', updateEventSchema(TARGETS), updateAction);
