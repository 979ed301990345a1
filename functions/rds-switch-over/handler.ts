/**
 * rds-switch-over: switches a configured RDS target over to the copy an execution restored (the
 * copy takes the original's identifier; the original is parked as `<id>-old-<time>`), and undoes
 * it, one step per call, from any partial state given the execution id (switch-over.ts).
 *
 * A function of its own so that the one role allowed to rename production databases can neither
 * add the managed tag to them nor delete anything, and the role that restores and deletes
 * copies (rds-restore) cannot rename or modify production (docs/security.md).
 */

import { ENV } from '#common/contract';
import { rdsTargetsFromEnv, targetNamed } from '#common/rds/rds-targets';
import { rds } from '#common/runtime/clients';
import { requireEnv } from '#common/runtime/env';
import { caretakerHandler } from '#common/runtime/middleware';
import { type SwitchAction, switchEventSchema } from './input.ts';
import { type SwitchDeps, switchOver } from './switch-over.ts';

const TARGETS = rdsTargetsFromEnv();
const DEPS: SwitchDeps = { rds: rds(), stack: requireEnv(ENV.stackName) };

/** Runs one step of a switch-over or its undo. */
export async function switchAction(event: SwitchAction) {
  return switchOver(DEPS, targetNamed(TARGETS, event.target), event);
}

export const handler = caretakerHandler('rds-switch-over', switchEventSchema(TARGETS), switchAction);
