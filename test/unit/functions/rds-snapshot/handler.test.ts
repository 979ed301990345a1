import {
  CopyDBSnapshotCommand,
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyEncryption } from '../../../../functions/rds-snapshot/copy.ts';
import { awsServiceError } from '../../../support/aws-errors.ts';
import { fakeContext } from '../../../support/lambda-context.ts';

const rdsMock = mockClient(RDSClient);
const DR_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/2222abcd-12ab-34cd-56ef-1234567890ab';
let handler: (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<any>;
const context = () => fakeContext('rds-snapshot');

const OURS = [
  { Key: 'caretaker:managed', Value: 'true' },
  { Key: 'caretaker:execution', Value: 'run-1' },
];

function snapshot(id: string, extra: object = {}) {
  return {
    DBSnapshotIdentifier: id,
    DBSnapshotArn: `arn:aws:rds:us-east-1:111122223333:snapshot:${id}`,
    DBInstanceIdentifier: 'orders-db',
    Status: 'available',
    PercentProgress: 100,
    Encrypted: false,
    TagList: OURS,
    ...extra,
  };
}

beforeAll(async () => {
  Object.assign(process.env, {
    CARETAKER_STACK: 'caretaker-prod',
    MAX_CONCURRENT_COPIES: '2',
    RDS_TARGETS: JSON.stringify([
      {
        name: 'orders',
        identifier: 'orders-db',
        retention: 'daily',
        crossRegionCopy: { region: 'eu-west-1', kmsKeyArn: DR_KEY },
      },
      { name: 'local', identifier: 'local-db', retention: 'daily' },
    ]),
  });
  ({ handler } = await import('../../../../functions/rds-snapshot/handler.ts'));
});

beforeEach(() => {
  rdsMock.reset();
});

describe('validation', () => {
  it('names every bad field before calling RDS', async () => {
    const bad = { action: 'create', target: 'payments', executionId: '', kind: 'weekly' };

    await expect(handler(bad, context())).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(
        /target: expected a configured RDS target \(orders, local\).*executionId: .*kind: expected one of/s,
      ),
    });
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('refuses a snapshot identifier RDS would refuse', async () => {
    await expect(
      handler({ action: 'status', target: 'orders', snapshotIdentifier: 'bad--name-' }, context()),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/snapshotIdentifier/),
    });
  });

  it('refuses an unknown action', async () => {
    await expect(handler({ action: 'delete', target: 'orders' }, context())).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/action/),
    });
  });
});

describe('create', () => {
  it('refuses to adopt a snapshot of its name that another execution made', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        snapshot('x', {
          TagList: [
            { Key: 'caretaker:managed', Value: 'true' },
            { Key: 'caretaker:execution', Value: 'run-0' },
          ],
        }),
      ],
    });

    await expect(
      handler({ action: 'create', target: 'orders', executionId: 'run-1' }, context()),
    ).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      message: expect.stringMatching(/not made by execution run-1/),
    });
    expect(rdsMock.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  });

  it('names the missing source instance', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(awsServiceError('DBSnapshotNotFoundFault', 'none', 404));
    rdsMock.on(DescribeDBInstancesCommand).rejects(awsServiceError('DBInstanceNotFoundFault', 'none', 404));

    await expect(
      handler({ action: 'create', target: 'orders', executionId: 'run-1' }, context()),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
      message: expect.stringMatching(/instance orders-db \(target orders\)/),
    });
  });

  it('turns a busy source into the transient ResourceBusyError', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).callsFake((input) => {
      if (input.DBSnapshotIdentifier) throw awsServiceError('DBSnapshotNotFoundFault', 'none', 404);
      return { DBSnapshots: [] };
    });
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [{ DBInstanceIdentifier: 'orders-db', DBInstanceClass: 'db.t4g.micro' }] });
    rdsMock.on(CreateDBSnapshotCommand).rejects(awsServiceError('InvalidDBInstanceStateFault', 'backing-up'));

    await expect(
      handler({ action: 'create', target: 'orders', executionId: 'run-1' }, context()),
    ).rejects.toMatchObject({ name: 'ResourceBusyError' });
  });
});

describe('status', () => {
  it('reports a failed snapshot as PreconditionFailedError, not as something to wait for', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [snapshot('s1', { Status: 'failed' })] });

    await expect(
      handler({ action: 'status', target: 'orders', snapshotIdentifier: 's1' }, context()),
    ).rejects.toMatchObject({ name: 'PreconditionFailedError', message: 'Snapshot s1 in us-east-1 failed' });
  });

  it('reports progress while creating', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [snapshot('s1', { Status: 'creating', PercentProgress: 40 })],
    });

    const status = await handler({ action: 'status', target: 'orders', snapshotIdentifier: 's1' }, context());

    expect(status).toMatchObject({
      status: 'creating',
      percentProgress: 40,
      done: false,
      region: 'us-east-1',
    });
  });
});

describe('copy', () => {
  /** Answers per region: the DR region has `drSnapshots`, the home region the source snapshot. */
  function regions(drSnapshots: object[], source = snapshot('s1')) {
    rdsMock.on(DescribeDBSnapshotsCommand).callsFake(async (input, getClient) => {
      const region = await getClient().config.region();
      if (region === 'eu-west-1') {
        if (input.DBSnapshotIdentifier) throw awsServiceError('DBSnapshotNotFoundFault', 'none', 404);
        return { DBSnapshots: drSnapshots };
      }
      return { DBSnapshots: [source] };
    });
  }

  it('says to wait when the DR region already has the maximum copies in progress', async () => {
    regions([
      snapshot('a', { Status: 'copying', SourceRegion: 'us-west-2' }),
      snapshot('b', { Status: 'pending', SourceRegion: 'us-east-1' }),
      snapshot('c', { Status: 'available', SourceRegion: 'us-east-1' }),
    ]);

    const result = await handler(
      { action: 'copy', target: 'orders', executionId: 'run-1', snapshotIdentifier: 's1' },
      context(),
    );

    expect(result.copy).toMatchObject({
      status: 'waiting',
      inProgress: 2,
      maxConcurrent: 2,
      region: 'eu-west-1',
    });
    expect(rdsMock.commandCalls(CopyDBSnapshotCommand)).toHaveLength(0);
  });

  it('treats a source still being created as busy', async () => {
    regions([], snapshot('s1', { Status: 'creating' }));

    await expect(
      handler(
        { action: 'copy', target: 'orders', executionId: 'run-1', snapshotIdentifier: 's1' },
        context(),
      ),
    ).rejects.toMatchObject({ name: 'ResourceBusyError', message: expect.stringMatching(/s1 is creating/) });
  });

  it('refuses for a target without a DR region', async () => {
    await expect(
      handler({ action: 'copy', target: 'local', executionId: 'run-1', snapshotIdentifier: 's1' }, context()),
    ).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      message: expect.stringMatching(/no crossRegionCopy/),
    });
  });

  it('copies by source ARN from the DR region with the DR key and the source tags', async () => {
    regions([]);
    rdsMock.on(CopyDBSnapshotCommand).resolves({});
    let copied = false;
    rdsMock.on(DescribeDBSnapshotsCommand).callsFake(async (input, getClient) => {
      const region = await getClient().config.region();
      if (region !== 'eu-west-1')
        return { DBSnapshots: [snapshot('s1', { TagList: [...OURS, { Key: 'app', Value: 'orders' }] })] };
      if (!input.DBSnapshotIdentifier) return { DBSnapshots: [] };
      if (!copied) {
        copied = true;
        throw awsServiceError('DBSnapshotNotFoundFault', 'none', 404);
      }
      return { DBSnapshots: [snapshot('s1', { Status: 'copying', Encrypted: true, KmsKeyId: DR_KEY })] };
    });

    const result = await handler(
      { action: 'copy', target: 'orders', executionId: 'run-1', snapshotIdentifier: 's1' },
      context(),
    );

    const [call] = rdsMock.commandCalls(CopyDBSnapshotCommand);
    expect(call?.args[0].input).toMatchObject({
      SourceDBSnapshotIdentifier: 'arn:aws:rds:us-east-1:111122223333:snapshot:s1',
      TargetDBSnapshotIdentifier: 's1',
      KmsKeyId: DR_KEY,
    });
    expect(call?.args[0].input.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'app', Value: 'orders' },
        { Key: 'caretaker:copied-from', Value: 'us-east-1' },
        { Key: 'caretaker:execution', Value: 'run-1' },
      ]),
    );
    expect(result.copy).toMatchObject({ status: 'copying', created: true, kmsKeyId: DR_KEY });
  });
});

describe('copyEncryption', () => {
  it('copies a customer-key snapshot under the DR key without a note', () => {
    expect(
      copyEncryption({ type: 'instance', encrypted: true, kmsKeyId: 'arn:k' }, DR_KEY, 'CUSTOMER'),
    ).toEqual({
      kmsKeyId: DR_KEY,
      notes: [],
    });
  });

  it('explains a snapshot under the AWS-managed key, told by KMS', () => {
    const result = copyEncryption(
      { type: 'instance', encrypted: true, kmsKeyId: 'arn:aws:kms:us-east-1:1:key/abc' },
      DR_KEY,
      'AWS',
    );

    expect(result.kmsKeyId).toBe(DR_KEY);
    expect(result.notes[0]).toMatch(/AWS-managed key aws\/rds/);
  });

  it('leaves an unencrypted cluster snapshot unencrypted, as AWS requires, and says so', () => {
    const result = copyEncryption({ type: 'cluster', encrypted: false }, DR_KEY, undefined);

    expect(result.kmsKeyId).toBeUndefined();
    expect(result.notes[0]).toMatch(/AWS cannot encrypt a cluster snapshot while copying/);
  });
});
