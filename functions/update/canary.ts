/**
 * Canary shifting of a Lambda alias, decided purely from the alias as it is: which version is
 * primary, what the routing sends to the new version, and what the alias should look like after
 * a step. Lambda's weighted aliases route `AdditionalVersionWeights[v]` (0–1) of invocations to
 * version v and the rest to the alias's FunctionVersion.
 */
import { PreconditionFailedError } from '#common/runtime/errors';

/** An alias as GetAlias reports it. */
export interface AliasState {
  readonly functionVersion: string;
  /** Extra versions and their share (0–1). */
  readonly weights: Readonly<Record<string, number>>;
}

/** The alias after a step: a primary version and the routing (empty = none). */
export interface AliasTarget {
  readonly functionVersion: string;
  readonly weights: Readonly<Record<string, number>>;
}

/** The share of invocations the target version gets now, in percent (0–100). */
export function currentPercent(alias: AliasState, targetVersion: string): number {
  if (alias.functionVersion === targetVersion && Object.keys(alias.weights).length === 0) return 100;
  return Math.round((alias.weights[targetVersion] ?? 0) * 10_000) / 100;
}

/**
 * The version the shift started from: the alias's primary version while it routes (at most) to
 * the target; refuses an alias that routes to a third version (another shift is under way).
 */
export function originalVersionOf(alias: AliasState, targetVersion: string, given?: string): string {
  const others = Object.keys(alias.weights).filter((version) => version !== targetVersion);
  if (others.length > 0) {
    throw new PreconditionFailedError(
      `The alias routes to version ${others.join(', ')} as well: another shift seems to be under way`,
      { weights: alias.weights },
    );
  }
  if (alias.functionVersion !== targetVersion) {
    if (given !== undefined && given !== alias.functionVersion) {
      throw new PreconditionFailedError(
        `The alias points at version ${alias.functionVersion}, not at the original version ${given}: it was changed by someone else`,
        { functionVersion: alias.functionVersion, originalVersion: given },
      );
    }
    return alias.functionVersion;
  }
  return given ?? alias.functionVersion;
}

/** The alias after moving to `percent` of the target version (100: the target becomes primary). */
export function aliasAt(original: string, targetVersion: string, percent: number): AliasTarget {
  if (percent >= 100) return { functionVersion: targetVersion, weights: {} };
  return { functionVersion: original, weights: { [targetVersion]: percent / 100 } };
}

/** Whether the alias already looks like `wanted`. */
export function sameAlias(alias: AliasState, wanted: AliasTarget): boolean {
  const keys = Object.keys(alias.weights);
  return (
    alias.functionVersion === wanted.functionVersion &&
    keys.length === Object.keys(wanted.weights).length &&
    keys.every((key) => Math.abs((alias.weights[key] ?? 0) - (wanted.weights[key] ?? -1)) < 1e-9)
  );
}

/** Whether an alias can be rolled back to `original`: untouched, ours to revert, or someone else's. */
export type AliasRollbackDecision = 'unchanged' | 'revert' | 'conflict';

/**
 * What rolling the alias back would overwrite. The shift only ever leaves the alias on the original
 * version routing a share to the target, or on the target alone; anything else (another primary
 * version, routing to a third version) was set by someone else and is not overwritten. Pure.
 */
export function aliasRollbackDecision(
  alias: AliasState,
  original: string,
  targetVersion: string,
): AliasRollbackDecision {
  const routed = Object.keys(alias.weights);
  if (alias.functionVersion === original && routed.length === 0) return 'unchanged';
  if (alias.functionVersion === original && routed.every((version) => version === targetVersion)) {
    return 'revert';
  }
  if (alias.functionVersion === targetVersion && routed.length === 0) return 'revert';
  return 'conflict';
}

/** An alias in words: `version 7, 10 % to version 8`. */
export function describeAlias(alias: AliasState): string {
  const routing = Object.entries(alias.weights).map(
    ([version, weight]) => `${Math.round(weight * 10_000) / 100} % to version ${version}`,
  );
  return [`version ${alias.functionVersion}`, ...routing].join(', ');
}
