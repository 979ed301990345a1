/**
 * A switch-over is crash-safe (docs/security.md), on the sandbox's RDS with real PostgreSQL: the
 * function is made to crash before each of its RDS writes in turn — between the journal tags and
 * the renames, between the two renames, during the promotion — and from every one of those partial
 * states an undo given only the execution id brings the original back under its name with its
 * data. A crashed switch-over that is simply called again finishes; a copy that held the
 * production name is deleted only with a final snapshot; and when the copy vanishes while the
 * original is parked, the error names the exact command that brings the original back.
 */
import {
  AddTagsToResourceCommand,
  CreateDBInstanceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RemoveTagsFromResourceCommand,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { targetNamed } from '../../functions/common/rds/rds-targets.ts';
import type { SwitchAction } from '../../functions/rds-switch-over/input.ts';
import { type SwitchResult, switchOver } from '../../functions/rds-switch-over/switch-over.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { fakeContext } from '../support/lambda-context.ts';
import { withSandbox } from '../support/sandbox.ts';
import { waitForInstance, withPg } from './rds-support.ts';

withSandbox([kmsService, rdsService], { settings: { rds: { statusDelayMs: 100 } } });

type Handler = (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<any>;
const MASTER = { user: 'orders_admin', password: 'orders-secret-1', database: 'orders' };
const EXECUTION =
  'arn:aws:states:us-east-1:000000000000:execution:Caretaker-test-DisasterRecovery:failover-1';
const STARTED_AT = '2026-11-02T03:04:05.000Z';
const TARGETS = [{ name: 'orders', type: 'instance' as const, identifier: 'orders-db', retention: 'daily' }];
const target = targetNamed(TARGETS as never, 'orders');
const MUTATING = new Set([
  'ModifyDBInstanceCommand',
  'AddTagsToResourceCommand',
  'RemoveTagsFromResourceCommand',
]);

let rds: RDSClient;
let restoreHandler: Handler;
let restored: string;

class InjectedCrash extends Error {
  override readonly name = 'InjectedCrash';
}

/** An RDS client whose process "dies" right before its `allowed + 1`-th write. */
function crashingBefore(allowed: number): RDSClient {
  let writes = 0;
  return new Proxy(rds, {
    get(client, property, receiver) {
      if (property !== 'send') return Reflect.get(client, property, receiver);
      return async (command: { constructor: { name: string } }) => {
        if (MUTATING.has(command.constructor.name) && writes++ >= allowed) throw new InjectedCrash('crash');
        return client.send(command as never);
      };
    },
  });
}

/** Clears the copy's switch-over journal (test only: so that every scenario makes the same writes). */
async function forgetJournal(): Promise<void> {
  const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: restored }));
  await rds.send(
    new RemoveTagsFromResourceCommand({
      ResourceName: out.DBInstances![0]!.DBInstanceArn!,
      TagKeys: ['caretaker:switch-source', 'caretaker:switch-parking', 'caretaker:took-source-name'],
    }),
  );
  await rds.send(
    new AddTagsToResourceCommand({
      ResourceName: out.DBInstances![0]!.DBInstanceArn!,
      Tags: [{ Key: 'caretaker:managed', Value: 'true' }],
    }),
  );
}

/** Calls one action step after step (as the flow does, busy answers retried) until done. */
async function run(client: RDSClient, event: SwitchAction): Promise<SwitchResult[]> {
  const results: SwitchResult[] = [];
  for (let call = 0; call < 600; call++) {
    try {
      const result = await switchOver({ rds: client, stack: 'caretaker-test' }, target, event);
      results.push(result);
      if (result.done) return results;
    } catch (error) {
      if ((error as Error).name !== 'ResourceBusyError') throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never done: ${JSON.stringify(event)}`);
}

const forward: SwitchAction = {
  action: 'switch-over',
  target: 'orders',
  executionId: EXECUTION,
  restoredIdentifier: undefined,
  startedAt: STARTED_AT,
};
const undo: SwitchAction = { action: 'undo-switch-over', target: 'orders', executionId: EXECUTION };

async function identifiers(): Promise<string[]> {
  const out = await rds.send(new DescribeDBInstancesCommand({}));
  return (out.DBInstances ?? []).map((db) => db.DBInstanceIdentifier!).sort();
}

async function rowsAt(id: string): Promise<{ rows: number; changed: number }> {
  await waitForInstance(rds, id);
  const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  return withPg(out.DBInstances![0]!.Endpoint ?? {}, MASTER, async (client) => {
    const result = await client.query(
      "SELECT count(*)::int AS rows, count(*) FILTER (WHERE note = 'changed')::int AS changed FROM orders",
    );
    return result.rows[0] as { rows: number; changed: number };
  });
}

beforeAll(async () => {
  rds = new RDSClient({});
  Object.assign(process.env, { CARETAKER_STACK: 'caretaker-test', RDS_TARGETS: JSON.stringify(TARGETS) });
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'orders-db',
      DBInstanceClass: 'db.r6g.large',
      Engine: 'postgres',
      MasterUsername: MASTER.user,
      MasterUserPassword: MASTER.password,
      DBName: MASTER.database,
      DeletionProtection: true,
      BackupRetentionPeriod: 0,
    }),
  );
  await waitForInstance(rds, 'orders-db');
  const endpoint = async () =>
    (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db' }))).DBInstances![0]!
      .Endpoint ?? {};
  await withPg(await endpoint(), MASTER, async (client) => {
    await client.query('CREATE TABLE orders (id int PRIMARY KEY, note text NOT NULL)');
    await client.query("INSERT INTO orders SELECT n, 'original' FROM generate_series(1, 1000) AS n");
  });
  const snapshotHandler = (await import('../../functions/rds-snapshot/handler.ts')).handler as Handler;
  restoreHandler = (await import('../../functions/rds-restore/handler.ts')).handler as Handler;
  const context = () => fakeContext('switch-over-crash');
  const created = await snapshotHandler(
    { action: 'create', target: 'orders', executionId: EXECUTION, kind: 'drill' },
    context(),
  );
  for (;;) {
    const status = await snapshotHandler(
      { action: 'status', target: 'orders', snapshotIdentifier: created.snapshotIdentifier },
      context(),
    );
    if (status.done) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  // Production changes after the snapshot: the original has these rows, the copy does not.
  await withPg(await endpoint(), MASTER, (client) =>
    client.query("UPDATE orders SET note = 'changed' WHERE id <= 100"),
  );
  const copy = await restoreHandler(
    {
      action: 'restore',
      target: 'orders',
      executionId: EXECUTION,
      snapshotIdentifier: created.snapshotIdentifier,
    },
    context(),
  );
  restored = copy.identifier;
  await waitForInstance(rds, restored);
}, 180_000);

describe('a switch-over crashing before each of its writes', () => {
  it('is undone from every partial state given only the execution id: the original is back, with its data', async () => {
    // Every write of a full switch-over is a crash point: count them once with a counting client.
    let total = 0;
    const counting = new Proxy(rds, {
      get(client, property, receiver) {
        if (property !== 'send') return Reflect.get(client, property, receiver);
        return (command: { constructor: { name: string } }) => {
          if (MUTATING.has(command.constructor.name)) total++;
          return client.send(command as never);
        };
      },
    });
    await run(counting, forward);
    await run(rds, undo);
    expect(total).toBeGreaterThanOrEqual(7);

    const outcomes: string[] = [];
    for (let allowed = 0; allowed < total; allowed++) {
      // Each scenario replays the same writes: the copy's journal of the last one is cleared.
      await forgetJournal();
      const crashed = await run(crashingBefore(allowed), forward).then(
        () => 'finished',
        (error: Error) => error.name,
      );
      const undone = await run(rds, undo).catch((error: Error) => {
        throw new Error(`undo after a crash before write ${allowed + 1} (${crashed}): ${error.message}`);
      });
      outcomes.push(`${allowed}:${crashed}:${undone.at(-1)?.phase}`);
      expect(await identifiers(), `after a crash before write ${allowed + 1}`).toEqual(
        ['orders-db', restored].sort(),
      );
      expect(await rowsAt('orders-db'), `after a crash before write ${allowed + 1}`).toEqual({
        rows: 1000,
        changed: 100,
      });
    }
    expect(outcomes.every((line) => line.includes(':InjectedCrash:done'))).toBe(true);
  }, 600_000);

  it('finishes when simply called again after a crash between the two renames', async () => {
    // Allowed: the journal on copy and original, and parking the original; the crash hits before
    // the copy is marked and takes the name.
    const crashed = await run(crashingBefore(3), forward).catch((error: Error) => error);
    const finished = await run(rds, forward);

    expect(crashed).toBeInstanceOf(InjectedCrash);
    expect(finished.at(-1)).toMatchObject({ done: true, phase: 'promoted' });
    expect(await rowsAt('orders-db')).toEqual({ rows: 1000, changed: 0 });
    expect(await rowsAt('orders-db-old-20261102030405')).toEqual({ rows: 1000, changed: 100 });
  }, 120_000);

  it('deletes the copy that served as production only with a final snapshot, after the undo', async () => {
    // Writes reach the promoted copy while it serves under the original's name.
    await withPg(
      (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db' }))).DBInstances![0]!
        .Endpoint ?? {},
      MASTER,
      (client) => client.query("INSERT INTO orders VALUES (5001, 'written to the promoted copy')"),
    );
    await run(rds, undo);

    const deletion = await restoreHandler(
      { action: 'delete', target: 'orders', executionId: EXECUTION, identifier: restored },
      fakeContext('switch-over-crash'),
    );

    expect(deletion.finalSnapshot).toMatch(/^caretaker-orders-[0-9a-f]{12}-final$/);
    const final = await rds.send(
      new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: deletion.finalSnapshot }),
    );
    expect(final.DBSnapshots?.[0]?.DBInstanceIdentifier).toBe(restored);
    expect(await rowsAt('orders-db')).toEqual({ rows: 1000, changed: 100 });
  }, 120_000);
});

describe('a copy that vanishes while the original is parked', () => {
  it('fails naming the exact command that brings the original back, and the undo then does it', async () => {
    const copy = await restoreHandler(
      {
        action: 'restore',
        target: 'orders',
        executionId: `${EXECUTION}-2`,
        snapshotIdentifier: (
          await rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'orders-db' }))
        ).DBSnapshots![0]!.DBSnapshotIdentifier,
      },
      fakeContext('switch-over-crash'),
    );
    await waitForInstance(rds, copy.identifier);
    const second = { ...forward, executionId: `${EXECUTION}-2` };
    await run(crashingBefore(3), second).catch(() => undefined);
    await rds.send(
      new DeleteDBInstanceCommand({ DBInstanceIdentifier: copy.identifier, SkipFinalSnapshot: true }),
    );
    await waitForInstance(rds, 'orders-db-old-20261102030405');
    for (let i = 0; i < 200 && (await identifiers()).includes(copy.identifier); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }

    const failure = await run(rds, second).catch((error: Error) => error);
    const undone = await run(rds, { ...undo, executionId: `${EXECUTION}-2` });

    expect(failure).toMatchObject({
      name: 'NotFoundError',
      message: expect.stringContaining(
        'to bring it back by hand, run aws rds modify-db-instance --db-instance-identifier orders-db-old-20261102030405 --new-db-instance-identifier orders-db --apply-immediately',
      ),
    });
    expect(undone.at(-1)).toMatchObject({ done: true });
    expect(await rowsAt('orders-db')).toEqual({ rows: 1000, changed: 100 });
  }, 180_000);
});
