/**
 * functions/db-maintenance on a real PostgreSQL server (embedded binaries, loopback), RDS described
 * through aws-sdk-client-mock: ANALYZE and VACUUM really run (the statistics they leave are read
 * back), bloat is measured from dead rows, invalid indexes and long-running queries are found, and
 * failures come out as the named errors the flow catches. The pure parts are tested without a server.
 */
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bloatedTables,
  namedDatabaseError,
  summariseNotices,
} from '../../../../functions/db-maintenance/statistics.ts';
import { type LocalPostgres, startLocalPostgres } from '../health-check/local-postgres.ts';

const rds = mockClient(RDSClient);
let server: LocalPostgres;
let maintain: typeof import('../../../../functions/db-maintenance/handler.ts')['maintain'];
const SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:app';

const target = (fields: Record<string, unknown>) => ({
  rdsTarget: 'app',
  type: 'instance',
  identifier: 'app-prod',
  database: 'app',
  user: 'caretaker',
  passwordSecretArn: SECRET,
  analyze: true,
  vacuum: false,
  longQuerySeconds: 1,
  bloatWarnPercent: 20,
  largestTables: 2,
  statementTimeoutMinutes: 1,
  ...fields,
});

beforeAll(async () => {
  server = await startLocalPostgres();
  process.env.DATABASE_MAINTENANCE = JSON.stringify([
    target({}),
    target({ rdsTarget: 'vacuumed', vacuum: true }),
    target({ rdsTarget: 'locked-out', user: 'nobody' }),
  ]);
  ({ maintain } = await import('../../../../functions/db-maintenance/handler.ts'));
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'app-prod',
        DBInstanceStatus: 'available',
        Endpoint: { Address: server.host, Port: server.port },
      },
    ],
  });
  const owner = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: 'app',
  });
  await owner.connect();
  await owner.query('CREATE TABLE orders (id int PRIMARY KEY, note text)');
  await owner.query("INSERT INTO orders SELECT n, repeat('x', 200) FROM generate_series(1, 2000) n");
  await owner.query("UPDATE orders SET note = 'y' WHERE id <= 1000");
  await owner.query('CREATE TABLE small (id int)');
  await owner.query('INSERT INTO small VALUES (1), (1)');
  // A unique index that cannot be built concurrently stays behind, invalid.
  await owner.query('CREATE UNIQUE INDEX CONCURRENTLY small_id ON small (id)').catch(() => undefined);
  // Dead-row counts reach the statistics when the session ends.
  await owner.end();
  await new Promise((resolve) => setTimeout(resolve, 1500));
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

const deps = () => ({ rds: new RDSClient({}), password: async () => server.password, tls: false as const });

async function analyzedAt(
  table: string,
): Promise<{ analyzed: Date | null; vacuumed: Date | null; dead: number }> {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: 'app',
  });
  await client.connect();
  try {
    const { rows } = await client.query(
      'SELECT last_analyze AS analyzed, last_vacuum AS vacuumed, n_dead_tup::int AS dead FROM pg_stat_user_tables WHERE relname = $1',
      [table],
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

describe('maintain on PostgreSQL', () => {
  it('analyzes the database and reports its largest tables, bloat, invalid indexes and long queries', async () => {
    const sleeper = new pg.Client({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      database: 'app',
    });
    await sleeper.connect();
    const sleeping = sleeper.query('SELECT pg_sleep(4)');
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const entry = await maintain({ target: 'app' }, deps());
    await sleeping;
    await sleeper.end();

    expect(entry).toMatchObject({
      target: 'app',
      status: 'succeeded',
      database: 'app',
      analyzed: true,
      vacuumed: false,
    });
    expect(entry.largestTables!.map((t) => t.table)).toEqual(['public.orders', 'public.small']);
    expect(entry.bloatedTables).toEqual([
      expect.objectContaining({ table: 'public.orders', deadRows: 1000 }),
    ]);
    expect(entry.invalidIndexes).toEqual([{ index: 'public.small_id', table: 'public.small' }]);
    expect(entry.longQueries).toEqual([
      expect.objectContaining({ user: 'caretaker', state: 'active', query: 'SELECT pg_sleep(4)' }),
    ]);
    expect((await analyzedAt('orders')).analyzed).not.toBeNull();
  }, 60_000);

  it('vacuums where configured: the dead rows are gone afterwards', async () => {
    const before = await analyzedAt('orders');

    const entry = await maintain({ target: 'vacuumed' }, deps());

    const after = await analyzedAt('orders');
    expect(before.dead).toBeGreaterThan(0);
    expect(entry).toMatchObject({ status: 'succeeded', vacuumed: true, analyzed: true });
    expect(after.vacuumed).not.toBeNull();
    expect(after.dead).toBe(0);
  }, 60_000);

  it('fails with AccessDeniedError when the user cannot log in', async () => {
    await expect(maintain({ target: 'locked-out' }, deps())).rejects.toMatchObject({
      name: 'AccessDeniedError',
      message: expect.stringContaining('database app of instance app-prod'),
    });
  });
});

describe('statistics (pure)', () => {
  it('calls a table bloated above the share of dead rows, only with enough of them', () => {
    expect(
      bloatedTables(
        [
          { table: 'a', totalBytes: 1, liveRows: 700, deadRows: 300 },
          { table: 'b', totalBytes: 1, liveRows: 900, deadRows: 100 },
          { table: 'c', totalBytes: 1, liveRows: 1, deadRows: 50 },
        ],
        20,
      ),
    ).toEqual([{ table: 'a', liveRows: 700, deadRows: 300, deadPercent: 30 }]);
  });

  it('collapses the tables skipped for ownership into one line', () => {
    expect(
      summariseNotices([
        'skipping "a" --- only table or database owner can analyze it',
        'skipping "b" --- only table or database owner can analyze it',
        'something else',
      ]),
    ).toEqual([
      '2 tables were skipped: the user does not own them (grant pg_maintain or connect as the owner), e.g. skipping "a" --- only table or database owner can analyze it',
      'something else',
    ]);
  });

  it('names PostgreSQL errors by what the flow can do about them', () => {
    const pgError = (code: string) => Object.assign(new Error('x'), { code });

    expect(namedDatabaseError(pgError('28P01'), 'db').name).toBe('AccessDeniedError');
    expect(namedDatabaseError(pgError('3D000'), 'db').name).toBe('NotFoundError');
    expect(namedDatabaseError(pgError('57014'), 'db').name).toBe('TimeoutExceededError');
    expect(namedDatabaseError(pgError('08006'), 'db').name).toBe('NetworkError');
    expect(namedDatabaseError(pgError('42P01'), 'db').name).toBe('PreconditionFailedError');
  });
});
