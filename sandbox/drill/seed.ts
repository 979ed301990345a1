/**
 * What the drill's config names, made before the stack runs, as a team's account would have it:
 * the RDS instance with its rows, the source bucket with its objects, the DR region's key, the
 * restore bucket, the application function with two versions behind an alias, and things
 * Caretaker did not make (a manual snapshot, an object in the restore bucket) that must come
 * through every flow untouched.
 */
import { createHash } from 'node:crypto';
import { CreateKeyCommand, CreateAliasCommand as CreateKmsAliasCommand } from '@aws-sdk/client-kms';
import { CreateAliasCommand, PublishVersionCommand } from '@aws-sdk/client-lambda';
import {
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
} from '@aws-sdk/client-rds';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import { backupPrefix, newBackupId } from '../../functions/common/backup/layout.ts';
import { MANAGED_VALUE, TAG } from '../../functions/common/contract.ts';
import type { LambdaService } from '../services/lambda/index.ts';
import type { DrillClients } from './clients.ts';
import { INITIAL_CLASS } from './config.ts';

export const DATABASE = { user: 'drill', password: 'drill-master-password', database: 'orders' } as const;
export const APP_FUNCTION = 'drill-app';
export const APP_ALIAS = 'live';
export const UNMANAGED_SNAPSHOT = 'orders-drill-kept-by-hand';
export const UNMANAGED_OBJECT = {
  key: 'kept-by-hand/notes.txt',
  body: 'Nothing Caretaker did not make is ever touched.\n',
};

/**
 * What an interrupted cleanup leaves in the backup bucket: a backup folder whose manifest is gone
 * (a *remnant*), still holding a stored object and a pack tagged as Caretaker's, and an object
 * someone put there by hand. A real cleanup must empty the folder of Caretaker's objects (through
 * the Cleanup flow's Distributed Map, under the cleanup role) and leave the one it did not make.
 */
export interface Remnant {
  readonly prefix: string;
  /** Tagged managed: the real cleanup deletes them. */
  readonly managedKeys: readonly string[];
  readonly unmanaged: { readonly key: string; readonly body: string };
}

/** Seeds a remnant folder of `set` dated three days back, with the sandbox's own credentials. */
export async function seedRemnant(
  clients: DrillClients,
  backupBucket: string,
  set: string,
): Promise<Remnant> {
  const prefix = backupPrefix(set, newBackupId(new Date(Date.now() - 3 * 86_400_000)));
  const remnant: Remnant = {
    prefix,
    managedKeys: [`${prefix}objects/0/0`, `${prefix}packs/0/0`],
    unmanaged: { key: `${prefix}kept-by-hand.txt`, body: "Put here by hand: not Caretaker's to delete.\n" },
  };
  for (const Key of remnant.managedKeys) {
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: backupBucket,
        Key,
        Body: `left by an interrupted cleanup: ${Key}`,
        Tagging: `${encodeURIComponent(TAG.managed)}=${MANAGED_VALUE}`,
      }),
    );
  }
  await clients.s3.send(
    new PutObjectCommand({ Bucket: backupBucket, Key: remnant.unmanaged.key, Body: remnant.unmanaged.body }),
  );
  return remnant;
}

/** What the config names (the drill config's values). */
export interface DrillNames {
  readonly instance: string;
  readonly sourceBucket: string;
  readonly sourcePrefix: string;
  readonly restoreBucket: string;
  readonly drRegion: string;
  readonly drKeyAlias: string;
}

/** The seeded data, as the checks compare it. */
export interface Seeded {
  readonly rows: number;
  /** md5 of every row in id order. */
  readonly rowsHash: string;
  /** key → SHA-256 of each source object. */
  readonly objects: ReadonlyMap<string, string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The instance's endpoint once it is available. */
export async function availableEndpoint(
  clients: DrillClients,
  identifier: string,
  timeoutMs = 120_000,
): Promise<{ host: string; port: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await clients.rds
      .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }))
      .catch(() => undefined);
    const db = described?.DBInstances?.[0];
    if (db?.DBInstanceStatus === 'available' && db.Endpoint?.Address && db.Endpoint.Port) {
      return { host: db.Endpoint.Address, port: db.Endpoint.Port };
    }
    if (db?.DBInstanceStatus === 'failed') throw new Error(`The drill's RDS instance ${identifier} failed`);
    if (Date.now() > deadline) {
      throw new Error(
        `The drill's RDS instance ${identifier} is ${db?.DBInstanceStatus ?? 'missing'}, not available`,
      );
    }
    await sleep(100);
  }
}

/** Runs `work` connected to the instance's database as the master user. */
export async function withDatabase<T>(
  clients: DrillClients,
  identifier: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const endpoint = await availableEndpoint(clients, identifier);
  const client = new pg.Client({ ...endpoint, ...DATABASE });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Row count and content hash of the orders table. */
export async function tableDigest(client: pg.Client): Promise<{ rows: number; hash: string }> {
  const result = await client.query<{ rows: string; hash: string }>(
    `SELECT count(*) AS rows,
            md5(coalesce(string_agg(id || ':' || customer || ':' || amount_cents || ':' || placed_at, ',' ORDER BY id), '')) AS hash
       FROM orders`,
  );
  return { rows: Number(result.rows[0]!.rows), hash: result.rows[0]!.hash };
}

/** Deterministic bytes for object `index` (sizes from 256 B to about 8 KiB). */
function objectBody(index: number): Buffer {
  const size = 256 + ((index * 7919) % 8000);
  const seed = createHash('sha256').update(`drill-object-${index}`).digest();
  const body = Buffer.alloc(size);
  for (let offset = 0; offset < size; offset += seed.length) seed.copy(body, offset);
  return body;
}

async function mapLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Makes everything the config names, with `rows` rows and `objects` objects; returns their digests. */
export async function seed(
  clients: DrillClients,
  lambda: LambdaService,
  names: DrillNames,
  sizes: { readonly rows: number; readonly objects: number },
  appModule: string,
): Promise<Seeded> {
  // The DR region's key, found by the alias the config names.
  const drKms = clients.kmsIn(names.drRegion);
  const drKey = await drKms.send(new CreateKeyCommand({ Description: 'Caretaker drill: DR copies' }));
  await drKms.send(
    new CreateKmsAliasCommand({ AliasName: names.drKeyAlias, TargetKeyId: drKey.KeyMetadata!.KeyId! }),
  );

  await clients.rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: names.instance,
      DBInstanceClass: INITIAL_CLASS,
      Engine: 'postgres',
      MasterUsername: DATABASE.user,
      MasterUserPassword: DATABASE.password,
      DBName: DATABASE.database,
      AllocatedStorage: 20,
    }),
  );

  await clients.s3.send(new CreateBucketCommand({ Bucket: names.sourceBucket }));
  await clients.s3.send(new CreateBucketCommand({ Bucket: names.restoreBucket }));
  const objects = new Map<string, string>();
  const indexes = Array.from({ length: sizes.objects }, (_, index) => index);
  await mapLimited(indexes, 16, async (index) => {
    const key = `${names.sourcePrefix}${String(index).padStart(5, '0')}.bin`;
    const body = objectBody(index);
    await clients.s3.send(new PutObjectCommand({ Bucket: names.sourceBucket, Key: key, Body: body }));
    objects.set(key, createHash('sha256').update(body).digest('hex'));
  });
  await clients.s3.send(
    new PutObjectCommand({
      Bucket: names.restoreBucket,
      Key: UNMANAGED_OBJECT.key,
      Body: UNMANAGED_OBJECT.body,
    }),
  );

  // The application the canary shifts: version 1 live, version 2 published beside it.
  lambda.register({ name: APP_FUNCTION, modulePath: appModule, environment: { APP_VERSION: '1' } });
  await clients.lambda.send(new PublishVersionCommand({ FunctionName: APP_FUNCTION }));
  lambda.register({ name: APP_FUNCTION, modulePath: appModule, environment: { APP_VERSION: '2' } });
  await clients.lambda.send(new PublishVersionCommand({ FunctionName: APP_FUNCTION }));
  await clients.lambda.send(
    new CreateAliasCommand({ FunctionName: APP_FUNCTION, Name: APP_ALIAS, FunctionVersion: '1' }),
  );

  const digest = await withDatabase(clients, names.instance, async (client) => {
    await client.query(
      `CREATE TABLE orders (id integer PRIMARY KEY, customer text NOT NULL, amount_cents integer NOT NULL, placed_at timestamptz NOT NULL)`,
    );
    await client.query(
      `INSERT INTO orders
         SELECT g, 'customer-' || (g % 9973), (g * 7919) % 100000, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute'
           FROM generate_series(1, $1) AS g`,
      [sizes.rows],
    );
    return tableDigest(client);
  });
  await clients.rds.send(
    new CreateDBSnapshotCommand({
      DBInstanceIdentifier: names.instance,
      DBSnapshotIdentifier: UNMANAGED_SNAPSHOT,
    }),
  );
  return { rows: digest.rows, rowsHash: digest.hash, objects };
}
