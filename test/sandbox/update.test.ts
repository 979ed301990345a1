/**
 * update end to end on the sandbox (RDS + Lambda), through the real handler with clients
 * configured only by environment: an RDS change applied now and polled until the new engine
 * version, class and parameter group are visible (an instance and an Aurora cluster), and a
 * Lambda alias shifted to a new version in canary steps and rolled back.
 */
import { fileURLToPath } from 'node:url';
import {
  CreateAliasCommand,
  GetAliasCommand,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LambdaService, lambdaService } from '../../sandbox/services/lambda/index.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { fakeContext } from '../support/lambda-context.ts';
import { withSandbox } from '../support/sandbox.ts';
import { waitForCluster, waitForInstance } from './rds-support.ts';

const sandbox = withSandbox([rdsService, lambdaService], {
  settings: {
    rds: { statusDelayMs: 150 },
    lambda: { registerCaretakerFunctions: false, environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } },
  },
});

type Handler = (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<any>;
let update: Handler;
let rds: RDSClient;
let lambda: LambdaClient;
let version: string;
const context = () => fakeContext('update');
const echo = fileURLToPath(new URL('../fixtures/statemachines/handlers/echo.ts', import.meta.url));

/** Polls rds-progress as the flow's Wait loop would, returning every result. */
async function progressUntilDone(event: object): Promise<any[]> {
  const seen: any[] = [];
  for (let attempt = 0; attempt < 600; attempt++) {
    const result = await update({ ...event, action: 'rds-progress' }, context());
    seen.push(result);
    if (result.done) return seen;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the change never finished');
}

/** The next minor version of `current` ("18.1" → "18.2"). */
function nextMinor(current: string): string {
  const [major, minor = '0'] = current.split('.');
  return `${major}.${Number(minor) + 1}`;
}

beforeAll(async () => {
  rds = new RDSClient({});
  lambda = new LambdaClient({});
  process.env.RDS_TARGETS = JSON.stringify([
    { name: 'orders', identifier: 'orders-db', retention: 'daily' },
    { name: 'ledger', type: 'cluster', identifier: 'ledger', retention: 'daily' },
  ]);
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'orders-db',
      DBInstanceClass: 'db.r6g.large',
      Engine: 'postgres',
      MasterUsername: 'owner',
      MasterUserPassword: 'owner-secret-1',
      DBParameterGroupName: 'orders-params-v1',
      BackupRetentionPeriod: 0,
    }),
  );
  await rds.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: 'ledger',
      Engine: 'aurora-postgresql',
      MasterUsername: 'owner',
      MasterUserPassword: 'owner-secret-1',
      DBClusterParameterGroupName: 'ledger-v1',
    }),
  );
  for (const id of ['ledger-1', 'ledger-2']) {
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        DBClusterIdentifier: 'ledger',
        Engine: 'aurora-postgresql',
        DBInstanceClass: 'db.r6g.large',
      }),
    );
  }
  await Promise.all([
    waitForInstance(rds, 'orders-db'),
    waitForCluster(rds, 'ledger'),
    waitForInstance(rds, 'ledger-1'),
    waitForInstance(rds, 'ledger-2'),
  ]);
  version = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db' })))
    .DBInstances![0]!.EngineVersion!;
  update = (await import('../../functions/update/handler.ts')).handler as Handler;
}, 120_000);

describe('RDS changes', () => {
  it('applies engine version, class and parameter group at once and reports progress until all are visible', async () => {
    const change = {
      engineVersion: nextMinor(version),
      instanceClass: 'db.r6g.xlarge',
      parameterGroup: 'orders-params-v2',
    };

    const applied = await update({ action: 'rds-apply', target: 'orders', change }, context());
    const seen = await progressUntilDone({ target: 'orders', change });
    const again = await update({ action: 'rds-apply', target: 'orders', change }, context());

    const instance = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db' })))
      .DBInstances![0]!;
    expect(applied).toMatchObject({
      sent: ['engineVersion', 'instanceClass', 'parameterGroup'],
      done: false,
    });
    expect(applied.before).toMatchObject({ engineVersion: version, parameterGroup: 'orders-params-v1' });
    expect(seen.some((result) => result.status === 'upgrading')).toBe(true);
    expect(seen.at(-1)).toMatchObject({ done: true, status: 'available', waitingFor: [] });
    expect(instance).toMatchObject({
      EngineVersion: change.engineVersion,
      DBInstanceClass: 'db.r6g.xlarge',
      DBParameterGroups: [{ DBParameterGroupName: 'orders-params-v2', ParameterApplyStatus: 'in-sync' }],
    });
    expect(instance.PendingModifiedValues ?? {}).toEqual({});
    expect(again).toMatchObject({ sent: [], done: true });
  });

  it('refuses a new major version without allowMajorVersionUpgrade, as RDS does, as a permanent error', async () => {
    const major = `${Number(version.split('.')[0]) + 1}.1`;

    await expect(
      update({ action: 'rds-apply', target: 'orders', change: { engineVersion: major } }, context()),
    ).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      message: expect.stringMatching(/AllowMajorVersionUpgrade/),
    });
  });

  it('changes a cluster: its engine version and parameter group, and every member’s class', async () => {
    const change = {
      engineVersion: nextMinor(version),
      instanceClass: 'db.r7g.large',
      parameterGroup: 'ledger-v2',
    };

    const applied = await update({ action: 'rds-apply', target: 'ledger', change }, context());
    const seen = await progressUntilDone({ target: 'ledger', change });

    const cluster = (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'ledger' })))
      .DBClusters![0]!;
    const members = (
      await rds.send(
        new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-cluster-id', Values: ['ledger'] }] }),
      )
    ).DBInstances!;
    expect(applied.sent).toEqual([
      'engineVersion',
      'parameterGroup',
      'instanceClass:ledger-2',
      'instanceClass:ledger-1',
    ]);
    expect(seen.at(-1)).toMatchObject({ done: true });
    expect(cluster).toMatchObject({
      EngineVersion: change.engineVersion,
      DBClusterParameterGroup: 'ledger-v2',
    });
    expect(members.map((member) => member.DBInstanceClass)).toEqual(['db.r7g.large', 'db.r7g.large']);
  });
});

describe('Lambda alias canary', () => {
  beforeAll(async () => {
    const service = sandbox.sandbox.context.service<LambdaService>('lambda')!;
    service.register({ name: 'checkout', modulePath: echo, environment: { FIXTURE_NAME: 'v1' } });
    await lambda.send(new PublishVersionCommand({ FunctionName: 'checkout' }));
    service.register({ name: 'checkout', modulePath: echo, environment: { FIXTURE_NAME: 'v2' } });
    await lambda.send(new PublishVersionCommand({ FunctionName: 'checkout' }));
    await lambda.send(
      new CreateAliasCommand({ FunctionName: 'checkout', Name: 'live', FunctionVersion: '1' }),
    );
  });

  const alias = async () => {
    const out = await lambda.send(new GetAliasCommand({ FunctionName: 'checkout', Name: 'live' }));
    return { version: out.FunctionVersion, weights: out.RoutingConfig?.AdditionalVersionWeights ?? {} };
  };

  it('moves one step per call through 5, 25, 50 and 100 %, then serves only the new version', async () => {
    const seen: object[] = [];
    let step: number | null = 0;
    const results: any[] = [];
    while (step !== null) {
      const result = await update(
        { action: 'alias-shift', functionName: 'checkout', alias: 'live', targetVersion: '2', step },
        context(),
      );
      results.push(result);
      seen.push(await alias());
      step = result.nextStep;
    }
    const invoked = await lambda.send(
      new InvokeCommand({ FunctionName: 'checkout', Qualifier: 'live', Payload: '{}' }),
    );

    expect(seen).toEqual([
      { version: '1', weights: { '2': 0.05 } },
      { version: '1', weights: { '2': 0.25 } },
      { version: '1', weights: { '2': 0.5 } },
      { version: '2', weights: {} },
    ]);
    expect(results.map((r) => [r.weight, r.originalVersion, r.done])).toEqual([
      [5, '1', false],
      [25, '1', false],
      [50, '1', false],
      [100, '1', true],
    ]);
    expect(invoked.ExecutedVersion).toBe('2');
  });

  it('changes nothing when a step is retried', async () => {
    const event = {
      action: 'alias-shift',
      functionName: 'checkout',
      alias: 'live',
      targetVersion: '2',
      step: 3,
      originalVersion: '1',
    };

    const again = await update(event, context());

    expect(again).toMatchObject({ changed: false, weight: 100, previousWeight: 100, originalVersion: '1' });
  });

  it('rolls back to the original version with no routing', async () => {
    await update(
      {
        action: 'alias-shift',
        functionName: 'checkout',
        alias: 'live',
        targetVersion: '2',
        step: 1,
        originalVersion: '1',
      },
      context(),
    );

    const rolledBack = await update(
      { action: 'alias-rollback', functionName: 'checkout', alias: 'live', originalVersion: '1' },
      context(),
    );

    expect(rolledBack).toMatchObject({
      changed: true,
      from: { functionVersion: '1', weights: { '2': 0.25 } },
    });
    expect(await alias()).toEqual({ version: '1', weights: {} });
  });

  it('names a version that was never published', async () => {
    await expect(
      update(
        { action: 'alias-shift', functionName: 'checkout', alias: 'live', targetVersion: '9' },
        context(),
      ),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});
