/** A FlowContext for tests: an empty config's, with the given parts. */
import { disasterRecovery, healthChecks } from '#common/config/config-sections';
import type { FlowContext } from '#common/flows/context';

export function flowContext(parts: Partial<FlowContext> = {}): FlowContext {
  return {
    environmentName: 'test',
    backupSets: [],
    rdsTargets: [],
    lambdaFunctions: [],
    healthChecks: healthChecks.parse({}),
    disasterRecovery: disasterRecovery.parse({}),
    ...parts,
  };
}
