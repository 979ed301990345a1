/**
 * statemachines/routine-maintenance.asl.json on the sandbox with the REAL handlers (flow-input,
 * health-check, rds-snapshot, report, and s3-backup and backup-verify inside the REAL Backup flow,
 * run as its nested child), a sandbox PostgreSQL instance as the RDS target (with a cross-region
 * copy) and a source bucket as the backup set. Checked by the data: the snapshot restores to the
 * same rows, its DR copy exists, both carry Caretaker's tags; the backup verifies object by object;
 * the report holds both, with one alert per run. Then a run whose snapshot fails (the snapshot quota
 * is reached) still backs up and reports everything and fails, and the next good run resolves it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, EnableKeyRotationCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  type DescribeExecutionCommandOutput,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { backupSet, rdsTarget } from '../../functions/common/config/config-sections.ts';
import { flowContextEnvironment } from '../../functions/common/flows/context.ts';
import { cloudWatchService } from '../../sandbox/services/cloudwatch/index.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { type LambdaService, lambdaService } from '../../sandbox/services/lambda/index.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { type SnsService, snsService } from '../../sandbox/services/sns/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { historyOf, ROLE_ARN, run } from '../fixtures/statemachines/harness.ts';
import { waitForInstance, withPg } from '../sandbox/rds-support.ts';
import { flowContext } from '../support/flow-context.ts';
import { fakeContext } from '../support/lambda-context.ts';
import { withSandbox } from '../support/sandbox.ts';

const module = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const quiet = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };

const sandbox = withSandbox(
  [s3Service, kmsService, snsService, rdsService, lambdaService, statesService, cloudWatchService],
  {
    settings: {
      lambda: { environment: quiet },
      rds: { statusDelayMs: 150 },
      // A 30 s poll interval waits 0.3 s.
      states: { timeScale: 0.01 },
    },
  },
);

const DR_REGION = 'eu-west-1';
const BACKUP_BUCKET = 'routine-backups';
const SOURCE_BUCKET = 'routine-source';
const MASTER = { user: 'owner', password: 'owner-secret-1', database: 'shop' };
const ROWS = 500;
const OBJECTS: Record<string, string> = Object.fromEntries(
  Array.from({ length: 6 }, (_, i) => [`data/file-${i}.txt`, `object ${i} `.repeat(50 + i)]),
);

let s3: S3Client;
let rds: RDSClient;
let drRds: RDSClient;
let sfn: SFNClient;
let routineArn: string;
let backupArn: string;
let keyArn: string;
let drKeyArn: string;

const set = backupSet.parse({
  name: 'shop-files',
  sourceBucket: SOURCE_BUCKET,
  prefix: 'data/',
  mode: 'incremental',
  retention: 'standard',
  verifySubset: 'all',
});
let target: ReturnType<typeof rdsTarget.parse>;

/** The ASL file with its placeholders filled. */
function definition(file: string, values: Record<string, string>): string {
  return readFileSync(`statemachines/${file}`, 'utf8').replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    if (!(name in values)) throw new Error(`${file}: no value for ${whole}`);
    return values[name]!;
  });
}

/** Registers rds-snapshot with the snapshot quota `quota` (the handler counts before it creates). */
function registerSnapshot(quota: number): void {
  sandbox.sandbox.context.service<LambdaService>('lambda')!.register({
    name: 'caretaker-rds-snapshot',
    modulePath: module('../../functions/rds-snapshot/handler.ts'),
    environment: {
      RDS_TARGETS: JSON.stringify([target]),
      CARETAKER_STACK: 'caretaker-routine-test',
      SNAPSHOT_QUOTA: String(quota),
      SNAPSHOT_WARN_PERCENT: '80',
      MAX_CONCURRENT_COPIES: '5',
    },
    timeoutMs: 60_000,
  });
}

beforeAll(async () => {
  s3 = new S3Client({});
  rds = new RDSClient({});
  drRds = new RDSClient({ region: DR_REGION });
  sfn = new SFNClient({});
  keyArn = (await new KMSClient({}).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  drKeyArn = (await new KMSClient({ region: DR_REGION }).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  // Rotation on, as the stack sets it: the security section has nothing to warn about.
  await new KMSClient({}).send(new EnableKeyRotationCommand({ KeyId: keyArn }));
  await new KMSClient({ region: DR_REGION }).send(new EnableKeyRotationCommand({ KeyId: drKeyArn }));
  target = rdsTarget.parse({
    name: 'shop',
    type: 'instance',
    identifier: 'shop-db',
    retention: 'standard',
    crossRegionCopy: { region: DR_REGION, kmsKeyArn: drKeyArn },
  });

  await Promise.all(
    [BACKUP_BUCKET, SOURCE_BUCKET].map((Bucket) => s3.send(new CreateBucketCommand({ Bucket }))),
  );
  for (const [Key, Body] of Object.entries(OBJECTS)) {
    await s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key, Body }));
  }
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'shop-db',
      DBInstanceClass: 'db.t4g.micro',
      Engine: 'postgres',
      MasterUsername: MASTER.user,
      MasterUserPassword: MASTER.password,
      DBName: MASTER.database,
      BackupRetentionPeriod: 0,
      Tags: [{ Key: 'app', Value: 'shop' }],
    }),
  );
  await waitForInstance(rds, 'shop-db');
  await withPg(await endpointOf('shop-db'), MASTER, async (client) => {
    await client.query('CREATE TABLE orders (id int PRIMARY KEY, note text NOT NULL)');
    await client.query(`INSERT INTO orders SELECT n, md5(n::text) FROM generate_series(1, ${ROWS}) AS n`);
  });

  const topicArn = (await new SNSClient({}).send(new CreateTopicCommand({ Name: 'routine-alerts' })))
    .TopicArn!;
  const backupEnv = {
    BACKUP_BUCKET,
    BACKUP_KEY_ARN: keyArn,
    CARETAKER_STACK: 'caretaker-routine-test',
    BACKUP_SAFETY_MARGIN_MS: '1000',
  };
  const lambda = sandbox.sandbox.context.service<LambdaService>('lambda')!;
  const register = (name: string, folder: string, environment: Record<string, string>) =>
    lambda.register({
      name,
      modulePath: module(`../../functions/${folder}/handler.ts`),
      environment,
      timeoutMs: 120_000,
      memoryMb: 1024,
    });
  register(
    'caretaker-flow-input',
    'flow-input',
    flowContextEnvironment(flowContext({ backupSets: [set], rdsTargets: [target] })),
  );
  register('caretaker-health-check', 'health-check', {
    HEALTH_CHECKS: JSON.stringify({ rds: [{ name: 'shop-db', type: 'instance', identifier: 'shop-db' }] }),
  });
  register('caretaker-s3-backup', 's3-backup', backupEnv);
  register('caretaker-backup-verify', 'backup-verify', backupEnv);
  register('caretaker-report', 'report', {
    BACKUP_BUCKET,
    ALERT_TOPIC_ARN: topicArn,
    CARETAKER_ENVIRONMENT: 'routinetest',
  });
  registerSnapshot(100);
  // The maintenance beyond backups: no history to forecast from yet, no database configured.
  register('caretaker-capacity', 'capacity', { RDS_TARGETS: JSON.stringify([target]) });
  register('caretaker-security-maintenance', 'security-maintenance', {
    RDS_TARGETS: JSON.stringify([target]),
    STACK_KEY_ARN: keyArn,
  });
  register('caretaker-db-maintenance', 'db-maintenance', { DATABASE_MAINTENANCE: '[]' });
  register('caretaker-task-statistics', 'task-statistics', {
    STATE_MACHINE_ARN_PREFIX: 'arn:aws:states:us-east-1:000000000000:stateMachine:',
    STATE_MACHINE_NAMES: JSON.stringify({
      RoutineMaintenance: 'caretaker-routine-maintenance',
      Backup: 'caretaker-backup',
    }),
  });
  // For the in-process backup-verify below.
  Object.assign(process.env, backupEnv);

  const functions = {
    FlowInputFunctionArn: 'caretaker-flow-input',
    ReportFunctionArn: 'caretaker-report',
  };
  backupArn = (
    await sfn.send(
      new CreateStateMachineCommand({
        name: 'caretaker-backup',
        roleArn: ROLE_ARN,
        definition: definition('backup.asl.json', {
          ...functions,
          BackupFunctionArn: 'caretaker-s3-backup',
          VerifyFunctionArn: 'caretaker-backup-verify',
          BackupBucket: BACKUP_BUCKET,
          BackupMaxConcurrency: '4',
          BackupBatchesPerChild: '4',
          BackupInlineBatchLimit: '4',
        }),
      }),
    )
  ).stateMachineArn!;
  routineArn = (
    await sfn.send(
      new CreateStateMachineCommand({
        name: 'caretaker-routine-maintenance',
        roleArn: ROLE_ARN,
        definition: definition('routine-maintenance.asl.json', {
          ...functions,
          HealthCheckFunctionArn: 'caretaker-health-check',
          SnapshotFunctionArn: 'caretaker-rds-snapshot',
          BackupStateMachineArn: backupArn,
          CapacityFunctionArn: 'caretaker-capacity',
          SecurityMaintenanceFunctionArn: 'caretaker-security-maintenance',
          DatabaseMaintenanceFunctionArn: 'caretaker-db-maintenance',
          TaskStatisticsFunctionArn: 'caretaker-task-statistics',
        }),
      }),
    )
  ).stateMachineArn!;
}, 120_000);

async function endpointOf(id: string) {
  const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  return out.DBInstances![0]!.Endpoint ?? {};
}

async function tagsOf(client: RDSClient, arn: string): Promise<Record<string, string>> {
  const out = await client.send(new ListTagsForResourceCommand({ ResourceName: arn }));
  return Object.fromEntries((out.TagList ?? []).map((tag) => [tag.Key!, tag.Value!]));
}

/** The run's JSON report, read back from the backup bucket. */
async function reportOf(execution: DescribeExecutionCommandOutput) {
  const name = execution.executionArn!.split(':').pop();
  const day = execution.startDate!.toISOString().slice(0, 10);
  const got = await s3.send(
    new GetObjectCommand({ Bucket: BACKUP_BUCKET, Key: `reports/RoutineMaintenance/${day}/${name}.json` }),
  );
  return JSON.parse(await got.Body!.transformToString());
}

/** The Backup executions a routine run started (the nested children). */
async function childrenOf(parent: string) {
  const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: backupArn }));
  const children = [];
  for (const execution of listed.executions ?? []) {
    const history = await historyOf(sfn, execution.executionArn!);
    const input = JSON.parse(history[0]!.executionStartedEventDetails!.input!);
    if (input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID === parent) children.push(execution);
  }
  return children;
}

const alertsSince = (count: number) =>
  sandbox.sandbox.context
    .service<SnsService>('sns')!
    .messages()
    .slice(count)
    .map((message) => message.subject);
const alertCount = () => sandbox.sandbox.context.service<SnsService>('sns')!.messages().length;

async function verifyBackup(backupId: string) {
  const { handler } = await import('../../functions/backup-verify/handler.ts');
  return handler({ set: set.name, backupId }, fakeContext('backup-verify', 120_000));
}

describe.sequential('routine maintenance on the sandbox', () => {
  let first: DescribeExecutionCommandOutput;

  it('backs up the set through the nested Backup flow, snapshots and copies the database, reports both', async () => {
    const before = alertCount();

    first = await run(sfn, routineArn, {});
    const report = await reportOf(first);
    const children = await childrenOf(first.executionArn!);

    expect(first.status).toBe('SUCCEEDED');
    expect(children.map((child) => child.status)).toEqual(['SUCCEEDED']);
    expect(report.health).toMatchObject({ status: 'healthy', label: 'routine' });
    expect(report.backups).toEqual([
      expect.objectContaining({
        set: 'shop-files',
        status: 'succeeded',
        mode: 'full',
        objects: Object.keys(OBJECTS).length,
        verification: expect.objectContaining({ ok: true, objectsChecked: Object.keys(OBJECTS).length }),
      }),
    ]);
    expect(report.snapshots).toEqual([
      expect.objectContaining({
        target: 'shop',
        status: 'succeeded',
        copy: expect.objectContaining({ region: DR_REGION, status: 'available' }),
      }),
    ]);
    expect(report.findings.severity).toBe('info');
    // One alert for the run: the nested Backup does not report on its own.
    expect(alertsSince(before)).toEqual([
      '[INFO] Caretaker routinetest RoutineMaintenance: Routine maintenance report: everything succeeded',
    ]);
  }, 180_000);

  it("made a snapshot tagged as Caretaker's, of this execution, that restores to the same rows", async () => {
    const { snapshotId } = (await reportOf(first)).snapshots[0];
    const [snapshot] = (await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId })))
      .DBSnapshots!;

    await rds.send(
      new RestoreDBInstanceFromDBSnapshotCommand({
        DBInstanceIdentifier: 'shop-check',
        DBSnapshotIdentifier: snapshotId,
      }),
    );
    await waitForInstance(rds, 'shop-check');
    const [restored, original] = await Promise.all(
      ['shop-check', 'shop-db'].map(async (id) =>
        withPg(
          await endpointOf(id),
          MASTER,
          async (client) =>
            (
              await client.query(
                "SELECT count(*)::int AS rows, md5(string_agg(note, ',' ORDER BY id)) AS hash FROM orders",
              )
            ).rows[0],
        ),
      ),
    );

    expect(snapshot!.Status).toBe('available');
    expect(await tagsOf(rds, snapshot!.DBSnapshotArn!)).toMatchObject({
      'caretaker:managed': 'true',
      'caretaker:stack': 'caretaker-routine-test',
      'caretaker:execution': first.executionArn,
      'caretaker:kind': 'snapshot',
      app: 'shop',
    });
    expect(restored).toEqual({ rows: ROWS, hash: original.hash });
  }, 120_000);

  it('copied the snapshot into the DR region under the DR key, with the same tags', async () => {
    const { snapshotId } = (await reportOf(first)).snapshots[0];
    const [copy] = (await drRds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId })))
      .DBSnapshots!;

    expect(copy).toMatchObject({ Status: 'available', Encrypted: true, KmsKeyId: drKeyArn });
    expect(await tagsOf(drRds, copy!.DBSnapshotArn!)).toMatchObject({
      'caretaker:managed': 'true',
      'caretaker:execution': first.executionArn,
      'caretaker:copied-from': 'us-east-1',
    });
  });

  it('made a backup that verifies object by object', async () => {
    const { backupId } = (await reportOf(first)).backups[0];

    expect(await verifyBackup(backupId)).toMatchObject({
      ok: true,
      objectsChecked: Object.keys(OBJECTS).length,
    });
  }, 120_000);

  it('fails a run whose snapshot fails, after the backup still completed and was reported with it', async () => {
    const snapshots = (await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' })))
      .DBSnapshots!;
    // The region is at the snapshot quota: rds-snapshot refuses before RDS would.
    registerSnapshot(snapshots.length);
    await s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: 'data/new.txt', Body: 'added later' }));
    const before = alertCount();

    const failed = await run(sfn, routineArn, {});
    const report = await reportOf(failed);
    const children = await childrenOf(failed.executionArn!);

    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('MaintenanceFailed');
    expect(children.map((child) => child.status)).toEqual(['SUCCEEDED']);
    expect(report.backups).toEqual([
      expect.objectContaining({
        status: 'succeeded',
        mode: 'incremental',
        copiedObjects: 1,
        verification: expect.objectContaining({ ok: true }),
      }),
    ]);
    expect(report.snapshots).toEqual([
      expect.objectContaining({
        target: 'shop',
        status: 'failed',
        error: expect.objectContaining({ name: 'QuotaExceededError' }),
      }),
    ]);
    expect(await verifyBackup(report.backups[0].backupId)).toMatchObject({ ok: true });
    expect(alertsSince(before)).toEqual([
      expect.stringMatching(
        /^\[CRITICAL\] Caretaker routinetest RoutineMaintenance: Snapshot of shop failed: QuotaExceededError/,
      ),
    ]);
  }, 180_000);

  it('resolves the incident with the next run that succeeds, in one message', async () => {
    registerSnapshot(100);
    const before = alertCount();

    const fixed = await run(sfn, routineArn, { backupSets: [] });

    expect(fixed.status).toBe('SUCCEEDED');
    expect(alertsSince(before)).toEqual([
      '[CRITICAL] Caretaker routinetest RoutineMaintenance: Resolved: Routine maintenance succeeded again',
    ]);
  }, 180_000);
});
