import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedQueryCheck } from '../../../../../functions/health-check/check-set.ts';
import { probeQuery, runQuery } from '../../../../../functions/health-check/probes/query.ts';
import { closedPort } from '../../../../support/https-server.ts';
import { type LocalPostgres, startLocalPostgres } from '../local-postgres.ts';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:orders-db-AbCdEf';
const rdsMock = mockClient(RDSClient);
let db: LocalPostgres;

beforeAll(async () => {
  db = await startLocalPostgres();
  await db.sql('CREATE TABLE orders (id int PRIMARY KEY, total numeric)');
  await db.sql('INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 42) g');
  await db.sql('ALTER TABLE orders OWNER TO caretaker');
});
afterAll(async () => {
  await db?.stop();
});
afterEach(() => {
  rdsMock.reset();
});

function check(overrides: Partial<ResolvedQueryCheck> = {}): ResolvedQueryCheck {
  return {
    name: 'orders-rows',
    rdsTarget: 'orders',
    type: 'instance',
    identifier: 'orders-prod',
    database: db.database,
    user: db.user,
    passwordSecretArn: SECRET_ARN,
    query: 'SELECT count(*) FROM orders',
    minRows: 1,
    timeoutMs: 5000,
    ...overrides,
  };
}

function instanceAt(port: number, status = 'available') {
  rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-prod' }).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'orders-prod',
        DBInstanceStatus: status,
        Endpoint: { Address: '127.0.0.1', Port: port },
      },
    ],
  });
}

const options = (password = () => Promise.resolve(db.password)) => ({
  rds: new RDSClient({}),
  password,
  tls: false as const,
});

describe('runQuery', () => {
  it('returns the row count and a numeric first value', async () => {
    // Act
    const outcome = await runQuery({
      ...db,
      query: 'SELECT count(*) FROM orders',
      timeoutMs: 5000,
      tls: false,
    });

    // Assess
    expect(outcome).toMatchObject({ rows: 1, firstValue: 42 });
  });

  it('runs the query in a read-only transaction, so a data-modifying query is refused', async () => {
    // Act
    const attempt = runQuery({
      ...db,
      query: 'WITH gone AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM gone',
      timeoutMs: 5000,
      tls: false,
    });

    // Assess
    await expect(attempt).rejects.toThrow(/read-only transaction/);
    expect((await runQuery({ ...db, query: 'SELECT 1 FROM orders', timeoutMs: 5000, tls: false })).rows).toBe(
      42,
    );
  });

  it('gives up on a slow query after its timeout', async () => {
    // Act
    const attempt = runQuery({ ...db, query: 'SELECT pg_sleep(5)', timeoutMs: 300, tls: false });

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError', message: 'no answer within 300 ms' });
  });
});

describe('probeQuery', () => {
  it('passes when the query returns at least minRows rows, connecting to the endpoint RDS reports', async () => {
    // Prepare
    instanceAt(db.port);

    // Act
    const outcome = await probeQuery(check({ query: 'SELECT id FROM orders', minRows: 40 }), options());

    // Assess
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain('app@instance orders-prod: 42 rows (minimum 40)');
    expect(outcome.evidence).toMatchObject({ endpoint: `127.0.0.1:${db.port}`, rows: 42, minRows: 40 });
  });

  it('fails when the query returns fewer rows than minRows', async () => {
    // Prepare
    instanceAt(db.port);

    // Act
    const outcome = await probeQuery(
      check({ query: 'SELECT id FROM orders WHERE id > 40', minRows: 5 }),
      options(),
    );

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('2 rows (minimum 5)');
  });

  it('fails a minimum-count condition written with HAVING when the table has fewer rows', async () => {
    // Prepare
    instanceAt(db.port);

    // Act
    const enough = await probeQuery(
      check({ query: 'SELECT 1 HAVING (SELECT count(*) FROM orders) >= 40' }),
      options(),
    );
    const tooFew = await probeQuery(
      check({ query: 'SELECT 1 HAVING (SELECT count(*) FROM orders) >= 100' }),
      options(),
    );

    // Assess
    expect([enough.status, tooFew.status]).toEqual(['pass', 'fail']);
  });

  it('fails naming the database error when the query is wrong', async () => {
    // Prepare
    instanceAt(db.port);

    // Act
    const outcome = await probeQuery(check({ query: 'SELECT * FROM no_such_table' }), options());

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toMatch(/query not run \(.*no_such_table/);
  });

  it('fails naming the authentication error when the password is wrong', async () => {
    // Prepare
    instanceAt(db.port);

    // Act
    const outcome = await probeQuery(
      check(),
      options(() => Promise.resolve('wrong-password')),
    );

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.evidence.error).toMatch(/password authentication failed/);
  });

  it('fails naming the provider error when the password cannot be read', async () => {
    // Prepare
    instanceAt(db.port);

    // Act
    const outcome = await probeQuery(
      check(),
      options(() => Promise.reject(new Error('secret not readable'))),
    );

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.evidence.error).toContain('secret not readable');
  });

  it('fails with ECONNREFUSED when nothing listens at the endpoint', async () => {
    // Prepare
    instanceAt(await closedPort());

    // Act
    const outcome = await probeQuery(check(), options());

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.evidence.error).toMatch(/^ECONNREFUSED/);
  });

  it('fails with NotFoundError when the instance does not exist', async () => {
    // Prepare
    rdsMock.on(DescribeDBInstancesCommand).rejects(
      Object.assign(new Error('DBInstance orders-prod not found.'), {
        name: 'DBInstanceNotFoundFault',
        Code: 'DBInstanceNotFound',
        $metadata: { httpStatusCode: 404 },
      }),
    );

    // Act
    const outcome = await probeQuery(check(), options());

    // Assess
    expect(outcome.status).toBe('fail');
    expect(outcome.evidence.error).toMatch(/^NotFoundError: DBInstanceNotFound/);
  });

  it('connects to a cluster writer endpoint for cluster targets', async () => {
    // Prepare
    rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders-aurora' }).resolves({
      DBClusters: [
        { DBClusterIdentifier: 'orders-aurora', Status: 'available', Endpoint: '127.0.0.1', Port: db.port },
      ],
    });

    // Act
    const outcome = await probeQuery(check({ type: 'cluster', identifier: 'orders-aurora' }), options());

    // Assess
    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain('app@cluster orders-aurora');
  });
});
