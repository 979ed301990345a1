/**
 * The drill's flows, in the order an operator's year would bring them: the nightly routine, a
 * retention dry run and a real one, updates that hold (an RDS change and a Lambda canary), an
 * update the application breaks on (it must roll back), a DR drill, and a failover. Each says what
 * it starts, what outcome it expects and what must be true of the data afterwards.
 */
import type { StateMachineFlow } from '../../functions/common/flows/names.ts';
import { APP_ALIAS, APP_FUNCTION } from './seed.ts';

/** What a scenario must find afterwards, beyond the data every scenario checks. */
export type Expectation =
  | { readonly kind: 'instance-class'; readonly value: string }
  | { readonly kind: 'alias-version'; readonly value: string }
  | { readonly kind: 'managed-snapshot' }
  | { readonly kind: 'nothing-restored-left' }
  | { readonly kind: 'restored-objects-identical' }
  | { readonly kind: 'drill-measured' }
  /** The seeded remnant folder: untouched (`kept`) or emptied of Caretaker's objects only (`emptied`). */
  | { readonly kind: 'remnant'; readonly state: 'kept' | 'emptied' };

export interface Scenario {
  /** Short name, shown in the progress and the report. */
  readonly name: string;
  readonly flow: StateMachineFlow;
  readonly input: Record<string, unknown>;
  /** The outcome without injected faults. */
  readonly expected: 'SUCCEEDED' | 'FAILED';
  /** Functions whose permanent failure this flow survives by design (it records them and goes on). */
  readonly tolerates?: readonly string[];
  readonly expectations: readonly Expectation[];
}

export interface ScenarioNames {
  readonly target: string;
  readonly backupSet: string;
  readonly environment: string;
  /** The class the update that holds moves to, and the one the application breaks on. */
  readonly goodClass: string;
  readonly badClass: string;
  readonly appFunctionArn: string;
}

export function scenarios(names: ScenarioNames): Scenario[] {
  return [
    {
      name: 'routine maintenance',
      flow: 'RoutineMaintenance',
      input: {},
      expected: 'SUCCEEDED',
      tolerates: ['health-check'],
      expectations: [{ kind: 'managed-snapshot' }],
    },
    {
      name: 'cleanup (dry run)',
      flow: 'Cleanup',
      input: { dryRun: true },
      expected: 'SUCCEEDED',
      expectations: [{ kind: 'managed-snapshot' }, { kind: 'remnant', state: 'kept' }],
    },
    {
      name: 'cleanup',
      flow: 'Cleanup',
      input: { dryRun: false },
      expected: 'SUCCEEDED',
      expectations: [{ kind: 'managed-snapshot' }, { kind: 'remnant', state: 'emptied' }],
    },
    {
      name: 'update: RDS instance class',
      flow: 'Update',
      input: {
        rds: { target: names.target, change: { instanceClass: names.goodClass } },
        stabilizationMinutes: 1,
      },
      expected: 'SUCCEEDED',
      expectations: [{ kind: 'instance-class', value: names.goodClass }],
    },
    {
      name: 'update: Lambda canary',
      flow: 'Update',
      input: {
        lambda: {
          functionName: names.appFunctionArn,
          alias: APP_ALIAS,
          targetVersion: '2',
          steps: [50, 100],
          bakeMinutes: 1,
        },
      },
      expected: 'SUCCEEDED',
      expectations: [{ kind: 'alias-version', value: '2' }],
    },
    {
      name: 'update that breaks the app (rolls back)',
      flow: 'Update',
      input: {
        rds: { target: names.target, change: { instanceClass: names.badClass } },
        stabilizationMinutes: 1,
      },
      expected: 'FAILED',
      expectations: [{ kind: 'instance-class', value: names.goodClass }],
    },
    {
      name: 'disaster recovery drill',
      flow: 'DisasterRecovery',
      input: { mode: 'drill' },
      expected: 'SUCCEEDED',
      expectations: [{ kind: 'drill-measured' }, { kind: 'nothing-restored-left' }],
    },
    {
      name: 'disaster recovery failover',
      flow: 'DisasterRecovery',
      input: {
        mode: 'failover',
        rdsTargets: [names.target],
        backupSets: [names.backupSet],
        confirm: names.environment,
      },
      expected: 'SUCCEEDED',
      expectations: [{ kind: 'restored-objects-identical' }],
    },
  ];
}

export { APP_FUNCTION };
