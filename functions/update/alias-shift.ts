/**
 * `alias-shift` and `alias-rollback`: a Lambda alias moved to a new version one canary step per
 * call (the flow waits and checks health between steps) and back to the original version with no
 * routing. Each call sets the alias to exactly what its step says, so a retried call changes
 * nothing twice; updates carry the alias's RevisionId, so a concurrent change is not overwritten.
 */
import {
  type AliasConfiguration,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  type LambdaClient,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { isErrorNamed, PreconditionFailedError, ResourceBusyError } from '#common/runtime/errors';
import { logger } from '#common/runtime/observability';
import {
  type AliasState,
  type AliasTarget,
  aliasAt,
  aliasRollbackDecision,
  currentPercent,
  describeAlias,
  originalVersionOf,
  sameAlias,
} from './canary.ts';
import type { AliasRollbackEvent, AliasShiftEvent } from './input.ts';

export function stateOf(alias: AliasConfiguration): AliasState {
  return {
    functionVersion: alias.FunctionVersion ?? '',
    weights: { ...(alias.RoutingConfig?.AdditionalVersionWeights ?? {}) },
  };
}

async function update(
  lambda: LambdaClient,
  functionName: string,
  name: string,
  wanted: AliasTarget,
  revisionId: string | undefined,
): Promise<void> {
  try {
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: functionName,
        Name: name,
        FunctionVersion: wanted.functionVersion,
        RoutingConfig: { AdditionalVersionWeights: { ...wanted.weights } },
        RevisionId: revisionId,
      }),
    );
  } catch (error) {
    if (isErrorNamed(error, 'PreconditionFailedException')) {
      throw new ResourceBusyError(
        `Alias ${name} of ${functionName} changed while it was being shifted: try again`,
        {
          functionName,
          alias: name,
        },
      );
    }
    throw error;
  }
}

export interface ShiftResult {
  readonly functionName: string;
  readonly alias: string;
  readonly originalVersion: string;
  readonly targetVersion: string;
  readonly step: number;
  /** Percent of invocations on the target version after this step. */
  readonly weight: number;
  readonly previousWeight: number;
  /** The step to pass next, or null after the last. */
  readonly nextStep: number | null;
  /** The target version is the alias's only version. */
  readonly done: boolean;
  readonly steps: readonly number[];
  readonly changed: boolean;
}

/** Moves the alias to the event's step. */
export async function shiftAlias(lambda: LambdaClient, event: AliasShiftEvent): Promise<ShiftResult> {
  const alias = await lambda.send(
    new GetAliasCommand({ FunctionName: event.functionName, Name: event.alias }),
  );
  // The target must be a published version of this function (NotFoundError otherwise).
  await lambda.send(
    new GetFunctionConfigurationCommand({ FunctionName: event.functionName, Qualifier: event.targetVersion }),
  );
  const state = stateOf(alias);
  const original = originalVersionOf(state, event.targetVersion, event.originalVersion);
  const weight = event.steps[event.step]!;
  const wanted = aliasAt(original, event.targetVersion, weight);
  const previousWeight = currentPercent(state, event.targetVersion);
  const changed = !sameAlias(state, wanted);
  if (changed) await update(lambda, event.functionName, event.alias, wanted, alias.RevisionId);
  logger.info('Alias shifted', {
    alias: event.alias,
    targetVersion: event.targetVersion,
    weight,
    previousWeight,
    changed,
  });
  const next = event.step + 1;
  return {
    functionName: event.functionName,
    alias: event.alias,
    originalVersion: original,
    targetVersion: event.targetVersion,
    step: event.step,
    weight,
    previousWeight,
    nextStep: next < event.steps.length ? next : null,
    done: weight === 100,
    steps: event.steps,
    changed,
  };
}

export interface RollbackResult {
  readonly functionName: string;
  readonly alias: string;
  readonly originalVersion: string;
  /** What the alias pointed at before the rollback. */
  readonly from: AliasState;
  readonly changed: boolean;
}

/** Points the alias back at the original version with no routing. */
export async function rollbackAlias(
  lambda: LambdaClient,
  event: AliasRollbackEvent,
): Promise<RollbackResult> {
  const alias = await lambda.send(
    new GetAliasCommand({ FunctionName: event.functionName, Name: event.alias }),
  );
  const state = stateOf(alias);
  if (
    event.targetVersion !== undefined &&
    aliasRollbackDecision(state, event.originalVersion, event.targetVersion) === 'conflict'
  ) {
    throw new PreconditionFailedError(
      `Refusing to roll back alias ${event.alias} of ${event.functionName}: it points at ${describeAlias(state)}, which this update (version ${event.originalVersion} → ${event.targetVersion}) did not set`,
      { functionName: event.functionName, alias: event.alias, found: state },
    );
  }
  const wanted = { functionVersion: event.originalVersion, weights: {} };
  const changed = !sameAlias(state, wanted);
  if (changed) await update(lambda, event.functionName, event.alias, wanted, alias.RevisionId);
  logger.info('Alias rolled back', {
    alias: event.alias,
    originalVersion: event.originalVersion,
    from: state,
    changed,
  });
  return {
    functionName: event.functionName,
    alias: event.alias,
    originalVersion: event.originalVersion,
    from: state,
    changed,
  };
}
