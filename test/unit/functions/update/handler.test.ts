import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { DescribeDBInstancesCommand, RDSClient, RebootDBInstanceCommand } from '@aws-sdk/client-rds';
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
