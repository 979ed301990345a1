/**
 * rds-restore `choose` on the sandbox (RDS + KMS), through the real handlers: which snapshot a
 * disaster-recovery restore starts from — the newest available managed one (in the stack's region
 * or, for the DR region, the cross-region copy with its original's time), a given one, and the
 * refusals — and the identifier the restore will create.
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateDBInstanceCommand, CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { restoredIdentifier } from '../../functions/common/rds/rds-names.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { fakeContext } from '../support/lambda-context.ts';
import { withSandbox } from '../support/sandbox.ts';
import { waitForInstance, waitForSnapshot } from './rds-support.ts';

withSandbox([kmsService, rdsService], { settings: { rds: { statusDelayMs: 100 } } });

type Handler = (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<any>;
let snapshot: Handler;
let restore: Handler;
const EXECUTION = 'arn:aws:states:us-east-1:000000000000:execution:Caretaker-test-DisasterRecovery:drill-7';
const context = () => fakeContext('rds-restore');
const taken: Record<string, { id: string; createdAt: string }> = {};

/** Calls a handler until `done` (its status polled as a flow would), retrying ResourceBusyError. */
async function until(handler: Handler, event: object, done: (result: any) => boolean): Promise<any> {
  for (let attempt = 0; attempt < 800; attempt++) {
    try {
      const result = await handler(event, context());
      if (done(result)) return result;
    } catch (error) {
      if ((error as Error).name !== 'ResourceBusyError') throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never done: ${JSON.stringify(event)}`);
}

async function snapshotOf(target: string, execution: string): Promise<{ id: string; createdAt: string }> {
  const created = await until(snapshot, { action: 'create', target, executionId: execution }, () => true);
  const available = await until(
    snapshot,
    { action: 'status', target, snapshotIdentifier: created.snapshotIdentifier },
    (status) => status.done,
  );
  return { id: created.snapshotIdentifier, createdAt: available.createdAt ?? '' };
}

beforeAll(async () => {
  const rds = new RDSClient({});
  const drKeyArn = (await new KMSClient({ region: 'eu-west-1' }).send(new CreateKeyCommand({}))).KeyMetadata!
    .Arn!;
  Object.assign(process.env, {
    CARETAKER_STACK: 'caretaker-test',
    RDS_TARGETS: JSON.stringify([
      {
        name: 'orders',
        identifier: 'orders-db',
        retention: 'daily',
        crossRegionCopy: { region: 'eu-west-1', kmsKeyArn: drKeyArn },
      },
      { name: 'billing', identifier: 'billing-db', retention: 'daily' },
    ]),
  });
  const instance = (id: string) =>
    rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        DBInstanceClass: 'db.t4g.micro',
        Engine: 'postgres',
        MasterUsername: 'owner',
        MasterUserPassword: 'owner-secret-1',
        BackupRetentionPeriod: 0,
      }),
    );
  await Promise.all([instance('orders-db'), instance('billing-db')]);
  await Promise.all([waitForInstance(rds, 'orders-db'), waitForInstance(rds, 'billing-db')]);
  snapshot = (await import('../../functions/rds-snapshot/handler.ts')).handler as Handler;
  restore = (await import('../../functions/rds-restore/handler.ts')).handler as Handler;
  taken.older = await snapshotOf('orders', 'nightly-1');
  taken.newer = await snapshotOf('orders', 'nightly-2');
  await until(
    snapshot,
    { action: 'copy', target: 'orders', executionId: 'nightly-1', snapshotIdentifier: taken.older.id },
    (copy) => copy.copy?.status !== 'waiting',
  );
  await until(
    snapshot,
    { action: 'status', target: 'orders', snapshotIdentifier: taken.older.id, region: 'eu-west-1' },
    (status) => status.done,
  );
  // Newest of all, but not Caretaker's: never chosen by the rule.
  await rds.send(
    new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'orders-db', DBSnapshotIdentifier: 'hand-made' }),
  );
  await waitForSnapshot(rds, 'hand-made');
});

describe('choose', () => {
  it("takes the newest available Caretaker snapshot of the target, says why, and names the restore's identifier", async () => {
    const chosen = await restore({ action: 'choose', target: 'orders', executionId: EXECUTION }, context());

    expect(chosen).toMatchObject({
      target: 'orders',
      type: 'instance',
      region: 'us-east-1',
      snapshotIdentifier: taken.newer!.id,
      source: 'newest-verified',
      managed: true,
      skipped: [],
      restoredIdentifier: restoredIdentifier('orders-db', EXECUTION),
    });
    expect(chosen.reason).toContain(`${taken.newer!.id} (taken `);
    expect(chosen.reason).toContain('is the newest available Caretaker-managed snapshot');
  });

  it('takes the cross-region copy in the DR region, dated by the snapshot it copies', async () => {
    const chosen = await restore(
      { action: 'choose', target: 'orders', executionId: EXECUTION, region: 'eu-west-1' },
      context(),
    );
    const original = await restore(
      { action: 'choose', target: 'orders', executionId: EXECUTION, snapshotIdentifier: taken.older!.id },
      context(),
    );

    expect(chosen).toMatchObject({ region: 'eu-west-1', snapshotIdentifier: taken.older!.id });
    expect(chosen.createdAt).toBe(original.createdAt);
  });

  it('takes a given snapshot, saying when Caretaker did not make it', async () => {
    const chosen = await restore(
      { action: 'choose', target: 'orders', executionId: EXECUTION, snapshotIdentifier: 'hand-made' },
      context(),
    );

    expect(chosen).toMatchObject({ snapshotIdentifier: 'hand-made', source: 'given', managed: false });
    expect(chosen.reason).toContain('Caretaker did not make it');
  });

  it('refuses a given snapshot of another database, and one that does not exist', async () => {
    const billing = await snapshotOf('billing', 'nightly-1');

    await expect(
      restore(
        { action: 'choose', target: 'orders', executionId: EXECUTION, snapshotIdentifier: billing.id },
        context(),
      ),
    ).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      message: expect.stringContaining('it was taken of billing-db'),
    });
    await expect(
      restore(
        {
          action: 'choose',
          target: 'orders',
          executionId: EXECUTION,
          snapshotIdentifier: 'no-such-snapshot',
        },
        context(),
      ),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('finds nothing to restore where the target has no managed snapshot', async () => {
    await expect(
      restore(
        { action: 'choose', target: 'billing', executionId: EXECUTION, region: 'eu-west-1' },
        context(),
      ),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
      message: expect.stringContaining('No available Caretaker-managed snapshot of instance billing-db'),
    });
  });
});
