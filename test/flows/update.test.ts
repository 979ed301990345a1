/**
 * statemachines/update.asl.json on the sandbox with the REAL handlers (flow-input, health-check,
 * update, rds-snapshot, rds-restore, report) against real PostgreSQL servers and the sandbox's
 * Lambda versions and weighted aliases. Health is judged by an HTTP check of a loopback "app" that
 * the test controls (it answers 500 once the database or alias is in the state the scenario calls
 * broken) and an RDS status check; data is checked with row counts and content hashes.
 *
 * - an instance class change that holds;
 * - an instance class change whose app breaks: reverted in place, rows intact;
 * - an engine upgrade whose app breaks (and writes meanwhile): restored from the rollback snapshot
 *   and switched over, the original name serving the pre-update rows, the failed update parked,
 *   tagged and holding the write the restore could not keep;
 * - a Lambda canary that holds, and one rolled back when health fails at its second step;
 * - pending security maintenance applied after a rollback point (the other actions left pending),
 *   and a patch that breaks the app rolled back by restore and switch-over.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  CreateAliasCommand,
  GetAliasCommand,
  LambdaClient,
  PublishVersionCommand,
} from '@aws-sdk/client-lambda';
import {
  CreateDBInstanceCommand,
  type DBInstance,
  DescribeDBInstancesCommand,
  DescribePendingMaintenanceActionsCommand,
  ListTagsForResourceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthChecks as healthChecksSection } from '../../functions/common/config/config-sections.ts';
import { flowContextEnvironment } from '../../functions/common/flows/context.ts';
import { reportKey } from '../../functions/report/report-key.ts';
import type { RunRecord } from '../../functions/report/run-record.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { type LambdaService, lambdaService } from '../../sandbox/services/lambda/index.ts';
import { type RdsService, rdsService } from '../../sandbox/services/rds/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { type SnsService, snsService } from '../../sandbox/services/sns/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { historyOf, ROLE_ARN, run } from '../fixtures/statemachines/harness.ts';
import { waitForInstance, withPg } from '../sandbox/rds-support.ts';
import { flowContext } from '../support/flow-context.ts';
import { withSandbox } from '../support/sandbox.ts';

const ASL = fileURLToPath(new URL('../../statemachines/update.asl.json', import.meta.url));
const module = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const quiet = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };

const sandbox = withSandbox([s3Service, kmsService, snsService, rdsService, lambdaService, statesService], {
  settings: {
    rds: { statusDelayMs: 150 },
    states: { timeScale: 0.002 },
    lambda: { registerCaretakerFunctions: false, environment: quiet },
  },
});

const MASTER = { user: 'app_admin', password: 'app-secret-1', database: 'app' };
const BUCKET = 'update-flow-reports';
const STACK = 'caretaker-update-test';
const DATABASES = ['orders-db', 'payments-db', 'ledger-db', 'patches-db', 'hotfix-db'] as const;
const TARGETS = [
  { name: 'orders', type: 'instance', identifier: 'orders-db', retention: 'daily', rpo: 'PT26H' },
  { name: 'payments', type: 'instance', identifier: 'payments-db', retention: 'daily', rpo: 'PT26H' },
  { name: 'ledger', type: 'instance', identifier: 'ledger-db', retention: 'daily', rpo: 'PT26H' },
  { name: 'patches', type: 'instance', identifier: 'patches-db', retention: 'daily', rpo: 'PT26H' },
  { name: 'hotfix', type: 'instance', identifier: 'hotfix-db', retention: 'daily', rpo: 'PT26H' },
] as const;

let rds: RDSClient;
let lambda: LambdaClient;
let s3: S3Client;
let sfn: SFNClient;
let topicArn: string;
let machineArn: string;
let app: Server;
let checkoutArn: string;
let billingArn: string;

/** When the app behind the HTTP check is broken, per database or function (the scenario sets it). */
const broken = new Map<string, (resource: Record<string, any>) => Promise<boolean> | boolean>();

async function instance(id: string): Promise<DBInstance> {
  const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  return out.DBInstances![0]!;
}

/** The loopback app: /db/<id> serves a count from the database, /fn/<name> reads the alias. */
async function answer(path: string): Promise<{ status: number; body: string }> {
  const [, kind, name] = path.split('/');
  if (kind === 'fn') {
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }));
    const isBroken = await broken.get(name!)?.(alias);
    return isBroken ? { status: 500, body: 'broken' } : { status: 200, body: 'ok' };
  }
  const db = await instance(name!);
  if (await broken.get(name!)?.(db)) return { status: 500, body: 'broken' };
  const rows = await withPg(db.Endpoint ?? {}, MASTER, (client) =>
    client.query('SELECT count(*)::int AS n FROM orders'),
  );
  return { status: 200, body: JSON.stringify(rows.rows[0]) };
}

async function startApp(): Promise<number> {
  app = createServer((request, response) => {
    answer(request.url ?? '/')
      .then(({ status, body }) => {
        response.writeHead(status);
        response.end(body);
      })
      .catch((error: Error) => {
        response.writeHead(503);
        response.end(error.message);
      });
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  return (app.address() as AddressInfo).port;
}

/** A row count and a hash of every row's content. */
async function contents(id: string): Promise<{ rows: number; hash: string }> {
  const db = await instance(id);
  return withPg(db.Endpoint ?? {}, MASTER, async (client) => {
    const result = await client.query(
      "SELECT count(*)::int AS rows, md5(string_agg(id || ':' || item || ':' || amount, ',' ORDER BY id)) AS hash FROM orders",
    );
    return result.rows[0] as { rows: number; hash: string };
  });
}

async function tagsOf(id: string): Promise<Record<string, string>> {
  const db = await instance(id);
  const out = await rds.send(new ListTagsForResourceCommand({ ResourceName: db.DBInstanceArn }));
  return Object.fromEntries((out.TagList ?? []).map((tag) => [tag.Key!, tag.Value!]));
}

async function createDatabase(id: string): Promise<void> {
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: id,
      DBInstanceClass: 'db.r6g.large',
      Engine: 'postgres',
      MasterUsername: MASTER.user,
      MasterUserPassword: MASTER.password,
      DBName: MASTER.database,
      DBParameterGroupName: `${id}-params-v1`,
      BackupRetentionPeriod: 0,
    }),
  );
  await waitForInstance(rds, id);
  const db = await instance(id);
  await withPg(db.Endpoint ?? {}, MASTER, async (client) => {
    await client.query(
      'CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, amount int NOT NULL)',
    );
    await client.query(
      "INSERT INTO orders (item, amount) SELECT 'item-' || g, (g * 37) % 1000 FROM generate_series(1, 500) AS g",
    );
  });
}

/** A Lambda function with versions 1 and 2 and an alias `live` on 1. */
async function createFunction(name: string): Promise<string> {
  const service = sandbox.sandbox.context.service<LambdaService>('lambda')!;
  const echo = module('../fixtures/statemachines/handlers/echo.ts');
  service.register({ name, modulePath: echo, environment: { FIXTURE_NAME: 'v1' } });
  await lambda.send(new PublishVersionCommand({ FunctionName: name }));
  service.register({ name, modulePath: echo, environment: { FIXTURE_NAME: 'v2' } });
  await lambda.send(new PublishVersionCommand({ FunctionName: name }));
  const alias = await lambda.send(
    new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }),
  );
  return alias.AliasArn!.replace(/:live$/, '');
}

function registerHandlers(port: number): void {
  const service = sandbox.sandbox.context.service<LambdaService>('lambda')!;
  const http = (name: string, path: string) => ({
    name,
    url: `http://127.0.0.1:${port}${path}`,
    samples: 3,
    // Loopback answers in milliseconds, but this machine is shared: latency is not what is tested.
    latencyThresholdMs: 10_000,
    timeoutMs: 10_000,
  });
  const checks = healthChecksSection.parse({
    http: [
      ...DATABASES.map((id) => http(`${id}-app`, `/db/${id}`)),
      http('checkout-app', '/fn/checkout'),
      http('billing-app', '/fn/billing'),
    ],
    rds: DATABASES.map((id) => ({ name: id, identifier: id })),
    backupFreshness: false,
  });
  const rdsTargets = JSON.stringify(TARGETS);
  const common = { RDS_TARGETS: rdsTargets, CARETAKER_STACK: STACK };
  service.register({
    name: 'caretaker-flow-input',
    modulePath: module('../../functions/flow-input/handler.ts'),
    environment: flowContextEnvironment(
      flowContext({
        rdsTargets: TARGETS,
        lambdaFunctions: [checkoutArn, billingArn],
        healthChecks: checks,
      }),
    ),
  });
  service.register({
    name: 'caretaker-health-check',
    modulePath: module('../../functions/health-check/handler.ts'),
    environment: {
      HEALTH_CHECKS: JSON.stringify({ ...checks, backupSets: [], rdsTargets: TARGETS }),
      DATABASE_TLS: 'disable',
    },
    timeoutMs: 90_000,
  });
  for (const [name, folder] of [
    ['caretaker-update', 'update'],
    ['caretaker-rds-snapshot', 'rds-snapshot'],
    ['caretaker-rds-restore', 'rds-restore'],
    ['caretaker-rds-switch-over', 'rds-switch-over'],
  ] as const) {
    service.register({
      name,
      modulePath: module(`../../functions/${folder}/handler.ts`),
      environment: common,
      timeoutMs: 60_000,
    });
  }
  service.register({
    name: 'caretaker-report',
    modulePath: module('../../functions/report/handler.ts'),
    environment: { BACKUP_BUCKET: BUCKET, ALERT_TOPIC_ARN: topicArn, CARETAKER_ENVIRONMENT: 'flowtest' },
    timeoutMs: 60_000,
  });
}

const SUBSTITUTIONS: Record<string, string> = {
  FlowInputFunctionArn: 'caretaker-flow-input',
  HealthCheckFunctionArn: 'caretaker-health-check',
  UpdateFunctionArn: 'caretaker-update',
  SnapshotFunctionArn: 'caretaker-rds-snapshot',
  RestoreFunctionArn: 'caretaker-rds-restore',
  SwitchOverFunctionArn: 'caretaker-rds-switch-over',
  ReportFunctionArn: 'caretaker-report',
};

beforeAll(async () => {
  rds = new RDSClient({});
  lambda = new LambdaClient({});
  s3 = new S3Client({});
  sfn = new SFNClient({});
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  topicArn = (await new SNSClient({}).send(new CreateTopicCommand({ Name: 'update-alerts' }))).TopicArn!;
  [checkoutArn, billingArn] = await Promise.all([createFunction('checkout'), createFunction('billing')]);
  await Promise.all(DATABASES.map(createDatabase));
  registerHandlers(await startApp());
  const definition = readFileSync(ASL, 'utf8').replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    const value = SUBSTITUTIONS[name];
    if (value === undefined) throw new Error(`No substitution for ${whole}`);
    return value;
  });
  machineArn = (
    await sfn.send(new CreateStateMachineCommand({ name: 'caretaker-update', definition, roleArn: ROLE_ARN }))
  ).stateMachineArn!;
}, 180_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
});

/** Runs the flow and returns the execution, its states, the report it wrote (JSON) and its alerts. */
async function update(input: unknown): Promise<{
  execution: DescribeExecutionCommandOutput;
  states: string[];
  report: Record<string, any>;
  alerts: { subject: string; message: string }[];
}> {
  const sns = sandbox.sandbox.context.service<SnsService>('sns')!;
  const before = sns.messages(topicArn).length;
  const execution = await run(sfn, machineArn, input);
  const history = await historyOf(sfn, execution.executionArn!);
  const states = history.flatMap((e) =>
    e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails.name] : [],
  );
  const key = reportKey({
    flow: 'Update',
    executionArn: execution.executionArn!,
    startedAt: execution.startDate!.toISOString(),
  } as RunRecord);
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${key}.json` }));
  const report = JSON.parse(await object.Body!.transformToString()) as Record<string, any>;
  const alerts = sns
    .messages(topicArn)
    .slice(before)
    .map((m) => ({ subject: m.subject ?? '', message: m.message }));
  return { execution, states, report, alerts };
}

/** The pending maintenance actions of an instance, by name. */
async function pendingActions(id: string): Promise<string[]> {
  const out = await rds.send(
    new DescribePendingMaintenanceActionsCommand({ Filters: [{ Name: 'db-instance-id', Values: [id] }] }),
  );
  return (out.PendingMaintenanceActions ?? [])
    .flatMap((resource) => resource.PendingMaintenanceActionDetails ?? [])
    .map((action) => action.Action!)
    .sort();
}

function seedMaintenance(id: string, Action: string, Description: string): void {
  sandbox.sandbox.context.service<RdsService>('rds')!.seedPendingMaintenanceAction('us-east-1', id, {
    Action,
    Description,
    OptInStatus: 'pending',
  });
}

/** The next minor version of `current` ("18.1" → "18.2"). */
function nextMinor(current: string): string {
  const [major, minor = '0'] = current.split('.');
  return `${major}.${Number(minor) + 1}`;
}

describe('update flow with the real handlers', () => {
  it('changes an instance class after a rollback point and keeps it when health holds', async () => {
    const before = await contents('orders-db');

    const { execution, states, report, alerts } = await update({
      rds: { target: 'orders', change: { instanceClass: 'db.r6g.xlarge' } },
      stabilizationMinutes: 1,
      healthChecks: ['orders-db-app', 'orders-db'],
    });

    expect(execution.status).toBe('SUCCEEDED');
    expect(states).toContain('RollbackPointTaken');
    expect(states).not.toContain('StartRollback');
    expect(await instance('orders-db')).toMatchObject({
      DBInstanceClass: 'db.r6g.xlarge',
      DBInstanceStatus: 'available',
    });
    expect(await contents('orders-db')).toEqual(before);
    expect(report.update).toMatchObject({
      outcome: 'succeeded',
      applied: true,
      rollbackPoint: {
        snapshotIdentifier: expect.stringMatching(/^caretaker-orders-[0-9a-f]{12}-rollback-point$/),
        settings: { members: [{ identifier: 'orders-db', instanceClass: 'db.r6g.large' }] },
      },
      health: { before: { status: 'healthy' }, after: { status: 'healthy' } },
    });
    expect(alerts.map((a) => a.subject)).toEqual([
      expect.stringMatching(/^\[INFO\] Caretaker flowtest Update: Update report: everything succeeded/),
    ]);
  }, 180_000);

  it('reverts a class change in place when the app breaks on it: original settings back, every row intact', async () => {
    const before = await contents('payments-db');
    const original = await instance('payments-db');
    broken.set('payments-db', (db) => db.DBInstanceClass === 'db.r6g.2xlarge');

    const { execution, states, report, alerts } = await update({
      rds: {
        target: 'payments',
        change: { instanceClass: 'db.r6g.2xlarge', parameterGroup: 'payments-db-params-v2' },
      },
      stabilizationMinutes: 1,
      healthChecks: ['payments-db-app', 'payments-db'],
    });

    const after = await instance('payments-db');
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('UnhealthyError');
    expect(execution.cause).toMatch(
      /^PostUpdateHealth failed \(UnhealthyError: Health after the update is unhealthy.*rolled back \(in-place\): undid/,
    );
    expect(states).toContain('RevertInPlace');
    expect(after).toMatchObject({
      DBInstanceClass: original.DBInstanceClass,
      DBParameterGroups: [{ DBParameterGroupName: 'payments-db-params-v1', ParameterApplyStatus: 'in-sync' }],
      DBInstanceStatus: 'available',
      EngineVersion: original.EngineVersion,
    });
    expect(await contents('payments-db')).toEqual(before);
    expect(report.update).toMatchObject({
      outcome: 'rolled-back',
      health: {
        before: { status: 'healthy' },
        after: { status: 'unhealthy' },
        afterRollback: { status: 'healthy' },
      },
      rollback: {
        method: 'in-place',
        status: 'done',
        changed: [
          'parameter group of payments-db: payments-db-params-v1 → payments-db-params-v2',
          'instance class of payments-db: db.r6g.large → db.r6g.2xlarge',
        ],
      },
    });
    expect(alerts.map((a) => a.subject)).toEqual([
      expect.stringMatching(/^\[CRITICAL\] Caretaker flowtest Update: Update failed \(/),
    ]);
    expect(alerts[0]!.message).toContain('was rolled back in place (undid: parameter group of payments-db');
  }, 180_000);

  it('rolls an engine upgrade back by restore and switch-over: the original name serves the pre-update rows, the failed update is parked and tagged', async () => {
    const before = await contents('ledger-db');
    const original = await instance('ledger-db');
    const upgraded = nextMinor(original.EngineVersion!);
    let written = false;
    // The app keeps writing on the upgraded database, then breaks: that write is in no snapshot.
    broken.set('ledger-db', async (db) => {
      if (db.EngineVersion !== upgraded) return false;
      if (!written) {
        written = true;
        await withPg(db.Endpoint ?? {}, MASTER, (client) =>
          client.query("INSERT INTO orders (item, amount) VALUES ('written-after-the-rollback-point', 1)"),
        );
      }
      return true;
    });

    const { execution, states, report, alerts } = await update({
      rds: { target: 'ledger', change: { engineVersion: upgraded } },
      stabilizationMinutes: 1,
      healthChecks: ['ledger-db-app', 'ledger-db'],
    });

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('UnhealthyError');
    expect(states).toEqual(
      expect.arrayContaining(['RestoreRollbackPoint', 'SwitchOver', 'DescribeRestored']),
    );
    const rollback = report.update.rollback;
    expect(execution.cause).toContain(`the failed update is parked as ${rollback.parkedIdentifier}`);
    expect(execution.cause).toContain(
      `writes between ${rollback.writeLossWindow.from} and ${rollback.writeLossWindow.to}`,
    );
    // The original name now serves the rollback point: its engine version and every pre-update row.
    expect(await instance('ledger-db')).toMatchObject({
      EngineVersion: original.EngineVersion,
      DBInstanceStatus: 'available',
    });
    expect(await contents('ledger-db')).toEqual(before);
    // The failed update is parked, tagged as such, never deleted, and holds the write the restore could not keep.
    const parked = await instance(rollback.parkedIdentifier);
    expect(parked).toMatchObject({ EngineVersion: upgraded, DBInstanceStatus: 'available' });
    expect(await tagsOf(rollback.parkedIdentifier)).toMatchObject({
      'caretaker:kind': 'failed-update',
      'caretaker:parked-by': execution.executionArn,
      'caretaker:target': 'ledger',
    });
    expect(await tagsOf(rollback.parkedIdentifier)).not.toHaveProperty('caretaker:managed');
    expect((await contents(rollback.parkedIdentifier)).rows).toBe(before.rows + 1);
    expect(report.update).toMatchObject({
      outcome: 'rolled-back',
      health: { after: { status: 'unhealthy' }, afterRollback: { status: 'healthy' } },
      rollback: {
        method: 'restore',
        status: 'done',
        changed: [`engine version of ledger-db: ${original.EngineVersion} → ${upgraded}`],
        snapshotIdentifier: report.update.rollbackPoint.snapshotIdentifier,
        parkedIdentifier: expect.stringMatching(/^ledger-db-old-\d{14}$/),
      },
    });
    expect(Date.parse(rollback.writeLossWindow.from)).toBeLessThan(Date.parse(rollback.writeLossWindow.to));
    expect(report.findings.failures.map((f: { what: string }) => f.what)[1]).toBe(
      `Writes to ledger-db between ${rollback.writeLossWindow.from} and ${rollback.writeLossWindow.to} are not in the restored database`,
    );
    expect(alerts.map((a) => a.subject)).toEqual([
      expect.stringMatching(/^\[CRITICAL\] Caretaker flowtest Update: 2 failures: Update failed \(/),
    ]);
    // The one alert says what failed, what was rolled back, which writes were not kept, and links the run.
    expect(alerts[0]!.message).toContain('FAILURE: Update failed (RDS instance ledger-db (target ledger)');
    expect(alerts[0]!.message).toContain(
      `rolled back by restoring the rollback snapshot ${rollback.snapshotIdentifier}`,
    );
    expect(alerts[0]!.message).toContain(
      `FAILURE: Writes to ledger-db between ${rollback.writeLossWindow.from}`,
    );
    expect(alerts[0]!.message).toContain(`Open in console: https://`);
    expect(alerts[0]!.message).toContain(encodeURIComponent(execution.executionArn!));
  }, 300_000);

  it('applies the pending security patches after a rollback point and leaves the other actions pending', async () => {
    const before = await contents('patches-db');
    seedMaintenance('patches-db', 'os-upgrade', 'Security patch: operating system update');
    seedMaintenance('patches-db', 'db-upgrade', 'Minor engine version upgrade');

    const { execution, states, report, alerts } = await update({
      rds: { target: 'patches', change: { pendingMaintenance: 'security' } },
      stabilizationMinutes: 1,
      healthChecks: ['patches-db-app', 'patches-db'],
    });

    expect(execution.status, execution.cause).toBe('SUCCEEDED');
    expect(states.indexOf('RollbackPointTaken')).toBeLessThan(states.indexOf('ApplyRdsChange'));
    expect(states).not.toContain('StartRollback');
    expect(await pendingActions('patches-db')).toEqual(['db-upgrade']);
    expect(await instance('patches-db')).toMatchObject({ DBInstanceStatus: 'available' });
    expect(await contents('patches-db')).toEqual(before);
    expect(report.update).toMatchObject({
      outcome: 'succeeded',
      applied: true,
      lastChange: expect.objectContaining({ sent: ['os-upgrade:patches-db'] }),
      rollbackPoint: {
        snapshotIdentifier: expect.stringMatching(/^caretaker-patches-[0-9a-f]{12}-rollback-point$/),
      },
    });
    // The db-upgrade still pending keeps the RDS check degraded, as it was before: a warning, no
    // failure (the alert resolves the incident an earlier test's failed update left open).
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toMatch(/Update.*1 warning/);
    expect(report.findings.failures).toEqual([]);
  }, 180_000);

  it('rolls a patch that breaks the app back by restore and switch-over, naming the maintenance it took back', async () => {
    const before = await contents('hotfix-db');
    const original = await instance('hotfix-db');
    seedMaintenance('hotfix-db', 'system-update', 'New Operating System update is available');
    // The patched original breaks the app; the copy restored from the rollback point does not.
    broken.set(
      'hotfix-db',
      async (db) =>
        String(db.InstanceCreateTime) === String(original.InstanceCreateTime) &&
        !(await pendingActions('hotfix-db')).includes('system-update'),
    );

    const { execution, states, report, alerts } = await update({
      rds: { target: 'hotfix', change: { pendingMaintenance: 'all' } },
      stabilizationMinutes: 1,
      healthChecks: ['hotfix-db-app', 'hotfix-db'],
    });

    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('UnhealthyError');
    expect(states).toEqual(expect.arrayContaining(['ApplyRdsChange', 'RestoreRollbackPoint', 'SwitchOver']));
    const rollback = report.update.rollback;
    expect(rollback).toMatchObject({
      method: 'restore',
      status: 'done',
      changed: ['maintenance system-update applied to hotfix-db'],
      parkedIdentifier: expect.stringMatching(/^hotfix-db-old-\d{14}$/),
    });
    expect(await instance('hotfix-db')).toMatchObject({ DBInstanceStatus: 'available' });
    expect(await contents('hotfix-db')).toEqual(before);
    expect(report.update.health).toMatchObject({
      after: { status: 'unhealthy' },
      afterRollback: { status: 'healthy' },
    });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain('all pending maintenance applied');
    expect(alerts[0]!.message).toContain(
      `rolled back by restoring the rollback snapshot ${rollback.snapshotIdentifier}`,
    );
  }, 300_000);

  it('shifts a Lambda alias through every canary step to the new version when health holds', async () => {
    const { execution, states, report } = await update({
      lambda: {
        functionName: 'checkout',
        alias: 'live',
        targetVersion: '2',
        steps: [10, 50, 100],
        bakeMinutes: 1,
      },
      healthChecks: ['checkout-app'],
    });

    const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'checkout', Name: 'live' }));
    expect(execution.status).toBe('SUCCEEDED');
    expect(states.filter((s) => s === 'CanaryHealth')).toHaveLength(3);
    expect(alias.FunctionVersion).toBe('2');
    expect(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    expect(report.update).toMatchObject({
      kind: 'lambda',
      outcome: 'succeeded',
      rollbackPoint: { originalVersion: '1' },
      lastChange: { weight: 100, done: true },
    });
  }, 120_000);

  it('rolls a canary back to the original version when health fails at its second step', async () => {
    broken.set('billing', (alias) => (alias.RoutingConfig?.AdditionalVersionWeights?.['2'] ?? 0) >= 0.5);

    const { execution, states, report, alerts } = await update({
      lambda: {
        functionName: billingArn,
        alias: 'live',
        targetVersion: '2',
        steps: [10, 50, 100],
        bakeMinutes: 1,
      },
      healthChecks: ['billing-app'],
    });

    const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'billing', Name: 'live' }));
    expect(execution.status).toBe('FAILED');
    expect(execution.cause).toMatch(
      /^CanaryHealth failed \(UnhealthyError: Health with 50 % on version 2 is unhealthy/,
    );
    expect(states.filter((s) => s === 'ShiftAlias')).toHaveLength(2);
    expect(states).toContain('RollBackAlias');
    expect(alias.FunctionVersion).toBe('1');
    expect(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    expect(report.update).toMatchObject({
      outcome: 'rolled-back',
      lastChange: { weight: 50 },
      rollback: { method: 'alias', status: 'done' },
      health: { afterRollback: { status: 'healthy' } },
    });
    expect(alerts.map((a) => a.subject)).toEqual([
      expect.stringMatching(/^\[CRITICAL\] Caretaker flowtest Update: Update failed \(/),
    ]);
  }, 120_000);
});
