/**
 * statemachines/disaster-recovery.asl.json end to end on the sandbox: the real ASL with every
 * Task invoking the REAL handlers (flow-input, rds-restore, backup-restore, health-check, report)
 * in the sandbox Lambda, against real PostgreSQL standing in for RDS and real S3/KMS. The
 * instance is seeded with rows and a source bucket with objects; a snapshot (copied to the DR
 * region) and a verified backup are taken through the functions. Then:
 *
 * - a drill restores in the DR region, verifies the restored copy with the configured query
 *   check, reports RTO and RPO, and leaves no restored instance and no restored object behind;
 * - a failover whose verification fails (a query check the restored data cannot pass) rolls
 *   back, leaving the original database and the source data untouched;
 * - a failover leaves the restored database answering under the original identifier with the
 *   seeded rows (row count and content hash) and the restored objects byte-identical.
 *
 * The sandbox has no Secrets Manager: the query checks' password is served over loopback
 * (test/support/secrets-endpoint.ts) through the standard AWS_ENDPOINT_URL_SECRETS_MANAGER.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateDBInstanceCommand,
  DescribeDBInstancesCommand,
  ListTagsForResourceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backupSet,
  disasterRecovery,
  healthChecks,
  rdsTarget,
} from '../../functions/common/config/config-sections.ts';
import { type FlowContext, flowContextEnvironment } from '../../functions/common/flows/context.ts';
import type { SandboxService } from '../../sandbox/core/types.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { type LambdaService, lambdaService } from '../../sandbox/services/lambda/index.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { type SnsService, snsService } from '../../sandbox/services/sns/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { historyOf, ROLE_ARN, run } from '../fixtures/statemachines/harness.ts';
import { putObjects, readAll } from '../sandbox/backup-harness.ts';
import { waitForInstance, withPg } from '../sandbox/rds-support.ts';
import { withSandbox } from '../support/sandbox.ts';
import { type SecretsEndpoint, startSecretsEndpoint } from '../support/secrets-endpoint.ts';

const ASL = fileURLToPath(new URL('../../statemachines/disaster-recovery.asl.json', import.meta.url));
const module = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const quiet = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };

const sandbox = withSandbox([s3Service, kmsService, rdsService, snsService, lambdaService, statesService], {
  settings: { lambda: { environment: quiet }, rds: { statusDelayMs: 100 }, states: { timeScale: 0.002 } },
});

const ENVIRONMENT = 'flowtest';
const DR_REGION = 'eu-west-1';
const MASTER = { user: 'orders_admin', password: 'orders-secret-1', database: 'orders' };
const SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:orders-admin';
const BACKUP_BUCKET = 'dr-flow-backups';
const SOURCE_BUCKET = 'dr-flow-app';
const RESTORE_BUCKET = 'dr-flow-restores';
const RESTORED_PREFIX = 'dr-restore/uploads/';
const SOURCE = {
  'uploads/a.txt': 'alpha',
  'uploads/nested/b.json': '{"b": 2}',
  'uploads/empty': '',
  'uploads/big.bin': randomBytes(2 * 1024 * 1024 + 17),
};

let s3: S3Client;
let rds: RDSClient;
let drRds: RDSClient;
let sfn: SFNClient;
let lambda: LambdaClient;
let machineArn: string;
let topicArn: string;
let secrets: SecretsEndpoint;
let drKeyArn: string;
/** Row count and content hash of `orders` when the snapshot was taken. */
let atSnapshot: { rows: number; hash: string };
let backupId: string;

const queryCheck = (name: string, query: string) => ({
  name,
  rdsTarget: 'orders',
  database: MASTER.database,
  user: MASTER.user,
  passwordSecretArn: SECRET,
  query,
});
const ROWS_CHECK = queryCheck('orders-rows', 'SELECT id FROM orders LIMIT 5');

function contextWith(
  queries: object[],
  rdsChecks: object[] = [{ name: 'orders-db', identifier: 'orders-db' }],
): FlowContext {
  return {
    environmentName: ENVIRONMENT,
    backupSets: [
      backupSet.parse({ name: 'uploads', sourceBucket: SOURCE_BUCKET, prefix: 'uploads/', retention: 'std' }),
    ],
    rdsTargets: [
      rdsTarget.parse({
        name: 'orders',
        identifier: 'orders-db',
        retention: 'std',
        crossRegionCopy: { region: DR_REGION, kmsKeyArn: drKeyArn },
      }),
    ],
    lambdaFunctions: [],
    healthChecks: healthChecks.parse({ rds: rdsChecks, queries }),
    disasterRecovery: disasterRecovery.parse({ region: DR_REGION, restoreBucket: RESTORE_BUCKET }),
  };
}

function service<T extends SandboxService>(name: string): T {
  return sandbox.sandbox.context.service<T>(name)!;
}

/** Registers the real handlers, flow-input and health-check with the checks of `context`. */
function registerFunctions(context: FlowContext): void {
  const lambdaSandbox = service<LambdaService>('lambda');
  const targets = JSON.stringify(context.rdsTargets);
  const backupEnv = {
    BACKUP_BUCKET,
    BACKUP_KEY_ARN: process.env.DR_TEST_KEY_ARN!,
    CARETAKER_STACK: 'caretaker-flowtest',
  };
  const register = (name: string, folder: string, environment: Record<string, string>) =>
    lambdaSandbox.register({
      name,
      modulePath: module(`../../functions/${folder}/handler.ts`),
      environment: { CARETAKER_ENVIRONMENT: ENVIRONMENT, ...environment },
      timeoutMs: 120_000,
      memoryMb: 1024,
    });
  register('caretaker-flow-input', 'flow-input', flowContextEnvironment(context));
  register('caretaker-rds-snapshot', 'rds-snapshot', {
    RDS_TARGETS: targets,
    CARETAKER_STACK: 'caretaker-flowtest',
  });
  register('caretaker-rds-restore', 'rds-restore', {
    RDS_TARGETS: targets,
    CARETAKER_STACK: 'caretaker-flowtest',
  });
  register('caretaker-rds-switch-over', 'rds-switch-over', {
    RDS_TARGETS: targets,
    CARETAKER_STACK: 'caretaker-flowtest',
  });
  register('caretaker-s3-backup', 's3-backup', backupEnv);
  register('caretaker-backup-verify', 'backup-verify', backupEnv);
  register('caretaker-backup-restore', 'backup-restore', backupEnv);
  register('caretaker-health-check', 'health-check', {
    HEALTH_CHECKS: JSON.stringify({
      ...context.healthChecks,
      backupSets: [],
      rdsTargets: context.rdsTargets.map(({ name, type, identifier }) => ({ name, type, identifier })),
    }),
    DATABASE_TLS: 'disable',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
  });
  register('caretaker-report', 'report', { BACKUP_BUCKET, ALERT_TOPIC_ARN: topicArn });
}

/** Invokes a function of the sandbox as a flow would; throws its error. */
async function invoke(name: string, payload: object): Promise<any> {
  const out = await lambda.send(
    new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const body = JSON.parse(Buffer.from(out.Payload!).toString());
  if (out.FunctionError) throw Object.assign(new Error(body.errorMessage), { name: body.errorType });
  return body;
}

/** Calls until `done(result)`, retrying the transient ResourceBusyError as a flow's Retry would. */
async function until(name: string, payload: object, done: (result: any) => boolean): Promise<any> {
  for (let attempt = 0; attempt < 600; attempt++) {
    try {
      const result = await invoke(name, payload);
      if (done(result)) return result;
    } catch (error) {
      if ((error as Error).name !== 'ResourceBusyError') throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${name} never done: ${JSON.stringify(payload)}`);
}

async function endpointOf(client: RDSClient, id: string) {
  const out = await client.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  return out.DBInstances![0]!;
}

/** Row count, content hash and whether the after-snapshot row is there, of `orders` at `id`. */
async function contentOf(id: string): Promise<{ rows: number; hash: string; late: number }> {
  const instance = await endpointOf(rds, id);
  return withPg(instance.Endpoint ?? {}, MASTER, async (client) => {
    const result = await client.query(
      `SELECT count(*)::int AS rows, md5(string_agg(id || ':' || note, ',' ORDER BY id)) AS hash,
              count(*) FILTER (WHERE note = 'after-snapshot')::int AS late FROM orders`,
    );
    return result.rows[0] as { rows: number; hash: string; late: number };
  });
}

async function instanceIds(client: RDSClient): Promise<string[]> {
  const out = await client.send(new DescribeDBInstancesCommand({}));
  return (out.DBInstances ?? []).map((db) => db.DBInstanceIdentifier!).sort();
}

async function restoredKeys(): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: RESTORE_BUCKET, Prefix: RESTORED_PREFIX }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

/** The report JSON a run wrote. */
async function reportOf(executionArn: string): Promise<any> {
  const name = executionArn.split(':').pop()!;
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: BACKUP_BUCKET, Prefix: 'reports/DisasterRecovery/' }),
  );
  const key = (listed.Contents ?? []).map((o) => o.Key!).find((k) => k.endsWith(`/${name}.json`));
  if (!key) throw new Error(`no report for ${name}`);
  return JSON.parse((await readAll(s3, BACKUP_BUCKET, key)).get(key)!.toString());
}

function alertsOf(executionArn: string) {
  return service<SnsService>('sns')
    .messages(topicArn)
    .filter((m) => m.message.includes(encodeURIComponent(executionArn)) || m.message.includes(executionArn));
}

beforeAll(async () => {
  s3 = new S3Client({});
  rds = new RDSClient({});
  drRds = new RDSClient({ region: DR_REGION });
  sfn = new SFNClient({});
  lambda = new LambdaClient({});
  secrets = await startSecretsEndpoint();
  secrets.secrets.set(SECRET, JSON.stringify({ username: MASTER.user, password: MASTER.password }));
  const kms = new KMSClient({});
  process.env.DR_TEST_KEY_ARN = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  drKeyArn = (await new KMSClient({ region: DR_REGION }).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  for (const Bucket of [BACKUP_BUCKET, SOURCE_BUCKET, RESTORE_BUCKET])
    await s3.send(new CreateBucketCommand({ Bucket }));
  topicArn = (await new SNSClient({}).send(new CreateTopicCommand({ Name: 'dr-alerts' }))).TopicArn!;
  registerFunctions(contextWith([ROWS_CHECK]));

  // Production: an instance with rows, a bucket with objects.
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'orders-db',
      DBInstanceClass: 'db.t4g.small',
      Engine: 'postgres',
      MasterUsername: MASTER.user,
      MasterUserPassword: MASTER.password,
      DBName: MASTER.database,
      BackupRetentionPeriod: 0,
      DeletionProtection: true,
    }),
  );
  await waitForInstance(rds, 'orders-db');
  await withPg((await endpointOf(rds, 'orders-db')).Endpoint ?? {}, MASTER, async (client) => {
    await client.query('CREATE TABLE orders (id int PRIMARY KEY, note text NOT NULL)');
    await client.query(
      "INSERT INTO orders SELECT n, 'order ' || md5(n::text) FROM generate_series(1, 500) AS n",
    );
  });
  await putObjects(s3, SOURCE_BUCKET, SOURCE);

  // The recovery points, through the functions: a snapshot copied to the DR region, a verified backup.
  atSnapshot = await contentOf('orders-db');
  const created = await until(
    'caretaker-rds-snapshot',
    { action: 'create', target: 'orders', executionId: 'nightly-1' },
    () => true,
  );
  await until(
    'caretaker-rds-snapshot',
    { action: 'status', target: 'orders', snapshotIdentifier: created.snapshotIdentifier },
    (status) => status.done,
  );
  await until(
    'caretaker-rds-snapshot',
    {
      action: 'copy',
      target: 'orders',
      executionId: 'nightly-1',
      snapshotIdentifier: created.snapshotIdentifier,
    },
    (copy) => copy.copy?.status !== 'waiting',
  );
  await until(
    'caretaker-rds-snapshot',
    { action: 'status', target: 'orders', snapshotIdentifier: created.snapshotIdentifier, region: DR_REGION },
    (status) => status.done,
  );
  const backup = await until(
    'caretaker-s3-backup',
    { set: contextWith([]).backupSets[0], executionId: 'nightly-1' },
    (result) => result.done,
  );
  backupId = backup.backupId;
  await until('caretaker-backup-verify', { set: 'uploads', backupId }, (result) => result.done);
  // Production moves on after its recovery points.
  await withPg((await endpointOf(rds, 'orders-db')).Endpoint ?? {}, MASTER, (client) =>
    client.query("INSERT INTO orders VALUES (501, 'after-snapshot')"),
  );

  const definition = readFileSync(ASL, 'utf8')
    .replaceAll('${FlowInputFunctionArn}', 'caretaker-flow-input')
    .replaceAll('${RdsRestoreFunctionArn}', 'caretaker-rds-restore')
    .replaceAll('${SwitchOverFunctionArn}', 'caretaker-rds-switch-over')
    .replaceAll('${BackupRestoreFunctionArn}', 'caretaker-backup-restore')
    .replaceAll('${HealthCheckFunctionArn}', 'caretaker-health-check')
    .replaceAll('${ReportFunctionArn}', 'caretaker-report');
  machineArn = (
    await sfn.send(new CreateStateMachineCommand({ name: 'dr-flowtest', definition, roleArn: ROLE_ARN }))
  ).stateMachineArn!;
}, 600_000);

afterAll(async () => {
  await secrets?.close();
});

describe.sequential('disaster-recovery flow on the sandbox', () => {
  it('a drill restores in the DR region, verifies, reports RTO and RPO and leaves nothing restored behind', async () => {
    const execution = await run(sfn, machineArn, { mode: 'drill' });
    const report = await reportOf(execution.executionArn!);

    expect({ status: execution.status, error: execution.error, cause: execution.cause }).toEqual({
      status: 'SUCCEEDED',
    });
    const restored = report.disasterRecovery.restored.databases[0];
    expect(restored).toMatchObject({
      target: 'orders',
      region: DR_REGION,
      verification: { status: 'healthy' },
    });
    expect(restored.verification.checks.map((c: any) => [c.name, c.kind, c.status])).toEqual([
      ['orders', 'rds', 'pass'],
      ['orders-rows', 'query', 'pass'],
    ]);
    expect(report.disasterRecovery.restored.backups[0]).toMatchObject({
      set: 'uploads',
      backupId,
      objects: 4,
    });
    expect(report.drill.rtoSeconds).toBeGreaterThan(0);
    expect(report.drill.rpoSeconds).toBeGreaterThan(0);
    expect(report.drill).toMatchObject({ rtoTargetSeconds: 3600, rpoTargetSeconds: 86400, tornDown: true });
    // Nothing restored is left: no instance in either region but the original, no restored object.
    expect(await instanceIds(drRds)).toEqual([]);
    expect(await instanceIds(rds)).toEqual(['orders-db']);
    expect(await restoredKeys()).toEqual([]);
    expect(alertsOf(execution.executionArn!)).toHaveLength(1);
  });

  it('a failover whose verification fails rolls back and leaves the original and its data untouched', async () => {
    // The restored copy must hold a row written after the snapshot: it cannot, so verification fails.
    registerFunctions(
      contextWith([
        ROWS_CHECK,
        queryCheck('orders-latest', "SELECT id FROM orders WHERE note = 'after-snapshot'"),
      ]),
    );
    const before = await contentOf('orders-db');

    const execution = await run(sfn, machineArn, {
      mode: 'failover',
      rdsTargets: ['orders'],
      backupSets: ['uploads'],
      confirm: ENVIRONMENT,
    });
    const states = (await historyOf(sfn, execution.executionArn!)).flatMap((e) =>
      e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails.name] : [],
    );
    const report = await reportOf(execution.executionArn!);

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('UnhealthyError');
    expect(states).not.toContain('SwitchOver');
    expect(report.disasterRecovery.failure).toMatchObject({ step: 'Restore', error: 'UnhealthyError' });
    expect(report.findings.severity).toBe('critical');
    expect(report.findings.failures[0].what).toContain('Rolled back: deleted the restored copies');
    expect(await instanceIds(rds)).toEqual(['orders-db']);
    expect(await contentOf('orders-db')).toEqual(before);
    expect((await endpointOf(rds, 'orders-db')).DeletionProtection).toBe(true);
    expect(await restoredKeys()).toEqual([]);
    const alerts = alertsOf(execution.executionArn!);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toMatch(/^\[CRITICAL\] Caretaker flowtest DisasterRecovery: /);
  });

  it('a failover whose re-check fails after the switch-over is undone: the original answers again under its identifier', async () => {
    // The configured checks also watch a replica that does not exist: healthy before the switch-over
    // is not asked, so only the re-check after it fails.
    registerFunctions(
      contextWith(
        [ROWS_CHECK],
        [
          { name: 'orders-db', identifier: 'orders-db' },
          { name: 'orders-replica', identifier: 'orders-replica' },
        ],
      ),
    );
    const before = await contentOf('orders-db');
    const original = (await endpointOf(rds, 'orders-db')).DbiResourceId;

    const execution = await run(sfn, machineArn, {
      mode: 'failover',
      rdsTargets: ['orders'],
      confirm: ENVIRONMENT,
    });
    const report = await reportOf(execution.executionArn!);

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('UnhealthyError');
    expect(report.disasterRecovery.switchOver[0]).toMatchObject({
      sourceIdentifier: 'orders-db',
      phase: 'promoted',
    });
    expect(report.disasterRecovery.failure).toMatchObject({ step: 'RecheckHealth' });
    expect(report.disasterRecovery.removal.databases).toMatchObject([
      { removed: true, switchOverUndone: true },
    ]);
    expect(await instanceIds(rds)).toEqual(['orders-db']);
    // The very same instance as before the run, not a copy under its name.
    expect(original).toMatch(/^db-/);
    expect((await endpointOf(rds, 'orders-db')).DbiResourceId).toBe(original);
    expect(await contentOf('orders-db')).toEqual(before);
  });

  it('a failover leaves the restored database answering under the original identifier and the objects byte-identical', async () => {
    registerFunctions(contextWith([ROWS_CHECK]));

    const execution = await run(sfn, machineArn, {
      mode: 'failover',
      rdsTargets: ['orders'],
      backupSets: ['uploads'],
      confirm: ENVIRONMENT,
    });
    const report = await reportOf(execution.executionArn!);

    expect({ status: execution.status, error: execution.error, cause: execution.cause }).toEqual({
      status: 'SUCCEEDED',
    });
    // orders-db is now the restored copy: the seeded rows as they were at the snapshot.
    const promoted = await endpointOf(rds, 'orders-db');
    const tags = await rds.send(new ListTagsForResourceCommand({ ResourceName: promoted.DBInstanceArn! }));
    expect(Object.fromEntries((tags.TagList ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({
      'caretaker:execution': execution.executionArn,
      'caretaker:promoted-at': expect.any(String),
    });
    expect(await contentOf('orders-db')).toEqual({ ...atSnapshot, late: 0 });
    expect(atSnapshot.rows).toBe(500);
    // The original is parked, with everything it had.
    const parked = report.disasterRecovery.switchOver[0].oldIdentifier;
    expect(await instanceIds(rds)).toEqual(['orders-db', parked].sort());
    expect((await contentOf(parked)).late).toBe(1);
    expect(report.disasterRecovery.recheck).toMatchObject({ status: 'healthy' });
    expect(report.disasterRecovery.measured.rtoSeconds).toBeGreaterThan(0);
    expect(report.drill).toBeUndefined();
    // The data is back, byte for byte.
    const restored = await readAll(s3, RESTORE_BUCKET, RESTORED_PREFIX);
    expect(
      Object.fromEntries(
        [...restored].map(([k, v]) => [k.slice(RESTORED_PREFIX.length), v.toString('base64')]),
      ),
    ).toEqual(
      Object.fromEntries(
        Object.entries(SOURCE).map(([k, v]) => [
          k.slice('uploads/'.length),
          Buffer.from(v).toString('base64'),
        ]),
      ),
    );
  });
});
