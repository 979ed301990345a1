/**
 * The rollback point and the rollback check of a Lambda alias canary: `alias-capture` records what
 * the alias serves before the first step (and refuses an alias another shift is moving), and
 * `alias-rollback-check` says whether rolling it back would overwrite someone else's change.
 */
import { GetAliasCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { PreconditionFailedError } from '#common/runtime/errors';
import { logger } from '#common/runtime/observability';
import { stateOf } from './alias-shift.ts';
import {
  type AliasRollbackDecision,
  type AliasState,
  aliasRollbackDecision,
  describeAlias,
  originalVersionOf,
} from './canary.ts';
import type { AliasCaptureEvent, AliasRollbackCheckEvent } from './input.ts';

export interface AliasCapture {
  readonly functionName: string;
  readonly alias: string;
  /** The version the canary starts from (and a rollback returns to). */
  readonly originalVersion: string;
  /** What the alias pointed at, routing included. */
  readonly found: AliasState;
  readonly description: string;
  readonly capturedAt: string;
}

/** `alias-capture`: the alias before the canary. */
export async function captureAlias(
  lambda: LambdaClient,
  event: AliasCaptureEvent,
  now: () => Date = () => new Date(),
): Promise<AliasCapture> {
  const alias = await lambda.send(
    new GetAliasCommand({ FunctionName: event.functionName, Name: event.alias }),
  );
  const found = stateOf(alias);
  if (found.functionVersion === event.targetVersion && Object.keys(found.weights).length === 0) {
    throw new PreconditionFailedError(
      `Alias ${event.alias} of ${event.functionName} already serves version ${event.targetVersion} only: there is nothing to shift`,
      { functionName: event.functionName, alias: event.alias, found },
    );
  }
  const originalVersion = originalVersionOf(found, event.targetVersion);
  logger.info('Alias captured', { alias: event.alias, originalVersion, found });
  return {
    functionName: event.functionName,
    alias: event.alias,
    originalVersion,
    found,
    description: describeAlias(found),
    capturedAt: now().toISOString(),
  };
}

export interface AliasRollbackCheck {
  readonly functionName: string;
  readonly alias: string;
  readonly method: 'alias';
  readonly decision: AliasRollbackDecision;
  /** What this update changed and the rollback undoes. */
  readonly changed: string[];
  /** What someone else changed. */
  readonly conflicts: string[];
  readonly found: AliasState;
  readonly description: string;
  /** The command that points the alias back at the original version by hand. */
  readonly manualCommands: string[];
}

/** `alias-rollback-check`: whether the alias can be rolled back to the original version now. */
export async function checkAliasRollback(
  lambda: LambdaClient,
  event: AliasRollbackCheckEvent,
): Promise<AliasRollbackCheck> {
  const alias = await lambda.send(
    new GetAliasCommand({ FunctionName: event.functionName, Name: event.alias }),
  );
  const found = stateOf(alias);
  const decision = aliasRollbackDecision(found, event.originalVersion, event.targetVersion);
  logger.info('Alias rollback assessed', { alias: event.alias, decision, found });
  const description = describeAlias(found);
  const name = `alias ${event.alias} of ${event.functionName}`;
  return {
    functionName: event.functionName,
    alias: event.alias,
    method: 'alias',
    decision,
    changed: decision === 'revert' ? [`${name}: version ${event.originalVersion} → ${description}`] : [],
    conflicts:
      decision === 'conflict'
        ? [
            `${name} points at ${description}, which this update (version ${event.originalVersion} → ${event.targetVersion}) did not set`,
          ]
        : [],
    found,
    description,
    manualCommands: [
      `aws lambda update-alias --function-name ${event.functionName} --name ${event.alias} --function-version ${event.originalVersion} --routing-config 'AdditionalVersionWeights={}'`,
    ],
  };
}
