import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { SWITCH_OVER_TAG_KEYS, TAG } from '../../functions/common/caretaker-tags.ts';
import { ENV, MANAGED_VALUE } from '../../functions/common/contract.ts';
import type { CaretakerConfig } from '../config/schema.ts';
import { stackArn } from '../security/arns.ts';
import { acknowledgeStatements } from '../security/nag.ts';
import { parkedPattern, restoredPattern, restoredWriterPattern } from '../security/rds-patterns.ts';
import { CaretakerFunction, type CaretakerFunctionProps } from './caretaker-function.ts';

type Target = CaretakerConfig['rdsTargets'][number];

export interface RdsFunctionsProps
  extends Pick<CaretakerFunctionProps, 'environmentName' | 'logRetention' | 'logKey'> {
  readonly config: CaretakerConfig;
}

const MANAGED_REQUEST = { StringEquals: { [`aws:RequestTag/${TAG.managed}`]: MANAGED_VALUE } };

/**
 * What RDS needs of a snapshot's key (and a copy's DR key) to restore or copy it: DescribeKey, and
 * grants for AWS resources, both only through RDS. (DescribeKey requests never carry
 * kms:GrantIsForAWSResource: under that condition it would never be allowed.)
 */
function kmsForRds(regions: readonly string[], extraKeys: readonly string[] = []): iam.PolicyStatement[] {
  const keys = [...extraKeys, ...regions.map((region) => stackArn('kms', 'key/*', region))];
  const viaRds = regions.map((region) => `rds.${region}.amazonaws.com`);
  return [
    new iam.PolicyStatement({
      actions: ['kms:DescribeKey'],
      resources: keys,
      conditions: { StringEquals: { 'kms:ViaService': viaRds } },
    }),
    new iam.PolicyStatement({
      actions: ['kms:CreateGrant'],
      resources: keys,
      conditions: {
        Bool: { 'kms:GrantIsForAWSResource': 'true' },
        StringEquals: { 'kms:ViaService': viaRds },
      },
    }),
  ];
}

/** `arn:…:rds:<region>:<account>:<resource>` for each region. */
function rdsArns(regions: readonly string[], ...resources: string[]): string[] {
  return regions.flatMap((region) => resources.map((resource) => stackArn('rds', resource, region)));
}

/**
 * The RDS functions: rds-snapshot, rds-restore, rds-switch-over and update. Each gets the RDS
 * targets in `RDS_TARGETS` and IAM scoped to the configured identifiers and to the names Caretaker
 * derives (`caretaker-*` snapshots, `<id>-r<8 hex>` restores, `<id>-old-<14 digits>` parked
 * originals: lib/security/rds-patterns.ts); deletions are allowed only on resources Caretaker
 * names and carrying the managed tag (`TAG.managed`). Renaming production (switch-over) and creating,
 * tagging and deleting copies (restore) are two roles, so neither alone can tag production as
 * managed and delete it (docs/security.md).
 */
export class RdsFunctions extends Construct {
  public readonly snapshot: CaretakerFunction;
  public readonly restore: CaretakerFunction;
  /** The only role that may rename production databases (and it may not delete or tag them managed). */
  public readonly switchOver: CaretakerFunction;
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
      fn.bind(ENV.rdsTargets, JSON.stringify(targets)).bind(ENV.stackName, stackName);

    this.snapshot = bindTargets(
      new CaretakerFunction(this, 'Snapshot', {
        ...common,
        name: 'rds-snapshot',
        description:
          'Creates tagged manual RDS snapshots, reports their status and copies them to the DR region',
      }),
    )
      .bind(ENV.snapshotQuota, String(config.quotas.manualSnapshots))
      .bind(ENV.snapshotWarnPercent, String(config.quotas.snapshotWarnPercent))
      .bind(ENV.maxConcurrentCopies, String(config.quotas.maxConcurrentCopies));
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

    this.switchOver = bindTargets(
      new CaretakerFunction(this, 'SwitchOver', {
        ...common,
        name: 'rds-switch-over',
        description:
          'Switches an RDS target over to a restored copy by renaming (and undoes it), journaled in tags',
      }),
    );
    this.switchOverPolicy(this.switchOver, instances, clusters, regions);

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
      statements.push(...kmsForRds(regions, drKeys));
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
    // The names this role creates (and alone may tag managed and delete): restored copies, and a
    // restored cluster's writer. Never the configured identifiers nor parked originals.
    const copies = [
      ...instances.map((t) => `db:${restoredPattern(t.identifier)}`),
      ...clusters.flatMap((t) => [
        `cluster:${restoredPattern(t.identifier)}`,
        `db:${restoredWriterPattern(t.identifier)}`,
      ]),
    ];
    const copiedInstances = copies.filter((name) => name.startsWith('db:'));
    const copiedClusters = copies.filter((name) => name.startsWith('cluster:'));
    const groups = ['snapshot:*', 'cluster-snapshot:*', 'pg:*', 'cluster-pg:*', 'og:*', 'subgrp:*'];
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
      // A restore creates a new, tagged, private instance from a snapshot with the captured groups.
      ...(copiedInstances.length === 0
        ? []
        : [
            new iam.PolicyStatement({
              actions: ['rds:RestoreDBInstanceFromDBSnapshot', 'rds:CreateDBInstance'],
              resources: rdsArns(regions, ...copiedInstances, ...copiedClusters, ...groups),
              conditions: { ...MANAGED_REQUEST, Bool: { 'rds:PubliclyAccessible': 'false' } },
            }),
          ]),
      ...(copiedClusters.length === 0
        ? []
        : [
            new iam.PolicyStatement({
              actions: ['rds:RestoreDBClusterFromSnapshot'],
              resources: rdsArns(regions, ...copiedClusters, ...groups),
              conditions: MANAGED_REQUEST,
            }),
          ]),
      // Tags only with the managed tag (TAG.managed) in the request: on a copy as it is created (or made
      // disposable again after an undone switch-over), and on the final snapshot of a copy that held
      // the production name (CopyTagsToSnapshot copies its tags).
      ...(copies.length === 0
        ? []
        : [
            new iam.PolicyStatement({
              actions: ['rds:AddTagsToResource'],
              resources: rdsArns(regions, ...copies, 'snapshot:caretaker-*', 'cluster-snapshot:caretaker-*'),
              conditions: MANAGED_REQUEST,
            }),
          ]),
      // Tear-down deletes only copies it created, and only while they are tagged managed; a copy that
      // held the production name goes with a final snapshot.
      ...(copiedInstances.length === 0
        ? []
        : [
            new iam.PolicyStatement({
              actions: ['rds:DeleteDBInstance'],
              resources: rdsArns(regions, ...copiedInstances),
              conditions: { StringEquals: { [`rds:db-tag/${TAG.managed}`]: MANAGED_VALUE } },
            }),
            new iam.PolicyStatement({
              actions: ['rds:CreateDBSnapshot'],
              resources: rdsArns(regions, ...copiedInstances, 'snapshot:caretaker-*'),
            }),
          ]),
      ...(copiedClusters.length === 0
        ? []
        : [
            new iam.PolicyStatement({
              actions: ['rds:DeleteDBCluster'],
              resources: rdsArns(regions, ...copiedClusters),
              conditions: { StringEquals: { [`rds:cluster-tag/${TAG.managed}`]: MANAGED_VALUE } },
            }),
            new iam.PolicyStatement({
              actions: ['rds:DeleteDBCluster', 'rds:CreateDBClusterSnapshot'],
              resources: rdsArns(regions, 'cluster-snapshot:caretaker-*'),
            }),
            new iam.PolicyStatement({
              actions: ['rds:CreateDBClusterSnapshot'],
              resources: rdsArns(regions, ...copiedClusters),
            }),
          ]),
      ...kmsForRds(regions),
    ];
    this.allow(fn, statements, [
      [
        'db:*',
        'Reads any instance (restores, parked originals, cluster members); read-only: creation, tagging and deletion are limited to the copies it names.',
      ],
      ['cluster:*', 'Reads any cluster (restored copies, parked originals); read-only.'],
      [
        'snapshot:*',
        'A restore may start from any snapshot the operator names (including DR copies); read and restore only.',
      ],
      [
        'cluster-snapshot:*',
        'A restore may start from any cluster snapshot the operator names; read and restore only.',
      ],
      [
        'snapshot:caretaker-*',
        'The final snapshot of a deleted copy is named caretaker-<target>-<execution>-final; tagged only as managed.',
      ],
      [
        'cluster-snapshot:caretaker-*',
        'The final snapshot of a deleted cluster copy is named caretaker-<target>-<execution>-final.',
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
        'Snapshots may be under any key of the account; RDS needs DescribeKey/CreateGrant through RDS, CreateGrant only for AWS resources.',
      ],
    ]);
  }

  /**
   * The switch-over's role: renames the configured databases, their parked originals and restored
   * copies, and tags them with journal keys only. It can neither add the managed tag (so nothing
   * it touches becomes deletable) nor delete, restore or create anything.
   */
  private switchOverPolicy(
    fn: CaretakerFunction,
    instances: Target[],
    clusters: Target[],
    regions: string[],
  ): void {
    const names = (type: 'db' | 'cluster', targets: Target[]) =>
      targets.flatMap((t) => [
        `${type}:${t.identifier}`,
        `${type}:${parkedPattern(t.identifier)}`,
        `${type}:${restoredPattern(t.identifier)}`,
      ]);
    const renamed = [...names('db', instances), ...names('cluster', clusters)];
    const statements: iam.PolicyStatement[] = [
      new iam.PolicyStatement({
        actions: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters', 'rds:ListTagsForResource'],
        resources: rdsArns(regions, 'db:*', 'cluster:*'),
      }),
    ];
    if (renamed.length > 0) {
      const keys = (allowed: readonly string[]) => ({
        'ForAllValues:StringEquals': { 'aws:TagKeys': [...allowed] },
        // Without this, a request with no tag keys would satisfy ForAllValues vacuously.
        Null: { 'aws:TagKeys': 'false' },
      });
      statements.push(
        ...(instances.length === 0
          ? []
          : [
              new iam.PolicyStatement({
                actions: ['rds:ModifyDBInstance'],
                resources: rdsArns([regions[0]!], ...names('db', instances)),
              }),
            ]),
        ...(clusters.length === 0
          ? []
          : [
              new iam.PolicyStatement({
                actions: ['rds:ModifyDBCluster'],
                resources: rdsArns([regions[0]!], ...names('cluster', clusters)),
              }),
            ]),
        new iam.PolicyStatement({
          actions: ['rds:AddTagsToResource'],
          resources: rdsArns([regions[0]!], ...renamed),
          conditions: keys(SWITCH_OVER_TAG_KEYS),
        }),
        new iam.PolicyStatement({
          actions: ['rds:RemoveTagsFromResource'],
          resources: rdsArns([regions[0]!], ...renamed),
          conditions: keys([
            TAG.managed,
            TAG.promotedAt,
            TAG.parkedBy,
            TAG.parkedAt,
            TAG.switchCopy,
            TAG.kind,
            TAG.stack,
            TAG.target,
          ]),
        }),
      );
    }
    this.allow(fn, statements, [
      ['db:*', 'Finds a parked original among all instances by its journal tags; read-only.'],
      ['cluster:*', 'Finds a parked original among all clusters by its journal tags; read-only.'],
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
        actions: [
          'rds:DescribeDBInstances',
          'rds:DescribeDBClusters',
          'rds:DescribePendingMaintenanceActions',
        ],
        resources: rdsArns(regions, 'db:*', 'cluster:*'),
      }),
    ];
    if (instances.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          actions: ['rds:ModifyDBInstance', 'rds:RebootDBInstance'],
          resources: rdsArns(regions, ...instances.map((t) => `db:${t.identifier}`), 'pg:*', 'og:*'),
        }),
        // A pending-maintenance update applies patches to the configured instances only.
        new iam.PolicyStatement({
          actions: ['rds:ApplyPendingMaintenanceAction'],
          resources: rdsArns(regions, ...instances.map((t) => `db:${t.identifier}`)),
        }),
      );
    }
    if (clusters.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          actions: ['rds:ModifyDBCluster'],
          resources: rdsArns(regions, ...clusters.map((t) => `cluster:${t.identifier}`), 'cluster-pg:*'),
        }),
        // Aurora members (whose names are not in the config) change instance class one by one,
        // and get their pending maintenance applied one by one.
        new iam.PolicyStatement({
          actions: ['rds:ModifyDBInstance', 'rds:RebootDBInstance', 'rds:ApplyPendingMaintenanceAction'],
          resources: rdsArns(regions, 'db:*', 'pg:*'),
        }),
        new iam.PolicyStatement({
          actions: ['rds:ApplyPendingMaintenanceAction'],
          resources: rdsArns(regions, ...clusters.map((t) => `cluster:${t.identifier}`)),
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
        'Reads instance state and pending maintenance to poll progress; with Aurora targets, modifies and patches the cluster members, whose names are not configured.',
      ],
      ['cluster:*', 'Reads cluster state and pending maintenance to poll progress; read-only.'],
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
