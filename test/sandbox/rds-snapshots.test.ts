/**
 * Snapshots of the sandbox's RDS are real copies of the data: the data test (10,000 rows,
 * snapshot, change, restore), renames that move an endpoint, Describe filters and pagination,
 * copies within and across regions under a key of the sandbox's KMS, and the error codes.
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CopyDBSnapshotCommand,
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DBInstanceAlreadyExistsFault,
  DBInstanceNotFoundFault,
  DBSnapshotAlreadyExistsFault,
  DBSnapshotNotFoundFault,
  DeleteDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  InvalidDBInstanceStateFault,
  InvalidDBSnapshotStateFault,
  KMSKeyNotAccessibleFault,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  SnapshotQuotaExceededFault,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import {
  failure,
  instanceStatus,
  pollUntil,
  waitForInstance,
  waitForSnapshot,
  withPg,
} from './rds-support.ts';

const QUOTA = 30;
withSandbox([kmsService, rdsService], { settings: { rds: { statusDelayMs: 250, snapshotQuota: QUOTA } } });
const MASTER = { user: 'ledger_admin', password: 'ledger-secret-1', database: 'ledger' };
const SOURCE_ARN = 'arn:aws:rds:us-east-1:000000000000:snapshot:ledger-before-change';
let rds: RDSClient;
let drRds: RDSClient;

async function describeInstance(client: RDSClient, id: string) {
  const out = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  const instance = out.DBInstances?.[0];
  if (!instance) throw new Error(`no instance ${id}`);
  return instance;
}

async function describeSnapshot(client: RDSClient, id: string) {
  const out = await client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
  const snapshot = out.DBSnapshots?.[0];
  if (!snapshot) throw new Error(`no snapshot ${id}`);
  return snapshot;
}

function rowSummary(client: { query: (sql: string) => Promise<{ rows: unknown[] }> }) {
  return client
    .query(
      "SELECT count(*)::int AS rows, count(*) FILTER (WHERE note = 'original')::int AS original FROM entries",
    )
    .then((result) => result.rows[0]);
}

beforeAll(async () => {
  rds = new RDSClient({});
  drRds = new RDSClient({ region: 'eu-west-1' });
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'ledger',
      DBInstanceClass: 'db.r6g.large',
      Engine: 'postgres',
      MasterUsername: MASTER.user,
      MasterUserPassword: MASTER.password,
      DBName: MASTER.database,
      CopyTagsToSnapshot: true,
      Tags: [{ Key: 'app', Value: 'ledger' }],
    }),
  );
  await waitForInstance(rds, 'ledger');
  const instance = await describeInstance(rds, 'ledger');
  await withPg(instance.Endpoint ?? {}, MASTER, async (client) => {
    await client.query('CREATE TABLE entries (id int PRIMARY KEY, note text NOT NULL)');
    await client.query("INSERT INTO entries SELECT n, 'original' FROM generate_series(1, 10000) AS n");
  });
}, 120_000);

describe('snapshot and restore copy the data', () => {
  it('restores the 10,000 rows as they were at the snapshot, while the source keeps its later changes', async () => {
    const source = await describeInstance(rds, 'ledger');
    const created = await rds.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: 'ledger-before-change',
        DBInstanceIdentifier: 'ledger',
      }),
    );
    // Changed as soon as CreateDBSnapshot returns, while the snapshot still shows creating.
    await withPg(source.Endpoint ?? {}, MASTER, async (client) => {
      await client.query("UPDATE entries SET note = 'changed' WHERE id <= 2500");
      await client.query('DELETE FROM entries WHERE id > 9000');
    });
    const snapshotStatuses = await waitForSnapshot(rds, 'ledger-before-change');

    await rds.send(
      new RestoreDBInstanceFromDBSnapshotCommand({
        DBInstanceIdentifier: 'ledger-restored',
        DBSnapshotIdentifier: 'ledger-before-change',
        DBInstanceClass: 'db.m7g.large',
        DBParameterGroupName: 'ledger-params',
        OptionGroupName: 'ledger-options',
        DBSubnetGroupName: 'private-subnets',
        VpcSecurityGroupIds: ['sg-0aaaaaaaaaaaaaaaa', 'sg-0bbbbbbbbbbbbbbbb'],
        MultiAZ: true,
        StorageType: 'io2',
        Tags: [{ Key: 'caretaker:kind', Value: 'drill' }],
      }),
    );
    await waitForInstance(rds, 'ledger-restored');
    const restored = await describeInstance(rds, 'ledger-restored');
    const restoredRows = await withPg(restored.Endpoint ?? {}, MASTER, rowSummary);
    const sourceRows = await withPg(source.Endpoint ?? {}, MASTER, rowSummary);

    expect(created.DBSnapshot).toMatchObject({
      Status: 'creating',
      PercentProgress: 0,
      SnapshotType: 'manual',
    });
    expect(snapshotStatuses.at(-1)).toBe('available');
    expect(restored.Endpoint?.Port).not.toBe(source.Endpoint?.Port);
    expect(restoredRows).toEqual({ rows: 10000, original: 10000 });
    expect(sourceRows).toEqual({ rows: 9000, original: 6500 });
  }, 120_000);

  it('keeps the settings a restore was given', async () => {
    const restored = await describeInstance(rds, 'ledger-restored');

    expect(restored).toMatchObject({
      DBInstanceClass: 'db.m7g.large',
      DBParameterGroups: [{ DBParameterGroupName: 'ledger-params', ParameterApplyStatus: 'in-sync' }],
      OptionGroupMemberships: [{ OptionGroupName: 'ledger-options', Status: 'in-sync' }],
      DBSubnetGroup: { DBSubnetGroupName: 'private-subnets' },
      VpcSecurityGroups: [
        { VpcSecurityGroupId: 'sg-0aaaaaaaaaaaaaaaa', Status: 'active' },
        { VpcSecurityGroupId: 'sg-0bbbbbbbbbbbbbbbb', Status: 'active' },
      ],
      MultiAZ: true,
      StorageType: 'io2',
      TagList: [{ Key: 'caretaker:kind', Value: 'drill' }],
      MasterUsername: MASTER.user,
      DBName: MASTER.database,
    });
  });

  it('gives a restore without settings the source class and AWS defaults', async () => {
    await rds.send(
      new RestoreDBInstanceFromDBSnapshotCommand({
        DBInstanceIdentifier: 'ledger-defaults',
        DBSnapshotIdentifier: SOURCE_ARN,
      }),
    );
    const restored = await describeInstance(rds, 'ledger-defaults');

    expect(restored).toMatchObject({
      DBInstanceStatus: 'creating',
      DBInstanceClass: 'db.r6g.large',
      DBParameterGroups: [{ DBParameterGroupName: 'default.postgres18' }],
      OptionGroupMemberships: [{ OptionGroupName: 'default:postgres-18' }],
      DBSubnetGroup: { DBSubnetGroupName: 'default' },
      VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-00000000000000000' }],
      MultiAZ: false,
      StorageType: 'gp3',
      TagList: [],
    });
    await waitForInstance(rds, 'ledger-defaults');
  });

  it('moves an endpoint with its name: after a swap of names the old endpoint serves the restored data', async () => {
    const original = await describeInstance(rds, 'ledger');

    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: 'ledger',
        NewDBInstanceIdentifier: 'ledger-old',
        ApplyImmediately: true,
      }),
    );
    const renaming = await pollUntil(
      () => instanceStatus(rds, 'ledger').catch((error: Error) => error.name),
      'DBInstanceNotFoundFault',
      'renamed instance',
    );
    await waitForInstance(rds, 'ledger-old');
    await rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: 'ledger-restored',
        NewDBInstanceIdentifier: 'ledger',
        ApplyImmediately: true,
      }),
    );
    await pollUntil(
      () => instanceStatus(rds, 'ledger-restored').catch((error: Error) => error.name),
      'DBInstanceNotFoundFault',
      'renamed restore',
    );
    await waitForInstance(rds, 'ledger');
    const swapped = await describeInstance(rds, 'ledger');
    const old = await describeInstance(rds, 'ledger-old');
    const atOriginalEndpoint = await withPg(original.Endpoint ?? {}, MASTER, rowSummary);
    const atOldEndpoint = await withPg(old.Endpoint ?? {}, MASTER, rowSummary);

    expect(renaming).toEqual(['renaming', 'DBInstanceNotFoundFault']);
    expect(swapped.Endpoint).toEqual(original.Endpoint);
    expect(swapped.DBInstanceArn).toBe('arn:aws:rds:us-east-1:000000000000:db:ledger');
    expect(old.Endpoint?.Port).not.toBe(original.Endpoint?.Port);
    expect(atOriginalEndpoint).toEqual({ rows: 10000, original: 10000 });
    expect(atOldEndpoint).toEqual({ rows: 9000, original: 6500 });
  }, 120_000);
});

describe('CreateDBSnapshot', () => {
  it('shows the instance backing-up and the snapshot creating with progress, then both available', async () => {
    const created = await rds.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: 'progress-watch',
        DBInstanceIdentifier: 'ledger-old',
        Tags: [{ Key: 'caretaker:managed', Value: 'true' }],
      }),
    );
    const progress = [created.DBSnapshot?.PercentProgress ?? -1];
    const instanceStatuses = pollUntil(() => instanceStatus(rds, 'ledger-old'), 'available', 'instance');
    const snapshotStatuses = await pollUntil(
      async () => {
        const snapshot = await describeSnapshot(rds, 'progress-watch');
        if (progress.at(-1) !== snapshot.PercentProgress) progress.push(snapshot.PercentProgress ?? -1);
        return snapshot.Status;
      },
      'available',
      'snapshot',
    );
    const snapshot = await describeSnapshot(rds, 'progress-watch');

    expect(await instanceStatuses).toEqual(['backing-up', 'available']);
    expect(snapshotStatuses).toEqual(['creating', 'available']);
    expect(created.DBSnapshot?.Status).toBe('creating');
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(100);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(snapshot).toMatchObject({
      DBInstanceIdentifier: 'ledger-old',
      Engine: 'postgres',
      MasterUsername: MASTER.user,
      SnapshotType: 'manual',
      DBSnapshotArn: 'arn:aws:rds:us-east-1:000000000000:snapshot:progress-watch',
      TagList: [{ Key: 'caretaker:managed', Value: 'true' }],
      Encrypted: false,
    });
  });

  it('copies the instance tags when CopyTagsToSnapshot is set and no tags are given', async () => {
    await rds.send(
      new CreateDBSnapshotCommand({
        DBSnapshotIdentifier: 'copied-tags',
        DBInstanceIdentifier: 'ledger-old',
      }),
    );
    const snapshot = await describeSnapshot(rds, 'copied-tags');
    await waitForSnapshot(rds, 'copied-tags');
    await waitForInstance(rds, 'ledger-old');

    expect(snapshot.TagList).toEqual([{ Key: 'app', Value: 'ledger' }]);
  });

  it('refuses a taken identifier, an unknown instance and a busy instance with their codes', async () => {
    const taken = await failure(
      rds.send(
        new CreateDBSnapshotCommand({
          DBSnapshotIdentifier: 'progress-watch',
          DBInstanceIdentifier: 'ledger',
        }),
      ),
    );
    const unknown = await failure(
      rds.send(
        new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 'ghost-snap', DBInstanceIdentifier: 'ghost' }),
      ),
    );
    await rds.send(
      new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 'busy-1', DBInstanceIdentifier: 'ledger' }),
    );
    const busy = await failure(
      rds.send(
        new CreateDBSnapshotCommand({ DBSnapshotIdentifier: 'busy-2', DBInstanceIdentifier: 'ledger' }),
      ),
    );
    await waitForInstance(rds, 'ledger');

    expect(taken).toBeInstanceOf(DBSnapshotAlreadyExistsFault);
    expect(taken.Code).toBe('DBSnapshotAlreadyExists');
    expect(unknown).toBeInstanceOf(DBInstanceNotFoundFault);
    expect(busy).toBeInstanceOf(InvalidDBInstanceStateFault);
  });
});

describe('DescribeDBSnapshots', () => {
  it('selects by instance, by type and by filters', async () => {
    const manual = await rds.send(
      new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'ledger-old', SnapshotType: 'manual' }),
    );
    const automated = await rds.send(
      new DescribeDBSnapshotsCommand({ Filters: [{ Name: 'snapshot-type', Values: ['automated'] }] }),
    );
    const byId = await rds.send(
      new DescribeDBSnapshotsCommand({
        Filters: [{ Name: 'db-snapshot-id', Values: ['copied-tags', SOURCE_ARN] }],
      }),
    );

    expect(manual.DBSnapshots?.map((snapshot) => snapshot.DBSnapshotIdentifier)).toEqual([
      'progress-watch',
      'copied-tags',
    ]);
    expect(automated.DBSnapshots?.length).toBeGreaterThanOrEqual(3);
    expect(
      automated.DBSnapshots?.every((snapshot) => snapshot.DBSnapshotIdentifier?.startsWith('rds:')),
    ).toBe(true);
    expect(byId.DBSnapshots?.map((snapshot) => snapshot.DBSnapshotIdentifier)).toEqual([
      'ledger-before-change',
      'copied-tags',
    ]);
  });

  it('pages with MaxRecords and Marker, every snapshot exactly once', async () => {
    await Promise.all(
      Array.from({ length: 22 }, (_, index) =>
        rds.send(
          new CopyDBSnapshotCommand({
            SourceDBSnapshotIdentifier: 'ledger-before-change',
            TargetDBSnapshotIdentifier: `page-${String(index).padStart(2, '0')}`,
          }),
        ),
      ),
    );
    const all = await rds.send(new DescribeDBSnapshotsCommand({}));

    const ids: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await rds.send(new DescribeDBSnapshotsCommand({ MaxRecords: 20, Marker: marker }));
      ids.push(...(page.DBSnapshots ?? []).map((snapshot) => snapshot.DBSnapshotIdentifier ?? ''));
      marker = page.Marker;
      pages++;
    } while (marker);

    expect(pages).toBe(Math.ceil((all.DBSnapshots?.length ?? 0) / 20));
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(ids).toEqual(all.DBSnapshots?.map((snapshot) => snapshot.DBSnapshotIdentifier));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('answers an unknown identifier with DBSnapshotNotFound', async () => {
    const error = await failure(rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'ghost' })));

    expect(error).toBeInstanceOf(DBSnapshotNotFoundFault);
    expect(error.Code).toBe('DBSnapshotNotFound');
  });
});

describe('DeleteDBSnapshot', () => {
  it('deletes a manual snapshot', async () => {
    await waitForSnapshot(rds, 'page-00');

    const out = await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'page-00' }));
    const error = await failure(
      rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'page-00' })),
    );

    expect(out.DBSnapshot).toMatchObject({ DBSnapshotIdentifier: 'page-00', Status: 'deleted' });
    expect(error).toBeInstanceOf(DBSnapshotNotFoundFault);
  });

  it('refuses to delete an automated snapshot with InvalidDBSnapshotState', async () => {
    const automated = await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'automated' }));
    const id = automated.DBSnapshots?.[0]?.DBSnapshotIdentifier ?? '';

    const error = await failure(rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id })));

    expect(error).toBeInstanceOf(InvalidDBSnapshotStateFault);
    expect(error.Code).toBe('InvalidDBSnapshotState');
  });
});

describe('CopyDBSnapshot', () => {
  it('copies within the region, with the source tags when CopyTags is set', async () => {
    const out = await rds.send(
      new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: 'copied-tags',
        TargetDBSnapshotIdentifier: 'copy-with-tags',
        CopyTags: true,
        Tags: [{ Key: 'caretaker:kind', Value: 'snapshot' }],
      }),
    );
    await waitForSnapshot(rds, 'copy-with-tags');

    expect(out.DBSnapshot).toMatchObject({
      Status: 'creating',
      SnapshotType: 'manual',
      SourceDBSnapshotIdentifier: 'arn:aws:rds:us-east-1:000000000000:snapshot:copied-tags',
      TagList: [
        { Key: 'app', Value: 'ledger' },
        { Key: 'caretaker:kind', Value: 'snapshot' },
      ],
    });
    expect(out.DBSnapshot?.SourceRegion).toBeUndefined();
  });

  it('keeps a copy whole when its source is deleted', async () => {
    await rds.send(
      new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: 'progress-watch',
        TargetDBSnapshotIdentifier: 'survivor',
      }),
    );
    await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'progress-watch' }));
    await waitForSnapshot(rds, 'survivor');

    await rds.send(
      new RestoreDBInstanceFromDBSnapshotCommand({
        DBInstanceIdentifier: 'from-survivor',
        DBSnapshotIdentifier: 'survivor',
        BackupRetentionPeriod: 0,
      }),
    );
    await waitForInstance(rds, 'from-survivor');
    const restored = await describeInstance(rds, 'from-survivor');
    const rows = await withPg(restored.Endpoint ?? {}, MASTER, rowSummary);

    expect(rows).toEqual({ rows: 9000, original: 6500 });
  });

  it('copies to another region under a KMS key of that region, and the copy restores there', async () => {
    const kms = new KMSClient({ region: 'eu-west-1' });
    const key = await kms.send(new CreateKeyCommand({ Description: 'DR key' }));

    const out = await drRds.send(
      new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: SOURCE_ARN,
        TargetDBSnapshotIdentifier: 'ledger-dr',
        KmsKeyId: key.KeyMetadata?.KeyId,
        CopyTags: true,
      }),
    );
    await pollUntil(
      () => describeSnapshot(drRds, 'ledger-dr').then((snapshot) => snapshot.Status),
      'available',
      'DR copy',
    );
    const inSourceRegion = await failure(
      rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'ledger-dr' })),
    );
    await drRds.send(
      new RestoreDBInstanceFromDBSnapshotCommand({
        DBInstanceIdentifier: 'ledger-dr',
        DBSnapshotIdentifier: 'ledger-dr',
      }),
    );
    await waitForInstance(drRds, 'ledger-dr');
    const drInstance = await describeInstance(drRds, 'ledger-dr');
    const rows = await withPg(drInstance.Endpoint ?? {}, MASTER, rowSummary);

    expect(out.DBSnapshot).toMatchObject({
      DBSnapshotArn: 'arn:aws:rds:eu-west-1:000000000000:snapshot:ledger-dr',
      SourceRegion: 'us-east-1',
      SourceDBSnapshotIdentifier: SOURCE_ARN,
      Encrypted: true,
      KmsKeyId: key.KeyMetadata?.Arn,
    });
    expect(inSourceRegion).toBeInstanceOf(DBSnapshotNotFoundFault);
    expect(drInstance).toMatchObject({ StorageEncrypted: true, KmsKeyId: key.KeyMetadata?.Arn });
    expect(rows).toEqual({ rows: 10000, original: 10000 });
  }, 120_000);

  it('refuses a KMS key that does not exist in the target region with KMSKeyNotAccessibleFault', async () => {
    const usKey = await new KMSClient({}).send(new CreateKeyCommand({ Description: 'wrong region' }));

    const unknown = await failure(
      drRds.send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: SOURCE_ARN,
          TargetDBSnapshotIdentifier: 'ledger-dr-2',
          KmsKeyId: 'alias/no-such-key',
        }),
      ),
    );
    const otherRegion = await failure(
      drRds.send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: SOURCE_ARN,
          TargetDBSnapshotIdentifier: 'ledger-dr-3',
          KmsKeyId: usKey.KeyMetadata?.Arn,
        }),
      ),
    );

    expect(unknown).toBeInstanceOf(KMSKeyNotAccessibleFault);
    expect(unknown.Code).toBe('KMSKeyNotAccessibleFault');
    expect(otherRegion).toBeInstanceOf(KMSKeyNotAccessibleFault);
  });

  it('requires a new key to copy an encrypted snapshot across regions', async () => {
    const usKey = await new KMSClient({}).send(new CreateKeyCommand({ Description: 'source key' }));
    await rds.send(
      new CopyDBSnapshotCommand({
        SourceDBSnapshotIdentifier: 'ledger-before-change',
        TargetDBSnapshotIdentifier: 'ledger-encrypted',
        KmsKeyId: usKey.KeyMetadata?.KeyId,
      }),
    );
    await waitForSnapshot(rds, 'ledger-encrypted');

    const error = await failure(
      drRds.send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: 'arn:aws:rds:us-east-1:000000000000:snapshot:ledger-encrypted',
          TargetDBSnapshotIdentifier: 'ledger-encrypted-dr',
        }),
      ),
    );

    expect(error.name).toBe('InvalidParameterValue');
    expect(error.message).toMatch(/KMS key/);
  });

  it('refuses an unknown source with DBSnapshotNotFound and a taken target with DBSnapshotAlreadyExists', async () => {
    const unknown = await failure(
      rds.send(
        new CopyDBSnapshotCommand({ SourceDBSnapshotIdentifier: 'ghost', TargetDBSnapshotIdentifier: 'x-1' }),
      ),
    );
    const taken = await failure(
      rds.send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: 'ledger-before-change',
          TargetDBSnapshotIdentifier: 'copied-tags',
        }),
      ),
    );

    expect(unknown).toBeInstanceOf(DBSnapshotNotFoundFault);
    expect(taken).toBeInstanceOf(DBSnapshotAlreadyExistsFault);
  });
});

describe('RestoreDBInstanceFromDBSnapshot errors', () => {
  it('refuses a taken identifier and an unknown snapshot', async () => {
    const taken = await failure(
      rds.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: 'ledger',
          DBSnapshotIdentifier: 'ledger-before-change',
        }),
      ),
    );
    const unknown = await failure(
      rds.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: 'fresh',
          DBSnapshotIdentifier: 'ghost',
        }),
      ),
    );

    expect(taken).toBeInstanceOf(DBInstanceAlreadyExistsFault);
    expect(unknown).toBeInstanceOf(DBSnapshotNotFoundFault);
  });
});

describe('the manual snapshot quota', () => {
  it('answers SnapshotQuotaExceeded once the region holds snapshotQuota manual snapshots', async () => {
    let error: (Error & { Code?: string }) | undefined;
    for (let index = 0; index <= QUOTA && !error; index++) {
      error = await rds
        .send(
          new CopyDBSnapshotCommand({
            SourceDBSnapshotIdentifier: 'ledger-before-change',
            TargetDBSnapshotIdentifier: `quota-${index}`,
          }),
        )
        .then(
          () => undefined,
          (caught: Error & { Code?: string }) => caught,
        );
    }
    const manual = await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }));

    expect(error).toBeInstanceOf(SnapshotQuotaExceededFault);
    expect(error?.Code).toBe('SnapshotQuotaExceeded');
    expect(manual.DBSnapshots).toHaveLength(QUOTA);
  });
});
