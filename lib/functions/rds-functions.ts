import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { CaretakerConfig } from '../config/schema.ts';
import { stackArn } from '../security/arns.ts';
import { acknowledgeStatements } from '../security/nag.ts';
import { CaretakerFunction, type CaretakerFunctionProps } from './caretaker-function.ts';

type Target = CaretakerConfig['rdsTargets'][number];

export interface RdsFunctionsProps
  extends Pick<CaretakerFunctionProps, 'environmentName' | 'logRetention' | 'logKey'> {
  readonly config: CaretakerConfig;
}

const MANAGED_REQUEST = { StringEquals: { 'aws:RequestTag/caretaker:managed': 'true' } };

/** `arn:…:rds:<region>:<account>:<resource>` for each region. */
function rdsArns(regions: readonly string[], ...resources: string[]): string[] {
  return regions.flatMap((region) => resources.map((resource) => stackArn('rds', resource, region)));
}

/**
 * The RDS functions: rds-snapshot, rds-restore and update. Each gets the RDS targets in
 * `RDS_TARGETS` and IAM scoped to the configured identifiers and to the names Caretaker derives
 * (`caretaker-*` snapshots, `<id>-r*` restores, `<id>-old-*` parked originals); deletions are
 * allowed only on resources tagged `caretaker:managed=true`.
 */
export class RdsFunctions extends Construct {
  public readonly snapshot: CaretakerFunction;
  public readonly restore: CaretakerFunction;
  public readonly update: CaretakerFunction;

  constructor(scope: Construct, id: string, props: RdsFunctionsProps) {
    super(scope, id);
    const { config } = props;
    const targets = config.rdsTargets;
    const stackName = Stack.of(this).stackName;
    const primary = Stack.of(this).region;
    const drRegions = [
      ...new Set(targets.flatMap((t) => (t.crossRegionCopy ? [t.crossRegionCopy.region] : []))),
    ];
    const regions = [primary, ...drRegions];
    const instances = targets.filter((t) => t.type === 'instance');
    const clusters = targets.filter((t) => t.type === 'cluster');
    const common = {
      environmentName: props.environmentName,
      logRetention: props.logRetention,
      logKey: props.logKey,
      timeout: Duration.seconds(60),
    };
    const bindTargets = (fn: CaretakerFunction) =>
      fn.bind('RDS_TARGETS', JSON.stringify(targets)).bind('CARETAKER_STACK', stackName);

    this.snapshot = bindTargets(
      new CaretakerFunction(this, 'Snapshot', {
        ...common,
        name: 'rds-snapshot',
        description:
          'Creates tagged manual RDS snapshots, reports their status and copies them to the DR region',
      }),
    )
      .bind('SNAPSHOT_QUOTA', String(config.quotas.manualSnapshots))
      .bind('SNAPSHOT_WARN_PERCENT', String(config.quotas.snapshotWarnPercent))
      .bind('MAX_CONCURRENT_COPIES', String(config.quotas.maxConcurrentCopies));
    this.snapshotPolicy(this.snapshot, instances, clusters, regions, targets);

    this.restore = bindTargets(
      new CaretakerFunction(this, 'Restore', {
        ...common,
        name: 'rds-restore',
        description:
          'Restores RDS instances and clusters from snapshots with their settings, switches over and tears down',
      }),
    );
    this.restorePolicy(this.restore, instances, clusters, regions);

    this.update = bindTargets(
      new CaretakerFunction(this, 'Update', {
        ...common,
        name: 'update',
        description: 'Applies RDS changes and shifts Lambda aliases in canary steps, and reports progress',
      }),
    );
    this.updatePolicy(this.update, instances, clusters, config.updates.lambdaFunctions);
  }

  private snapshotPolicy(
    fn: CaretakerFunction,
    instances: Target[],
    clusters: Target[],
    regions: string[],
    targets: Target[],
  ): void {
    const [primary] = regions as [string];
    const statements: iam.PolicyStatement[] = [
      // Describe the source, and count manual snapshots in each region against the quota.
      new iam.PolicyStatement({
        actions: [
          'rds:DescribeDBInstances',
          'rds:DescribeDBClusters',
          'rds:DescribeDBSnapshots',
          'rds:DescribeDBClusterSnapshots',
        ],
        resources: rdsArns(regions, 'db:*', 'cluster:*', 'snapshot:*', 'cluster-snapshot:*'),
      }),
      new iam.PolicyStatement({
        actions: ['rds:ListTagsForResource'],
        resources: [
          ...rdsArns(
            [primary],
            ...instances.map((t) => `db:${t.identifier}`),
            ...clusters.map((t) => `cluster:${t.identifier}`),
          ),
          ...rdsArns(regions, 'snapshot:caretaker-*', 'cluster-snapshot:caretaker-*'),
        ],
      }),
    ];
    if (instances.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          actions: ['rds:CreateDBSnapshot'],
          resources: rdsArns(
            [primary],
            ...instances.map((t) => `db:${t.identifier}`),
            'snapshot:caretaker-*',
          ),
        }),
        new iam.PolicyStatement({
          actions: ['rds:CopyDBSnapshot'],
          resources: rdsArns(regions, 'snapshot:caretaker-*'),
        }),
      );
    }
    if (clusters.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          actions: ['rds:CreateDBClusterSnapshot'],
          resources: rdsArns(
            [primary],
            ...clusters.map((t) => `cluster:${t.identifier}`),
            'cluster-snapshot:caretaker-*',
          ),
        }),
        new iam.PolicyStatement({
          actions: ['rds:CopyDBClusterSnapshot'],
          resources: rdsArns(regions, 'cluster-snapshot:caretaker-*'),
        }),
      );
    }
    statements.push(
      new iam.PolicyStatement({
        actions: ['rds:AddTagsToResource'],
        resources: rdsArns(regions, 'snapshot:caretaker-*', 'cluster-snapshot:caretaker-*'),
        conditions: MANAGED_REQUEST,
      }),
    );
    const drKeys = [
      ...new Set(targets.flatMap((t) => (t.crossRegionCopy ? [t.crossRegionCopy.kmsKeyArn] : []))),
    ];
    if (drKeys.length > 0) {
      // RDS re-encrypts the copy under the DR key (and reads the source key) through grants it makes.
      statements.push(
        new iam.PolicyStatement({
          actions: ['kms:DescribeKey', 'kms:CreateGrant'],
          resources: [...drKeys, ...regions.map((region) => stackArn('kms', 'key/*', region))],
          conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
      );
    }
    this.allow(fn, statements, [
      [
        'db:*',
        'Counting manual snapshots per region (the quota) lists every snapshot, which RDS authorizes on db:* and snapshot:*; read-only.',
      ],
      ['cluster:*', 'Counting manual cluster snapshots per region lists every cluster snapshot; read-only.'],
      ['snapshot:*', 'Counting manual snapshots per region (the quota) needs to list them all; read-only.'],
      [
        'cluster-snapshot:*',
        'Counting manual cluster snapshots per region needs to list them all; read-only.',
      ],
      [
        'snapshot:caretaker-*',
        'Caretaker names its snapshots caretaker-<target>-<execution>-<kind>; only those may be created, copied and tagged.',
      ],
      [
        'cluster-snapshot:caretaker-*',
        'Caretaker names its cluster snapshots caretaker-<target>-<execution>-<kind>; only those may be created, copied and tagged.',
      ],
      [
        'key/*',
        'Source snapshots may be under any key of the account (including aws/rds); RDS needs DescribeKey/CreateGrant on it, and only for AWS resources (kms:GrantIsForAWSResource).',
      ],
    ]);
  }

  private restorePolicy(
    fn: CaretakerFunction,
    instances: Target[],
    clusters: Target[],
    regions: string[],
  ): void {
    const sources = [
      ...instances.map((t) => `db:${t.identifier}`),
      ...clusters.map((t) => `cluster:${t.identifier}`),
    ];
    const derived = [
      ...instances.flatMap((t) => [`db:${t.identifier}-r*`, `db:${t.identifier}-old-*`]),
      ...clusters.flatMap((t) => [
        `cluster:${t.identifier}-r*`,
        `cluster:${t.identifier}-old-*`,
        `db:${t.identifier}-r*`,
        `db:${t.identifier}-old-*`,
      ]),
    ];
    const statements = [
      new iam.PolicyStatement({
        actions: [
          'rds:DescribeDBInstances',
          'rds:DescribeDBClusters',
          'rds:DescribeDBSnapshots',
          'rds:DescribeDBClusterSnapshots',
          'rds:ListTagsForResource',
        ],
        resources: rdsArns(regions, 'db:*', 'cluster:*', 'snapshot:*', 'cluster-snapshot:*'),
      }),
      // A restore creates a new, tagged instance or cluster from a snapshot with the captured groups.
      new iam.PolicyStatement({
        actions: [
          'rds:RestoreDBInstanceFromDBSnapshot',
          'rds:RestoreDBClusterFromSnapshot',
          'rds:CreateDBInstance',
          'rds:AddTagsToResource',
        ],
        resources: rdsArns(
          regions,
          ...derived,
          'snapshot:*',
          'cluster-snapshot:*',
          'pg:*',
          'cluster-pg:*',
          'og:*',
          'subgrp:*',
        ),
        conditions: MANAGED_REQUEST,
      }),
      // Switch-over and undo rename the source and its restored copy, and toggle deletion protection
      // (without targets there is nothing to rename: no statement, which would have no resource).
      ...(sources.length === 0
        ? []
        : [
            new iam.PolicyStatement({
              actions: ['rds:ModifyDBInstance', 'rds:ModifyDBCluster', 'rds:AddTagsToResource'],
              resources: rdsArns(regions, ...sources, ...derived),
            }),
            new iam.PolicyStatement({
              actions: ['rds:RemoveTagsFromResource'],
              resources: rdsArns(regions, ...sources, ...derived),
              conditions: {
                'ForAllValues:StringEquals': {
                  'aws:TagKeys': ['caretaker:managed', 'caretaker:promoted-at'],
                },
              },
            }),
          ]),
      // Tear-down deletes only what Caretaker restored.
      new iam.PolicyStatement({
        actions: ['rds:DeleteDBInstance'],
        resources: rdsArns(regions, 'db:*'),
        conditions: { StringEquals: { 'rds:db-tag/caretaker:managed': 'true' } },
      }),
      new iam.PolicyStatement({
        actions: ['rds:DeleteDBCluster'],
        resources: rdsArns(regions, 'cluster:*'),
        conditions: { StringEquals: { 'rds:cluster-tag/caretaker:managed': 'true' } },
      }),
      new iam.PolicyStatement({
        actions: ['kms:DescribeKey', 'kms:CreateGrant'],
        resources: regions.map((region) => stackArn('kms', 'key/*', region)),
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    ];
    this.allow(fn, statements, [
      [
        'db:*',
        'Reads any instance (restores, parked originals); deletes only instances tagged caretaker:managed=true (rds:db-tag condition).',
      ],
      [
        'cluster:*',
        'Reads any cluster; deletes only clusters tagged caretaker:managed=true (rds:cluster-tag condition).',
      ],
      [
        'snapshot:*',
        'A restore may start from any snapshot the operator names (including DR copies); read and restore only.',
      ],
      [
        'cluster-snapshot:*',
        'A restore may start from any cluster snapshot the operator names; read and restore only.',
      ],
      [
        'pg:*',
        "The restored instance takes the source's parameter group, whatever its name; the request must tag the new resource as managed.",
      ],
      [
        'cluster-pg:*',
        "The restored cluster takes the source's cluster parameter group; the request must tag the new resource as managed.",
      ],
      [
        'og:*',
        "The restored instance takes the source's option group; the request must tag the new resource as managed.",
      ],
      [
        'subgrp:*',
        "The restored instance goes into the source's subnet group; the request must tag the new resource as managed.",
      ],
      [
        'key/*',
        'Snapshots may be under any key of the account; RDS needs DescribeKey/CreateGrant, and only for AWS resources.',
      ],
      ...[...instances, ...clusters].flatMap((t): [string, string][] => [
        [`db:${t.identifier}-r*`, 'Restored copies are named <source>-r<execution hash>.'],
        [`db:${t.identifier}-old-*`, 'A switch-over parks the original as <source>-old-<UTC time>.'],
        ...(t.type === 'cluster'
          ? ([
              [`cluster:${t.identifier}-r*`, 'Restored clusters are named <source>-r<execution hash>.'],
              [
                `cluster:${t.identifier}-old-*`,
                'A switch-over parks the original cluster as <source>-old-<UTC time>.',
              ],
            ] as [string, string][])
          : []),
      ]),
    ]);
  }

  private updatePolicy(
    fn: CaretakerFunction,
    instances: Target[],
    clusters: Target[],
    lambdaFunctions: readonly string[],
  ): void {
    const regions = [Stack.of(this).region];
    const statements = [
      new iam.PolicyStatement({
        actions: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'],
        resources: rdsArns(regions, 'db:*', 'cluster:*'),
      }),
    ];
    if (instances.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          actions: ['rds:ModifyDBInstance', 'rds:RebootDBInstance'],
          resources: rdsArns(regions, ...instances.map((t) => `db:${t.identifier}`), 'pg:*', 'og:*'),
        }),
      );
    }
    if (clusters.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          actions: ['rds:ModifyDBCluster'],
          resources: rdsArns(regions, ...clusters.map((t) => `cluster:${t.identifier}`), 'cluster-pg:*'),
        }),
        // Aurora members (whose names are not in the config) change instance class one by one.
        new iam.PolicyStatement({
          actions: ['rds:ModifyDBInstance', 'rds:RebootDBInstance'],
          resources: rdsArns(regions, 'db:*', 'pg:*'),
        }),
      );
    }
    if (lambdaFunctions.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          actions: ['lambda:GetAlias', 'lambda:UpdateAlias', 'lambda:GetFunctionConfiguration'],
          resources: lambdaFunctions.flatMap((arn) => [arn, `${arn}:*`]),
        }),
      );
    }
    this.allow(fn, statements, [
      [
        'db:*',
        'Reads instance state to poll progress; with Aurora targets, modifies the cluster members, whose names are not configured.',
      ],
      ['cluster:*', 'Reads cluster state to poll progress; read-only.'],
      ['pg:*', 'The change names a parameter group chosen by the operator at update time.'],
      ['og:*', 'An engine upgrade may move the instance to a new option group chosen at update time.'],
      ['cluster-pg:*', 'The change names a cluster parameter group chosen by the operator at update time.'],
      ...lambdaFunctions.map(
        (arn) =>
          [
            `${arn}:*`,
            "Canary shifts move this configured function's alias between its versions (qualified ARNs).",
          ] as const,
      ),
    ]);
  }

  /** Adds the statements to the function's role, each wildcard acknowledged with its reason, by ARN suffix. */
  private allow(
    fn: CaretakerFunction,
    statements: readonly iam.PolicyStatement[],
    wildcards: readonly (readonly [suffix: string, reason: string])[],
  ): void {
    for (const statement of statements) fn.role.addToPolicy(statement);
    acknowledgeStatements(fn.role, statements, (wildcard) => {
      // A configured identifier may itself contain the suffix of a broader entry: the longest wins.
      const match = wildcards
        .filter(([suffix]) => wildcard === suffix || wildcard.endsWith(`:${suffix}`))
        .sort(([a], [b]) => b.length - a.length)[0];
      return match?.[1];
    });
  }
}
