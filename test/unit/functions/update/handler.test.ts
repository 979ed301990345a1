import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import {
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { awsServiceError } from '../../../support/aws-errors.ts';
import { fakeContext } from '../../../support/lambda-context.ts';

const rdsMock = mockClient(RDSClient);
const lambdaMock = mockClient(LambdaClient);
let handler: (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<any>;
const context = () => fakeContext('update');

beforeAll(async () => {
  process.env.RDS_TARGETS = JSON.stringify([{ name: 'orders', identifier: 'orders-db', retention: 'daily' }]);
  ({ handler } = await import('../../../../functions/update/handler.ts'));
});

beforeEach(() => {
  rdsMock.reset();
  lambdaMock.reset();
});

describe('validation', () => {
  it('names each bad field of an RDS change before calling RDS', async () => {
    const bad = {
      action: 'rds-apply',
      target: 'orders',
      change: { engineVersion: 'latest', instanceClass: 'r6g.large', parameterGroup: 'my--params' },
    };

    await expect(handler(bad, context())).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(
        /change\.engineVersion: expected an engine version.*change\.instanceClass: expected an instance class.*change\.parameterGroup: expected a parameter group name/s,
      ),
    });
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('refuses a change that changes nothing', async () => {
    await expect(
      handler({ action: 'rds-apply', target: 'orders', change: {} }, context()),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/at least one of engineVersion, instanceClass, parameterGroup/),
    });
  });

  it('refuses canary steps that do not climb to 100 and a step past the last', async () => {
    const base = { action: 'alias-shift', functionName: 'checkout', alias: 'live', targetVersion: '4' };

    await expect(handler({ ...base, steps: [50, 25, 100] }, context())).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/steps: expected ascending weights/),
    });
    await expect(handler({ ...base, steps: [10, 50] }, context())).rejects.toMatchObject({
      message: expect.stringMatching(/steps: expected the last weight to be 100/),
    });
    await expect(handler({ ...base, step: 4 }, context())).rejects.toMatchObject({
      message: expect.stringMatching(/step: expected a step below 4/),
    });
    await expect(handler({ ...base, targetVersion: '$LATEST' }, context())).rejects.toMatchObject({
      message: expect.stringMatching(/targetVersion: expected a published version number/),
    });
    expect(lambdaMock.calls()).toHaveLength(0);
  });
});

describe('rds-progress', () => {
  it('reboots an instance whose new parameter group waits for a reboot, once', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({
        DBInstances: [
          {
            DBInstanceIdentifier: 'orders-db',
            DBInstanceStatus: 'available',
            DBParameterGroups: [{ DBParameterGroupName: 'v2', ParameterApplyStatus: 'pending-reboot' }],
          },
        ],
      })
      .resolves({
        DBInstances: [
          {
            DBInstanceIdentifier: 'orders-db',
            DBInstanceStatus: 'rebooting',
            DBParameterGroups: [{ DBParameterGroupName: 'v2', ParameterApplyStatus: 'pending-reboot' }],
          },
        ],
      });
    rdsMock.on(RebootDBInstanceCommand).resolves({});

    const first = await handler(
      { action: 'rds-progress', target: 'orders', change: { parameterGroup: 'v2' } },
      context(),
    );
    const second = await handler(
      { action: 'rds-progress', target: 'orders', change: { parameterGroup: 'v2' } },
      context(),
    );

    expect(first).toMatchObject({ rebooted: ['orders-db'], done: false, status: 'rebooting' });
    expect(second).toMatchObject({ rebooted: [], done: false });
    expect(rdsMock.commandCalls(RebootDBInstanceCommand)).toHaveLength(1);
  });
});

describe('alias-shift', () => {
  it('turns a concurrent change of the alias (RevisionId mismatch) into the transient ResourceBusyError', async () => {
    lambdaMock.on(GetAliasCommand).resolves({ FunctionVersion: '3', RevisionId: 'r1' });
    lambdaMock.on(GetFunctionConfigurationCommand).resolves({ Version: '4' });
    lambdaMock
      .on(UpdateAliasCommand)
      .rejects(awsServiceError('PreconditionFailedException', 'revision', 412));

    await expect(
      handler(
        { action: 'alias-shift', functionName: 'checkout', alias: 'live', targetVersion: '4' },
        context(),
      ),
    ).rejects.toMatchObject({ name: 'ResourceBusyError' });
    expect(lambdaMock.commandCalls(UpdateAliasCommand)[0]?.args[0].input).toMatchObject({
      FunctionVersion: '3',
      RoutingConfig: { AdditionalVersionWeights: { '4': 0.05 } },
      RevisionId: 'r1',
    });
  });
});

const ordersDb = (extra: object = {}) => ({
  DBInstances: [
    {
      DBInstanceIdentifier: 'orders-db',
      DBInstanceStatus: 'available',
      EngineVersion: '16.3',
      DBInstanceClass: 'db.r6g.large',
      DBParameterGroups: [{ DBParameterGroupName: 'orders-v1', ParameterApplyStatus: 'in-sync' }],
      ...extra,
    },
  ],
});

const capturedOrders = {
  target: 'orders',
  type: 'instance',
  identifier: 'orders-db',
  engineVersion: '16.3',
  parameterGroup: 'orders-v1',
  members: [{ identifier: 'orders-db', instanceClass: 'db.r6g.large' }],
  capturedAt: '2026-03-10T12:00:00.000Z',
};

describe('rds-capture', () => {
  it('records the engine version, parameter group and class the rollback returns to', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves(ordersDb());

    const captured = await handler({ action: 'rds-capture', target: 'orders' }, context());

    expect(captured).toMatchObject({ ...capturedOrders, capturedAt: expect.any(String) });
  });

  it('refuses a database with someone else’s modification pending, which the update would apply too', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolves(ordersDb({ PendingModifiedValues: { DBInstanceClass: 'db.r7g.large' } }));

    await expect(handler({ action: 'rds-capture', target: 'orders' }, context())).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      message: expect.stringMatching(/orders-db has class db\.r7g\.large pending/),
    });
  });
});

describe('rds-rollback-check', () => {
  it('finds the update’s own change, names it, and gives the command to undo it by hand, changing nothing', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves(ordersDb({ DBInstanceClass: 'db.r6g.xlarge' }));

    const check = await handler(
      {
        action: 'rds-rollback-check',
        target: 'orders',
        change: { instanceClass: 'db.r6g.xlarge' },
        captured: capturedOrders,
        method: 'in-place',
      },
      context(),
    );

    expect(check).toMatchObject({
      method: 'in-place',
      decision: 'revert',
      changed: ['instance class of orders-db: db.r6g.large → db.r6g.xlarge'],
      found: { members: [{ identifier: 'orders-db', instanceClass: 'db.r6g.xlarge' }] },
      manualCommands: [
        'aws rds modify-db-instance --db-instance-identifier orders-db --db-instance-class db.r6g.large --apply-immediately',
      ],
    });
    expect(rdsMock.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
  });
});

describe('rds-revert', () => {
  it('sends the original class back once, then waits for it', async () => {
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce(ordersDb({ DBInstanceClass: 'db.r6g.xlarge' }))
      .resolves(
        ordersDb({
          DBInstanceClass: 'db.r6g.xlarge',
          PendingModifiedValues: { DBInstanceClass: 'db.r6g.large' },
        }),
      );
    rdsMock.on(ModifyDBInstanceCommand).resolves({});
    const event = {
      action: 'rds-revert',
      target: 'orders',
      change: { instanceClass: 'db.r6g.xlarge' },
      captured: capturedOrders,
    };

    const first = await handler(event, context());
    const second = await handler(event, context());

    expect(first).toMatchObject({ done: false, sent: ['instanceClass:db.r6g.large'] });
    expect(second).toMatchObject({ done: false, sent: [] });
    expect(rdsMock.commandCalls(ModifyDBInstanceCommand).map((call) => call.args[0].input)).toEqual([
      {
        DBInstanceIdentifier: 'orders-db',
        DBInstanceClass: 'db.r6g.large',
        DBParameterGroupName: undefined,
        ApplyImmediately: true,
      },
    ]);
  });

  it('refuses to overwrite a class someone else set, sending nothing', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves(ordersDb({ DBInstanceClass: 'db.r7g.2xlarge' }));

    await expect(
      handler(
        {
          action: 'rds-revert',
          target: 'orders',
          change: { instanceClass: 'db.r6g.xlarge' },
          captured: capturedOrders,
        },
        context(),
      ),
    ).rejects.toMatchObject({ name: 'PreconditionFailedError' });
    expect(rdsMock.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
  });
});

describe('alias rollback point and rollback', () => {
  it('captures the version the canary starts from, and refuses an alias already on the target alone', async () => {
    lambdaMock.on(GetAliasCommand).resolvesOnce({ FunctionVersion: '7', RevisionId: 'r1' }).resolves({
      FunctionVersion: '8',
      RevisionId: 'r2',
    });
    const event = { action: 'alias-capture', functionName: 'checkout', alias: 'live', targetVersion: '8' };

    const captured = await handler(event, context());

    expect(captured).toMatchObject({ originalVersion: '7', found: { functionVersion: '7', weights: {} } });
    await expect(handler(event, context())).rejects.toMatchObject({ name: 'PreconditionFailedError' });
  });

  it('refuses to roll back an alias someone pointed at another version, without updating it', async () => {
    lambdaMock.on(GetAliasCommand).resolves({ FunctionVersion: '9', RevisionId: 'r3' });

    const check = await handler(
      {
        action: 'alias-rollback-check',
        functionName: 'checkout',
        alias: 'live',
        originalVersion: '7',
        targetVersion: '8',
      },
      context(),
    );
    const rollback = handler(
      {
        action: 'alias-rollback',
        functionName: 'checkout',
        alias: 'live',
        originalVersion: '7',
        targetVersion: '8',
      },
      context(),
    );

    expect(check).toMatchObject({
      decision: 'conflict',
      description: 'version 9',
      conflicts: [
        'alias live of checkout points at version 9, which this update (version 7 → 8) did not set',
      ],
    });
    expect(check.manualCommands[0]).toMatch(
      /^aws lambda update-alias --function-name checkout --name live --function-version 7/,
    );
    await expect(rollback).rejects.toMatchObject({ name: 'PreconditionFailedError' });
    expect(lambdaMock.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });
});
