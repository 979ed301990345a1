/**
 * The maintenance beyond backups (DESIGN §11), end to end on the sandbox: the REAL
 * routine-maintenance ASL with the REAL handlers (flow-input, health-check with a log analysis
 * check, rds-snapshot, capacity, security-maintenance, db-maintenance, task-statistics, report), a
 * sandbox PostgreSQL instance as the RDS target, its storage history in the sandbox's CloudWatch,
 * application logs in its CloudWatch Logs, a pending OS update seeded on the instance, and a
 * maintenance window that closes in 45 minutes. A scheduled run starts what fits and skips the
 * backup (60 minutes expected); its report has a section for the window, logs, capacity, security
 * maintenance, database maintenance and task statistics, each with the run's real figures, and the
 * run sends one alert. A second run's statistics count the first run's tasks.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateDBInstanceCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupSet, rdsTarget } from '../../functions/common/config/config-sections.ts';
import { flowContextEnvironment } from '../../functions/common/flows/context.ts';
import { maintenanceWindowSchema } from '../../functions/common/time/maintenance-window.ts';
import { type CloudWatchService, cloudWatchService } from '../../sandbox/services/cloudwatch/index.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { type LambdaService, lambdaService } from '../../sandbox/services/lambda/index.ts';
import { type LogsService, logsService } from '../../sandbox/services/logs/index.ts';
import { type RdsService, rdsService } from '../../sandbox/services/rds/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { type SnsService, snsService } from '../../sandbox/services/sns/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { ROLE_ARN, run } from '../fixtures/statemachines/harness.ts';
import { waitForInstance, withPg } from '../sandbox/rds-support.ts';
import { flowContext } from '../support/flow-context.ts';
import { withSandbox } from '../support/sandbox.ts';
import { type SecretsEndpoint, startSecretsEndpoint } from '../support/secrets-endpoint.ts';

const module = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const quiet = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };

const sandbox = withSandbox(
  [
    s3Service,
    kmsService,
    snsService,
    rdsService,
    lambdaService,
    statesService,
    cloudWatchService,
    logsService,
  ],
  {
    settings: {
      lambda: { environment: quiet },
      rds: { statusDelayMs: 150 },
      states: { timeScale: 0.01 },
    },
  },
);

const BACKUP_BUCKET = 'beyond-backups';
const SOURCE_BUCKET = 'beyond-source';
const MASTER = { user: 'owner', password: 'owner-secret-1', database: 'shop' };
const SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:shop-owner';
const GIB = 1024 ** 3;
const DAY = 86_400_000;

const set = backupSet.parse({
  name: 'shop-files',
  sourceBucket: SOURCE_BUCKET,
  prefix: 'data/',
  retention: 'standard',
});
const target = rdsTarget.parse({
  name: 'shop',
  type: 'instance',
  identifier: 'shop-db',
  retention: 'standard',
});

let s3: S3Client;
let sfn: SFNClient;
let routineArn: string;
let secrets: SecretsEndpoint;

function definition(file: string, values: Record<string, string>): string {
  return readFileSync(`statemachines/${file}`, 'utf8').replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    if (!(name in values)) throw new Error(`${file}: no value for ${whole}`);
    return values[name]!;
  });
}

beforeAll(async () => {
  s3 = new S3Client({});
  sfn = new SFNClient({});
  const rds = new RDSClient({});
  secrets = await startSecretsEndpoint();
  secrets.secrets.set(SECRET, JSON.stringify({ username: MASTER.user, password: MASTER.password }));
  // The stack's key, its rotation left off: the security section says so.
  const keyArn = (await new KMSClient({}).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  await Promise.all(
    [BACKUP_BUCKET, SOURCE_BUCKET].map((Bucket) => s3.send(new CreateBucketCommand({ Bucket }))),
  );

  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'shop-db',
      DBInstanceClass: 'db.t4g.micro',
      Engine: 'postgres',
      AllocatedStorage: 20,
      MasterUsername: MASTER.user,
      MasterUserPassword: MASTER.password,
      DBName: MASTER.database,
      BackupRetentionPeriod: 0,
    }),
  );
  await waitForInstance(rds, 'shop-db');
  const endpoint = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'shop-db' })))
    .DBInstances![0]!.Endpoint!;
  await withPg(endpoint, MASTER, async (client) => {
    await client.query('CREATE TABLE orders (id int PRIMARY KEY, note text NOT NULL)');
    await client.query("INSERT INTO orders SELECT n, repeat('x', 100) FROM generate_series(1, 2000) AS n");
    // Half the rows rewritten: 1000 dead rows (33 % of 3000) until a VACUUM.
    await client.query("UPDATE orders SET note = 'y' WHERE id <= 1000");
  });
  // A pending OS update, as RDS announces one.
  sandbox.sandbox.context.service<RdsService>('rds')!.seedPendingMaintenanceAction('us-east-1', 'shop-db', {
    Action: 'system-update',
    Description: 'New Operating System update is available',
    AutoAppliedAfterDate: new Date('2026-12-01T00:00:00Z'),
  });
  // 14 days of free storage, falling 0.5 GiB a day from 12 GiB (of 20): full in about 11 days.
  const today = Math.floor(Date.now() / DAY) * DAY;
  sandbox.sandbox.context.service<CloudWatchService>('monitoring')!.putDatapoints(
    'us-east-1',
    {
      namespace: 'AWS/RDS',
      metricName: 'FreeStorageSpace',
      dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'shop-db' }],
    },
    Array.from({ length: 14 }, (_, i) => ({
      timestamp: today - (13 - i) * DAY + 3_600_000,
      value: (12 - i * 0.5) * GIB,
    })),
  );
  // A day of application logs: 200 events, 12 errors (6 %), two kinds.
  sandbox.sandbox.context.service<LogsService>('logs')!.putEvents('us-east-1', '/shop/api', 'web-1', [
    ...Array.from({ length: 188 }, (_, i) => ({
      timestamp: Date.now() - (i + 1) * 300_000,
      message: `INFO GET /orders/${i} 200`,
    })),
    ...Array.from({ length: 8 }, (_, i) => ({
      timestamp: Date.now() - (i + 1) * 600_000,
      message: 'ERROR payment provider timeout',
    })),
    ...Array.from({ length: 4 }, (_, i) => ({
      timestamp: Date.now() - (i + 1) * 900_000,
      message: 'ERROR stock service refused',
    })),
  ]);

  // The window opened an hour ago and closes in 45 minutes (UTC, whole minutes).
  const opened = new Date(Date.now() - 60 * 60_000);
  const window = {
    ...maintenanceWindowSchema.parse({ start: opened.toISOString().slice(11, 16), durationMinutes: 105 }),
    timeZone: 'UTC',
  };
  const topicArn = (await new SNSClient({}).send(new CreateTopicCommand({ Name: 'beyond-alerts' })))
    .TopicArn!;
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
    flowContextEnvironment(
      flowContext({
        backupSets: [set],
        rdsTargets: [target],
        maintenanceWindow: window,
        databaseMaintenance: ['shop'],
      }),
    ),
  );
  register('caretaker-health-check', 'health-check', {
    HEALTH_CHECKS: JSON.stringify({
      rds: [{ name: 'shop-db', type: 'instance', identifier: 'shop-db' }],
      logs: [{ name: 'shop-logs', logGroups: ['/shop/api'], minEvents: 20 }],
      backupFreshness: false,
    }),
  });
  register('caretaker-rds-snapshot', 'rds-snapshot', {
    RDS_TARGETS: JSON.stringify([target]),
    CARETAKER_STACK: 'caretaker-beyond-test',
    SNAPSHOT_QUOTA: '100',
    SNAPSHOT_WARN_PERCENT: '80',
    MAX_CONCURRENT_COPIES: '5',
  });
  register('caretaker-capacity', 'capacity', { RDS_TARGETS: JSON.stringify([target]) });
  register('caretaker-security-maintenance', 'security-maintenance', {
    RDS_TARGETS: JSON.stringify([target]),
    STACK_KEY_ARN: keyArn,
  });
  register('caretaker-db-maintenance', 'db-maintenance', {
    DATABASE_MAINTENANCE: JSON.stringify([
      {
        rdsTarget: 'shop',
        type: 'instance',
        identifier: 'shop-db',
        database: MASTER.database,
        user: MASTER.user,
        passwordSecretArn: SECRET,
        analyze: true,
        vacuum: false,
        longQuerySeconds: 300,
        bloatWarnPercent: 20,
        largestTables: 5,
        statementTimeoutMinutes: 5,
      },
    ]),
    DATABASE_TLS: 'disable',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
  });
  register('caretaker-task-statistics', 'task-statistics', {
    STATE_MACHINE_ARN_PREFIX: 'arn:aws:states:us-east-1:000000000000:stateMachine:',
    STATE_MACHINE_NAMES: JSON.stringify({ RoutineMaintenance: 'caretaker-beyond-routine' }),
  });
  register('caretaker-report', 'report', {
    BACKUP_BUCKET,
    ALERT_TOPIC_ARN: topicArn,
    CARETAKER_ENVIRONMENT: 'beyondtest',
  });

  const backupArn = (
    await sfn.send(
      new CreateStateMachineCommand({
        name: 'caretaker-beyond-backup',
        roleArn: ROLE_ARN,
        definition: definition('backup.asl.json', {
          FlowInputFunctionArn: 'caretaker-flow-input',
          ReportFunctionArn: 'caretaker-report',
          // Never started in this test: the window skips the backup.
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
        name: 'caretaker-beyond-routine',
        roleArn: ROLE_ARN,
        definition: definition('routine-maintenance.asl.json', {
          FlowInputFunctionArn: 'caretaker-flow-input',
          ReportFunctionArn: 'caretaker-report',
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
}, 180_000);

afterAll(async () => {
  await secrets?.close();
});

async function reportOf(execution: DescribeExecutionCommandOutput, extension: 'json' | 'md') {
  const name = execution.executionArn!.split(':').pop();
  const day = execution.startDate!.toISOString().slice(0, 10);
  const got = await s3.send(
    new GetObjectCommand({
      Bucket: BACKUP_BUCKET,
      Key: `reports/RoutineMaintenance/${day}/${name}.${extension}`,
    }),
  );
  return got.Body!.transformToString();
}

const messages = () => sandbox.sandbox.context.service<SnsService>('sns')!.messages();

describe.sequential('routine maintenance beyond backups, on the sandbox', () => {
  let first: DescribeExecutionCommandOutput;
  let report: any;
  let markdown: string;

  it('runs a scheduled night in the window: starts what fits, skips the backup, reports every section once', async () => {
    const before = messages().length;

    first = await run(sfn, routineArn, { scheduled: true });
    report = JSON.parse(await reportOf(first, 'json'));
    markdown = await reportOf(first, 'md');

    expect(first.status).toBe('SUCCEEDED');
    expect(
      messages()
        .slice(before)
        .map((m) => m.subject),
    ).toEqual([
      expect.stringMatching(
        /^\[WARNING\] Caretaker beyondtest RoutineMaintenance: Routine maintenance report: \d+ warnings$/,
      ),
    ]);
    expect(report.backups).toEqual([
      expect.objectContaining({
        set: 'shop-files',
        status: 'skipped',
        skipped: expect.objectContaining({
          reason: expect.stringContaining('a backup is expected to take 60 min'),
        }),
      }),
    ]);
    expect(report.snapshots[0]).toMatchObject({ target: 'shop', status: 'succeeded' });
  }, 300_000);

  it('has a maintenance window section: what started, what was skipped and why', () => {
    expect(report.window).toMatchObject({ enforced: true, timeZone: 'UTC' });
    expect(markdown).toContain('## Maintenance window');
    expect(markdown).toMatch(
      /\| backup \| shop-files \| 60 min \| \d\d:\d\dZ \| skipped at \d\d:\d\dZ \| a backup is expected to take 60 min/,
    );
    expect(markdown).toMatch(/\| snapshot \| shop \| 30 min \| \d\d:\d\dZ \| started \|/);
    expect(markdown).toMatch(/\| databaseMaintenance \| shop \| 30 min \| \d\d:\d\dZ \| started \|/);
    expect(markdown).toContain('2 tasks started, 1 skipped.');
  });

  it('has a log analysis section with the day’s error rate and most frequent errors', () => {
    const logs = report.health.checks.find((c: any) => c.kind === 'logs');

    expect(logs).toMatchObject({
      status: 'warn',
      evidence: { events: 200, errors: 12, errorRatePercent: 6 },
    });
    expect(markdown).toContain('## Log analysis');
    expect(markdown).toContain('| shop-logs | /shop/api | 1440 min | 200 | 12 | 6.00 % | 5 % | SPIKE |');
    expect(markdown).toContain('8 × `ERROR payment provider timeout`');
  });

  it('has a capacity section with days until full and the bottleneck', () => {
    const shop = report.capacity.targets[0];

    expect(shop).toMatchObject({ target: 'shop', status: 'warning', points: 14, capacityBytes: 20 * GIB });
    expect(shop.growthBytesPerDay / GIB).toBeCloseTo(0.5, 6);
    expect(shop.daysUntilFull).toBeCloseTo(11, 6);
    expect(markdown).toContain('## Capacity');
    expect(markdown).toContain('Bottleneck: **shop** fills first, in 11 days.');
  });

  it('has a security maintenance section: the pending OS update first, the key without rotation', () => {
    expect(report.security.pendingMaintenance[0].actions[0]).toMatchObject({
      action: 'system-update',
      security: true,
    });
    expect(markdown).toContain('## Security maintenance');
    expect(markdown).toContain(
      '| shop | system-update | yes | 2026-12-01T00:00:00.000Z | New Operating System update is available |',
    );
    expect(markdown).toMatch(
      /\| arn:aws:kms:us-east-1:000000000000:key\/[\w-]+ \| stack \| us-east-1 \| OFF \|/,
    );
    expect(markdown).toContain('### TLS certificates');
  });

  it('has a database maintenance section: analyzed, the bloated table, the largest tables', () => {
    expect(report.databaseMaintenance[0]).toMatchObject({
      target: 'shop',
      status: 'succeeded',
      analyzed: true,
      bloatedTables: [expect.objectContaining({ table: 'public.orders', deadRows: 1000 })],
    });
    expect(markdown).toContain('## Database maintenance');
    expect(markdown).toMatch(/\| shop \| shop \| succeeded \| done \| no \| .+ \| 1 \| 0 \| 0 \|/);
    expect(markdown).toContain('Bloated (dead rows over 20 %): public.orders 33.3 %');
  });

  it('has a task statistics section, and the next run counts this run’s tasks', async () => {
    expect(markdown).toContain('## Task statistics');
    expect(markdown).toContain('Executions read: RoutineMaintenance');

    // Scheduled like the first, so the window skips the backup again (no backup function here).
    const second = await run(sfn, routineArn, { scheduled: true });
    const next = JSON.parse(await reportOf(second, 'json'));
    const tasks = next.statistics.flows[0].tasks;

    expect([second.status, second.error, second.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    // The first run, finished; the second is still running while it counts.
    expect(next.statistics.flows[0]).toMatchObject({ flow: 'RoutineMaintenance', executions: 1 });
    expect(tasks.find((t: any) => t.task === 'CreateSnapshot')).toMatchObject({
      runs: 1,
      successes: 1,
      failures: 0,
    });
    expect(tasks.find((t: any) => t.task === 'Report')).toMatchObject({ runs: 1, successes: 1 });
    expect(await reportOf(second, 'md')).toMatch(
      /\| RoutineMaintenance \| CreateSnapshot \| 1 \| 1 \| 0 \| 0 \|/,
    );
  }, 300_000);
});
