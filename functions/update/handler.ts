/**
 * update: applies an RDS change (engine version, instance class, parameter group) now and reports
 * its progress for polling, or shifts a Lambda alias to a new version in canary steps and back.
 * Actions: `rds-apply`, `rds-progress`, `alias-shift`, `alias-rollback`. docs/updates.md
 * describes the contract.
 */
import { lambda, rds } from '#common/clients';
import { caretakerHandler } from '#common/middleware';
import { rdsTargetsFromEnv, targetNamed } from '#common/rds-targets';
import { rollbackAlias, shiftAlias } from './alias-shift.ts';
import { type UpdateEvent, updateEventSchema } from './input.ts';
import { applyRdsChange, rdsChangeProgress } from './rds-change.ts';

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
  }
}

export const handler = caretakerHandler('update', updateEventSchema(TARGETS), updateAction);
