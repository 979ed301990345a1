import {
  AddTagsToResourceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeContext } from '../../../support/lambda-context.ts';

const rdsMock = mockClient(RDSClient);
let handler: (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<any>;
const context = () => fakeContext('rds-restore');

beforeAll(async () => {
  Object.assign(process.env, {
    CARETAKER_STACK: 'caretaker-prod',
    RDS_TARGETS: JSON.stringify([{ name: 'orders', identifier: 'orders-db', retention: 'daily' }]),
  });
  ({ handler } = await import('../../../../functions/rds-restore/handler.ts'));
});

beforeEach(() => {
  rdsMock.reset();
});

describe('validation', () => {
  it('names every bad field, including the overrides, before calling RDS', async () => {
    const bad = {
      action: 'restore',
      target: 'orders',
      executionId: 'run-1',
      snapshotIdentifier: 'snap',
      identifier: 'Bad_Name',
      overrides: { instanceClass: 'r6g.large', securityGroups: ['default'], colour: 'blue' },
    };

    await expect(handler(bad, context())).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(
        /identifier: expected a DB identifier.*overrides\.instanceClass: expected an instance class.*overrides\.securityGroups\[0\].*overrides\.colour: unknown field/s,
      ),
    });
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('refuses an override that would make the restored copy publicly accessible, before calling RDS', async () => {
    // Prepare
    const event = {
      action: 'restore',
      target: 'orders',
      executionId: 'run-1',
      snapshotIdentifier: 'snap',
      overrides: { publiclyAccessible: true },
    };

    // Act
    const outcome = handler(event, context());

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'ValidationError',
      problems: [
        {
          path: 'overrides.publiclyAccessible',
          message: expect.stringMatching(/must not be publicly accessible/),
        },
      ],
    });
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('does not switch over: renaming production is rds-switch-over’s, under another role', async () => {
    await expect(
      handler(
        { action: 'switch-over', target: 'orders', executionId: 'run-1', restoredIdentifier: 'orders-db-r1' },
        context(),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/action/) });
    expect(rdsMock.calls()).toHaveLength(0);
  });
});

describe('restore', () => {
  it('refuses to restore into the original identifier', async () => {
    await expect(
      handler(
        {
          action: 'restore',
          target: 'orders',
          executionId: 'run-1',
          snapshotIdentifier: 's',
          identifier: 'Orders-DB',
        },
        context(),
      ),
    ).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      message: expect.stringMatching(/original's identifier/),
    });
    expect(rdsMock.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)).toHaveLength(0);
  });

  it('refuses to adopt an instance of the restore name that this execution did not restore', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [{ DBSnapshotIdentifier: 's', Status: 'available', TagList: [] }],
    });
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'orders-db-copy', DBInstanceStatus: 'available', TagList: [] }],
    });

    await expect(
      handler(
        {
          action: 'restore',
          target: 'orders',
          executionId: 'run-1',
          snapshotIdentifier: 's',
          identifier: 'orders-db-copy',
        },
        context(),
      ),
    ).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      message: expect.stringMatching(/not restored by execution run-1/),
    });
  });

  it('waits for a snapshot that is not available yet', async () => {
    rdsMock
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [{ DBSnapshotIdentifier: 's', Status: 'copying' }] });
    rdsMock.on(DescribeDBInstancesCommand).rejects(
      Object.assign(new Error('none'), {
        name: 'DBInstanceNotFoundFault',
        $metadata: { httpStatusCode: 404 },
      }),
    );

    await expect(
      handler(
        { action: 'restore', target: 'orders', executionId: 'run-1', snapshotIdentifier: 's' },
        context(),
      ),
    ).rejects.toMatchObject({ name: 'ResourceBusyError', message: expect.stringMatching(/s is copying/) });
  });
});

describe('status', () => {
  it('reports a restore that failed as PreconditionFailedError rather than something to wait for', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'orders-db-r1', DBInstanceStatus: 'incompatible-restore' }],
    });

    await expect(
      handler({ action: 'status', target: 'orders', identifier: 'orders-db-r1' }, context()),
    ).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      message: 'orders-db-r1 is incompatible-restore: waiting will not make it available',
    });
  });
});

describe('delete', () => {
  const restoredTags = (extra: { Key: string; Value: string }[] = []) => [
    { Key: 'caretaker:execution', Value: 'run-1' },
    { Key: 'caretaker:restored-from', Value: 's' },
    ...extra,
  ];

  it('refuses a promoted copy (it dropped caretaker:managed when it became production)', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'orders-db-r1',
          DBInstanceStatus: 'available',
          TagList: restoredTags([
            { Key: 'caretaker:took-source-name', Value: '2026-03-29T01:02:03.000Z' },
            { Key: 'caretaker:promoted-at', Value: '2026-03-29T01:05:00.000Z' },
          ]),
        },
      ],
    });

    await expect(
      handler(
        { action: 'delete', target: 'orders', executionId: 'run-1', identifier: 'orders-db-r1' },
        context(),
      ),
    ).rejects.toMatchObject({ name: 'PreconditionFailedError' });
    expect(rdsMock.commandCalls(DeleteDBInstanceCommand)).toHaveLength(0);
  });

  it('refuses a protected instance even when it is this execution’s copy', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'orders-db-r1',
          DBInstanceStatus: 'available',
          DeletionProtection: true,
          TagList: restoredTags([{ Key: 'caretaker:managed', Value: 'true' }]),
        },
      ],
    });

    await expect(
      handler(
        { action: 'delete', target: 'orders', executionId: 'run-1', identifier: 'orders-db-r1' },
        context(),
      ),
    ).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      message: expect.stringMatching(/deletion protection/),
    });
  });

  it('deletes this execution’s copy without a final snapshot', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'orders-db-r1',
          DBInstanceStatus: 'available',
          TagList: restoredTags([{ Key: 'caretaker:managed', Value: 'true' }]),
        },
      ],
    });
    rdsMock.on(DeleteDBInstanceCommand).resolves({});

    const result = await handler(
      { action: 'delete', target: 'orders', executionId: 'run-1', identifier: 'orders-db-r1' },
      context(),
    );

    expect(result).toMatchObject({ status: 'deleting', done: false });
    expect(rdsMock.commandCalls(DeleteDBInstanceCommand)[0]?.args[0].input).toEqual({
      DBInstanceIdentifier: 'orders-db-r1',
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    });
  });

  it('refuses a copy that lost caretaker:managed without ever holding the production name', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'orders-db-r1', DBInstanceStatus: 'available', TagList: restoredTags() },
      ],
    });

    await expect(
      handler(
        { action: 'delete', target: 'orders', executionId: 'run-1', identifier: 'orders-db-r1' },
        context(),
      ),
    ).rejects.toMatchObject({ name: 'PreconditionFailedError' });
    expect(rdsMock.commandCalls(AddTagsToResourceCommand)).toHaveLength(0);
  });

  it('deletes a copy that held the production name (switch-over undone) only with a final snapshot, managed again first', async () => {
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'orders-db-r1',
          DBInstanceArn: 'arn:aws:rds:us-east-1:111122223333:db:orders-db-r1',
          DBInstanceStatus: 'available',
          TagList: restoredTags([{ Key: 'caretaker:took-source-name', Value: '2026-03-29T01:02:03.000Z' }]),
        },
      ],
    });
    rdsMock.on(AddTagsToResourceCommand).resolves({});
    rdsMock.on(DeleteDBInstanceCommand).resolves({});

    const result = await handler(
      { action: 'delete', target: 'orders', executionId: 'run-1', identifier: 'orders-db-r1' },
      context(),
    );

    expect(rdsMock.commandCalls(AddTagsToResourceCommand)[0]?.args[0].input).toEqual({
      ResourceName: 'arn:aws:rds:us-east-1:111122223333:db:orders-db-r1',
      Tags: [{ Key: 'caretaker:managed', Value: 'true' }],
    });
    const finalSnapshot = expect.stringMatching(/^caretaker-orders-[0-9a-f]{12}-final$/);
    expect(rdsMock.commandCalls(DeleteDBInstanceCommand)[0]?.args[0].input).toEqual({
      DBInstanceIdentifier: 'orders-db-r1',
      SkipFinalSnapshot: false,
      FinalDBSnapshotIdentifier: finalSnapshot,
      DeleteAutomatedBackups: true,
    });
    expect(result).toMatchObject({ status: 'deleting', finalSnapshot });
  });
});
