import { Aws, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { isKmsAliasArn } from '../../functions/common/config/kms-arn.ts';
import { ENV } from '../../functions/common/contract.ts';
import { STATE_MACHINE_FLOWS, stateMachineName } from '../../functions/common/flows/names.ts';
import type { ResolvedDatabaseMaintenance } from '../../functions/common/maintenance/maintenance-config.ts';
import type { CaretakerConfig } from '../config/schema.ts';
import { rdsResourceArn, stackArn } from '../security/arns.ts';
import { allow } from '../security/nag.ts';
import { CaretakerFunction, type CaretakerFunctionProps } from './caretaker-function.ts';

export interface MaintenanceFunctionsProps
  extends Pick<CaretakerFunctionProps, 'environmentName' | 'logRetention' | 'logKey'> {
  readonly config: CaretakerConfig;
  /** The stack's key, whose rotation is reported. */
  readonly key: kms.IKey;
}

/** The databases to maintain with their connection resolved from the query check they name. */
export function resolvedDatabaseMaintenance(config: CaretakerConfig): ResolvedDatabaseMaintenance[] {
  return config.databaseMaintenance.map((entry) => {
    const target = config.rdsTargets.find((t) => t.name === entry.rdsTarget)!;
    const check = config.healthChecks.queries.find((q) => q.name === entry.queryCheck);
    const { queryCheck: _, ...rest } = entry;
    return {
      ...rest,
      type: target.type,
      identifier: target.identifier,
      database: entry.database ?? check!.database,
      user: entry.user ?? check!.user,
      passwordSecretArn: entry.passwordSecretArn ?? check!.passwordSecretArn,
    };
  });
}

/**
 * The functions of the maintenance beyond backups (DESIGN §11), run by routine maintenance:
 * capacity (storage forecasts from CloudWatch), security-maintenance (pending RDS maintenance and
 * key rotation), db-maintenance (ANALYZE/VACUUM and database statistics) and task-statistics
 * (per-task figures from the flows' execution history). Each reads only what it reports on.
 */
export class MaintenanceFunctions extends Construct {
  public readonly capacity: CaretakerFunction;
  public readonly securityMaintenance: CaretakerFunction;
  public readonly databaseMaintenance: CaretakerFunction;
  public readonly taskStatistics: CaretakerFunction;

  constructor(scope: Construct, id: string, props: MaintenanceFunctionsProps) {
    super(scope, id);
    const { config } = props;
    const common = {
      environmentName: props.environmentName,
      logRetention: props.logRetention,
      logKey: props.logKey,
    };
    const targets = config.rdsTargets;
    const targetArns = [...new Set(targets.map((t) => rdsResourceArn(t.type, t.identifier)))];
    const describe = (fn: CaretakerFunction, extra: string[] = [], arns = targetArns) => {
      if (arns.length === 0) return;
      allow(
        fn.role,
        new iam.PolicyStatement({
          actions: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters', ...extra],
          resources: arns,
        }),
        'Only the configured RDS targets, named one by one.',
      );
    };

    this.capacity = new CaretakerFunction(this, 'Capacity', {
      ...common,
      name: 'capacity',
      description: 'Forecasts the storage of every RDS target from its CloudWatch history (days until full)',
      timeout: Duration.minutes(2),
    })
      .bind(ENV.rdsTargets, JSON.stringify(targets))
      .bind(ENV.capacity, JSON.stringify(config.capacity));
    describe(this.capacity);
    allow(
      this.capacity.role,
      new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
      'CloudWatch GetMetricData has no resource-level permissions; it reads metrics only.',
    );

    this.securityMaintenance = new CaretakerFunction(this, 'SecurityMaintenance', {
      ...common,
      name: 'security-maintenance',
      description: 'Reports pending RDS maintenance (security patches first) and KMS key rotation',
      timeout: Duration.minutes(2),
    })
      .bind(ENV.rdsTargets, JSON.stringify(targets))
      .bind(ENV.securityMaintenance, JSON.stringify(config.securityMaintenance))
      .bind(ENV.stackKeyArn, props.key.keyArn, (grantee) =>
        props.key.grant(grantee, 'kms:GetKeyRotationStatus'),
      );
    describe(this.securityMaintenance, ['rds:DescribePendingMaintenanceActions']);
    const otherKeys = [
      ...new Set([
        ...targets.flatMap((t) => (t.crossRegionCopy ? [t.crossRegionCopy.kmsKeyArn] : [])),
        ...config.securityMaintenance.kmsKeys,
      ]),
    ];
    const keyArns = otherKeys.filter((arn) => !isKmsAliasArn(arn));
    if (keyArns.length > 0) {
      allow(
        this.securityMaintenance.role,
        new iam.PolicyStatement({ actions: ['kms:GetKeyRotationStatus'], resources: keyArns }),
        'The configured keys, named one by one.',
      );
    }
    // A key named by alias ARN: KMS authorizes on the key, so the grant is on the keys of that
    // region and account that carry the alias (kms:ResourceAliases), to describe (resolve the
    // alias) and read rotation.
    for (const aliasArn of otherKeys.filter((arn) => isKmsAliasArn(arn))) {
      const [, partition, , region, account, resource] = aliasArn.split(':') as string[];
      allow(
        this.securityMaintenance.role,
        new iam.PolicyStatement({
          actions: ['kms:DescribeKey', 'kms:GetKeyRotationStatus'],
          resources: [`arn:${partition}:kms:${region}:${account}:key/*`],
          conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': resource } },
        }),
        `Only keys with the configured alias ${resource} (kms:ResourceAliases), in ${region}.`,
      );
    }

    const maintained = resolvedDatabaseMaintenance(config);
    this.databaseMaintenance = new CaretakerFunction(this, 'DatabaseMaintenance', {
      ...common,
      name: 'db-maintenance',
      description: 'Runs ANALYZE (and VACUUM) on configured databases and reports bloat and long queries',
      // A statement may run up to 14 minutes (statementTimeoutMinutes).
      timeout: Duration.minutes(15),
    })
      .bind(ENV.databaseMaintenance, JSON.stringify(maintained))
      .bind(ENV.databaseTls, 'verify-full')
      // The RDS certificate bundle shipped with the Lambda runtime, for verify-full connections.
      .bind(ENV.nodeExtraCaCerts, '/var/runtime/ca-cert.pem');
    describe(
      this.databaseMaintenance,
      [],
      [...new Set(maintained.map((m) => rdsResourceArn(m.type, m.identifier)))],
    );
    const secrets = [...new Set(maintained.map((m) => m.passwordSecretArn))];
    if (secrets.length > 0) {
      allow(
        this.databaseMaintenance.role,
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: secrets.flatMap((arn) => [arn, `${arn}-??????`]),
        }),
        'Secrets Manager appends a random 6-character suffix to secret ARNs; -?????? matches exactly that suffix of this one secret.',
      );
    }

    const names = Object.fromEntries(
      STATE_MACHINE_FLOWS.map((flow) => [flow, stateMachineName(props.environmentName, flow)]),
    );
    this.taskStatistics = new CaretakerFunction(this, 'TaskStatistics', {
      ...common,
      name: 'task-statistics',
      description: "Computes per-task statistics of every flow from the executions' history",
      timeout: Duration.minutes(15),
    })
      // Names, not ARNs: routine maintenance invokes this function, so its ARN cannot be an input here.
      .bind(
        ENV.stateMachineArnPrefix,
        `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:stateMachine:`,
      )
      .bind(ENV.stateMachineNames, JSON.stringify(names));
    const machines = Object.values(names);
    allow(
      this.taskStatistics.role,
      new iam.PolicyStatement({
        actions: ['states:ListExecutions'],
        resources: machines.map((name) => stackArn('states', `stateMachine:${name}`)),
      }),
      'The five Caretaker state machines, named one by one.',
    );
    allow(
      this.taskStatistics.role,
      new iam.PolicyStatement({
        actions: ['states:GetExecutionHistory'],
        resources: machines.map((name) => stackArn('states', `execution:${name}:*`)),
      }),
      'Executions are named per run: every execution of each Caretaker state machine, and only those.',
    );
  }
}
