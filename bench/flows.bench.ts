/**
 * bench:flows — what a RoutineMaintenance run costs in state transitions (Step Functions bills
 * Standard workflows per transition), and how often it polls a slow snapshot.
 *
 * 1. A real run on the sandbox: RoutineMaintenance over 1 PostgreSQL instance (with a cross-region
 *    copy) and 1 backup set, the REAL handlers, the REAL Backup flow as the nested child. Counts the
 *    states entered (StateEntered events) of the parent and, separately, of the nested Backup.
 *    The sandbox's RDS keeps each status at least 2 s (its default) and waits run at time scale 0.1,
 *    so the snapshot and its copy take about 20 simulated seconds each.
 * 2. The real ASL with a scripted rds-snapshot whose snapshot turns available 20 simulated minutes
 *    after it was created (simulated time = real time / time scale): the status polls it takes.
 *
 * 3. The whole sandbox drill (`caretaker sandbox drill`, defaults): wall time by phase and the state
 *    transitions of each flow run.
 *
 * Prints figures (targets: routineTransitions ≤ 40, pollsPer20Min ≤ 10, drillSeconds ≤ 60 with the
 * DR drill ≤ 30 of it), then ONE JSON line. It does not pass or fail.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateDBInstanceCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { backupSet, rdsTarget } from '../functions/common/config/config-sections.ts';
import { flowContextEnvironment } from '../functions/common/flows/context.ts';
import { pollSchedules } from '../functions/common/flows/polling.ts';
import { planWindow } from '../functions/common/time/maintenance-window.ts';
import { type Sandbox, type ServiceFactory, startSandbox } from '../sandbox/core/server.ts';
import { runDrill } from '../sandbox/drill/run.ts';
import { cloudWatchService } from '../sandbox/services/cloudwatch/index.ts';
import { kmsService } from '../sandbox/services/kms/index.ts';
import { type LambdaService, lambdaService } from '../sandbox/services/lambda/index.ts';
import { logsService } from '../sandbox/services/logs/index.ts';
import { rdsService } from '../sandbox/services/rds/index.ts';
import { s3Service } from '../sandbox/services/s3/index.ts';
import { snsService } from '../sandbox/services/sns/index.ts';
import { statesService } from '../sandbox/services/states/index.ts';
import { ScriptServer } from '../test/flows/support/script-server.ts';
import { flowContext } from '../test/support/flow-context.ts';

const ROLE_ARN = 'arn:aws:iam::000000000000:role/caretaker-bench';
const REAL_TIME_SCALE = 0.1;
const SCRIPTED_TIME_SCALE = 0.01;
const SLOW_SNAPSHOT_SECONDS = 20 * 60;
const quiet = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };
const work = mkdtempSync(join(tmpdir(), 'caretaker-bench-flows-'));
// PostgreSQL runs as another user when the bench runs as root: it must reach the data directory.
chmodSync(work, 0o755);

const handler = (folder: string) =>
  fileURLToPath(new URL(`../functions/${folder}/handler.ts`, import.meta.url));
const SCRIPTED = fileURLToPath(new URL('../test/flows/support/scripted-handler.ts', import.meta.url));

/** The maintenance branch's functions, registered under their folder names. */
const MAINTENANCE_FUNCTIONS = {
  CapacityFunctionArn: 'capacity',
  SecurityMaintenanceFunctionArn: 'security-maintenance',
  DatabaseMaintenanceFunctionArn: 'db-maintenance',
  TaskStatisticsFunctionArn: 'task-statistics',
};

function definition(file: string, values: Record<string, string>): string {
  return readFileSync(new URL(`../statemachines/${file}`, import.meta.url), 'utf8').replace(
    /\$\{(\w+)\}/g,
    (whole, name: string) => {
      if (!(name in values)) throw new Error(`${file}: no value for ${whole}`);
      return values[name]!;
    },
  );
}

async function withSandbox<T>(
  name: string,
  services: readonly ServiceFactory[],
  timeScale: number,
  work_: (sandbox: Sandbox) => Promise<T>,
): Promise<T> {
  const sandbox = await startSandbox({
    port: 0,
    dataDir: join(work, name),
    services,
    settings: { lambda: { environment: quiet }, states: { timeScale } },
  });
  const saved = { ...process.env };
  Object.assign(process.env, sandbox.env());
  try {
    return await work_(sandbox);
  } finally {
    await sandbox.stop();
    for (const key of Object.keys(sandbox.env())) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}

async function historyOf(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

const entered = (history: HistoryEvent[]) =>
  history.flatMap((event) =>
    event.stateEnteredEventDetails?.name ? [event.stateEnteredEventDetails.name] : [],
  );

async function runToEnd(sfn: SFNClient, stateMachineArn: string, input: unknown) {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
  );
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Part 1: a real run over one database and one backup set. */
async function realRun() {
  return withSandbox(
    'real',
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
    REAL_TIME_SCALE,
    async (sandbox) => {
      const s3 = new S3Client({});
      const rds = new RDSClient({});
      const sfn = new SFNClient({});
      const keyArn = (await new KMSClient({}).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
      const drKeyArn = (await new KMSClient({ region: 'eu-west-1' }).send(new CreateKeyCommand({})))
        .KeyMetadata!.Arn!;
      const set = backupSet.parse({
        name: 'bench-files',
        sourceBucket: 'bench-source',
        prefix: 'data/',
        retention: 'standard',
        verifySubset: 'all',
      });
      const target = rdsTarget.parse({
        name: 'bench',
        identifier: 'bench-db',
        retention: 'standard',
        crossRegionCopy: { region: 'eu-west-1', kmsKeyArn: drKeyArn },
      });
      for (const Bucket of ['bench-source', 'bench-backups'])
        await s3.send(new CreateBucketCommand({ Bucket }));
      for (let i = 0; i < 20; i++) {
        await s3.send(
          new PutObjectCommand({
            Bucket: 'bench-source',
            Key: `data/${i}.txt`,
            Body: `object ${i}`.repeat(100),
          }),
        );
      }
      await rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: 'bench-db',
          DBInstanceClass: 'db.t4g.micro',
          Engine: 'postgres',
          MasterUsername: 'bench',
          MasterUserPassword: 'bench-secret-1',
          DBName: 'bench',
          BackupRetentionPeriod: 0,
        }),
      );
      for (;;) {
        const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'bench-db' }));
        if (out.DBInstances?.[0]?.DBInstanceStatus === 'available') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

      const topicArn = (await new SNSClient({}).send(new CreateTopicCommand({ Name: 'bench-alerts' })))
        .TopicArn!;
      const backupEnv = { BACKUP_BUCKET: 'bench-backups', BACKUP_KEY_ARN: keyArn, CARETAKER_STACK: 'bench' };
      const lambda = sandbox.context.service<LambdaService>('lambda')!;
      const register = (name: string, environment: Record<string, string>) =>
        lambda.register({ name, modulePath: handler(name), environment, timeoutMs: 120_000, memoryMb: 1024 });
      register(
        'flow-input',
        flowContextEnvironment(flowContext({ backupSets: [set], rdsTargets: [target] })),
      );
      register('health-check', {
        HEALTH_CHECKS: JSON.stringify({
          rds: [{ name: 'bench-db', type: 'instance', identifier: 'bench-db' }],
        }),
      });
      register('s3-backup', backupEnv);
      register('backup-verify', backupEnv);
      register('rds-snapshot', { RDS_TARGETS: JSON.stringify([target]), CARETAKER_STACK: 'bench' });
      // The maintenance branch (issue 13): capacity forecast, security maintenance, task statistics;
      // no database is configured for database maintenance, as in a config that names none.
      register('capacity', { RDS_TARGETS: JSON.stringify([target]) });
      register('security-maintenance', { RDS_TARGETS: JSON.stringify([target]), STACK_KEY_ARN: keyArn });
      register('db-maintenance', { DATABASE_MAINTENANCE: '[]' });
      register('task-statistics', {
        STATE_MACHINE_ARN_PREFIX: 'arn:aws:states:us-east-1:000000000000:stateMachine:',
        STATE_MACHINE_NAMES: JSON.stringify({ RoutineMaintenance: 'bench-routine-maintenance' }),
      });
      register('report', {
        BACKUP_BUCKET: 'bench-backups',
        ALERT_TOPIC_ARN: topicArn,
        CARETAKER_ENVIRONMENT: 'bench',
      });

      const create = async (name: string, text: string) =>
        (await sfn.send(new CreateStateMachineCommand({ name, definition: text, roleArn: ROLE_ARN })))
          .stateMachineArn!;
      const backupArn = await create(
        'bench-backup',
        definition('backup.asl.json', {
          FlowInputFunctionArn: 'flow-input',
          BackupFunctionArn: 's3-backup',
          VerifyFunctionArn: 'backup-verify',
          ReportFunctionArn: 'report',
          BackupBucket: 'bench-backups',
          BackupMaxConcurrency: '10',
          BackupBatchesPerChild: '4',
          BackupInlineBatchLimit: '4',
        }),
      );
      const routineArn = await create(
        'bench-routine-maintenance',
        definition('routine-maintenance.asl.json', {
          FlowInputFunctionArn: 'flow-input',
          HealthCheckFunctionArn: 'health-check',
          SnapshotFunctionArn: 'rds-snapshot',
          ReportFunctionArn: 'report',
          BackupStateMachineArn: backupArn,
          ...MAINTENANCE_FUNCTIONS,
        }),
      );

      const started = performance.now();
      const execution = await runToEnd(sfn, routineArn, {});
      const seconds = (performance.now() - started) / 1000;
      const parent = entered(await historyOf(sfn, execution.executionArn!));
      const children =
        (await sfn.send(new ListExecutionsCommand({ stateMachineArn: backupArn }))).executions ?? [];
      const child = children.length ? entered(await historyOf(sfn, children[0]!.executionArn!)) : [];
      if (execution.status !== 'SUCCEEDED') {
        throw new Error(`The routine run ended ${execution.status}: ${execution.error} ${execution.cause}`);
      }
      return {
        status: execution.status,
        seconds,
        parent,
        child,
        snapshotPolls: parent.filter((name) => name === 'SnapshotStatus').length,
        copyPolls: parent.filter((name) => name === 'CopyStatus').length,
      };
    },
  );
}

/** Part 2: the real ASL, a scripted snapshot that is available after 20 simulated minutes. */
async function slowSnapshot() {
  const script = new ScriptServer();
  await script.start();
  try {
    return await withSandbox(
      'scripted',
      [lambdaService, statesService],
      SCRIPTED_TIME_SCALE,
      async (sandbox) => {
        const lambda = sandbox.context.service<LambdaService>('lambda')!;
        for (const name of [
          'flow-input',
          'health-check',
          'rds-snapshot',
          'report',
          ...Object.values(MAINTENANCE_FUNCTIONS),
        ]) {
          lambda.register({ name, modulePath: SCRIPTED, environment: { SCRIPT_URL: script.url } });
        }
        const { snapshot, snapshotCopy } = pollSchedules();
        let createdAt = 0;
        const simulatedSeconds = () => (performance.now() - createdAt) / 1000 / SCRIPTED_TIME_SCALE;
        script
          .on('flow-input', () => ({
            backupSets: [],
            rdsTargets: [{ name: 'slow', copyRegion: null }],
            poll: { snapshot, snapshotCopy },
            databaseTargets: [],
            window: planWindow(null, Date.now(), { enforce: false }),
          }))
          .on('health-check', () => ({ status: 'healthy', checks: [] }))
          .on('rds-snapshot', (event) => {
            const id = 'caretaker-slow-000000000000-snapshot';
            if (event.action === 'create') {
              createdAt = performance.now();
              return {
                snapshotIdentifier: id,
                type: 'instance',
                status: 'creating',
                quota: { used: 1, limit: 100, warnPercent: 80 },
                notes: [],
              };
            }
            const done = simulatedSeconds() >= SLOW_SNAPSHOT_SECONDS;
            return { snapshotIdentifier: id, status: done ? 'available' : 'creating', done };
          })
          // The maintenance branch, all well (its cost in transitions is counted like the rest).
          .on('capacity', () => ({ lookbackDays: 14, warnDays: 30, criticalDays: 7, targets: [] }))
          .on('security-maintenance', () => ({ pendingMaintenance: [], keys: [] }))
          .on('task-statistics', () => ({ days: 30, flows: [] }))
          .on('report', () => ({ severity: 'info', failures: 0 }));
        const sfn = new SFNClient({});
        const arn = (
          await sfn.send(
            new CreateStateMachineCommand({
              name: 'bench-slow-snapshot',
              roleArn: ROLE_ARN,
              definition: definition('routine-maintenance.asl.json', {
                FlowInputFunctionArn: 'flow-input',
                HealthCheckFunctionArn: 'health-check',
                SnapshotFunctionArn: 'rds-snapshot',
                ReportFunctionArn: 'report',
                BackupStateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:unused',
                ...MAINTENANCE_FUNCTIONS,
              }),
            }),
          )
        ).stateMachineArn!;
        const execution = await runToEnd(sfn, arn, {});
        const states = entered(await historyOf(sfn, execution.executionArn!));
        return {
          status: execution.status,
          polls: script.eventsOf('rds-snapshot').filter((event) => event.action === 'status').length,
          simulatedMinutes: simulatedSeconds() / 60,
          transitions: states.length,
        };
      },
    );
  } finally {
    await script.stop();
  }
}

async function main(): Promise<void> {
  try {
    const real = await realRun();
    console.log(
      `RoutineMaintenance, 1 database (with a DR copy) + 1 backup set, real handlers, time scale ${REAL_TIME_SCALE}:`,
    );
    console.log(
      `  parent: ${real.parent.length} state transitions (target ≤ 40), ${real.seconds.toFixed(1)} s`,
    );
    console.log(`    snapshot polled ${real.snapshotPolls}×, copy polled ${real.copyPolls}×`);
    console.log(`    ${real.parent.join(' → ')}`);
    console.log(`  nested Backup: ${real.child.length} state transitions`);
    console.log(`    ${real.child.join(' → ')}`);

    const slow = await slowSnapshot();
    console.log(
      `A snapshot available after ${SLOW_SNAPSHOT_SECONDS / 60} simulated minutes (time scale ${SCRIPTED_TIME_SCALE}):`,
    );
    console.log(
      `  ${slow.polls} status polls (target ≤ 10), ${slow.transitions} transitions in the parent, ${slow.status}`,
    );

    // 3. The whole drill (`caretaker sandbox drill`): synth, seed (100,000 rows, 1,000 objects),
    // deploy, every flow through the deployed state machines.
    const drill = await runDrill({ progress: () => {} });
    console.log(
      `caretaker sandbox drill: ${drill.ok ? 'passed' : 'FAILED'} in ${drill.seconds.toFixed(1)} s (target ≤ 60 s): ${Object.entries(
        drill.phases,
      )
        .map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s`)
        .join(', ')}`,
    );
    for (const scenario of drill.scenarios) {
      console.log(
        `  ${scenario.name}: ${scenario.outcome} in ${scenario.seconds.toFixed(1)} s, ${scenario.transitions} state transitions${
          scenario.drill
            ? `, RTO ${scenario.drill.rtoSeconds.toFixed(1)} s, RPO ${scenario.drill.rpoSeconds.toFixed(0)} s`
            : ''
        }`,
      );
    }
    const drDrill = drill.scenarios.find((scenario) => scenario.name === 'disaster recovery drill');

    console.log(
      JSON.stringify({
        drillSeconds: Number(drill.seconds.toFixed(1)),
        drillOk: drill.ok,
        drillFlowsSeconds: Number((drill.phases.flows ?? 0).toFixed(1)),
        drDrillSeconds: drDrill ? Number(drDrill.seconds.toFixed(1)) : null,
        drillTransitions: Object.fromEntries(drill.scenarios.map((s) => [s.name, s.transitions])),
        routineTransitions: real.parent.length,
        pollsPer20Min: slow.polls,
        backupChildTransitions: real.child.length,
        snapshotPolls: real.snapshotPolls,
        copyPolls: real.copyPolls,
        routineSeconds: Number(real.seconds.toFixed(1)),
        transitionsWith20MinSnapshot: slow.transitions,
        timeScale: REAL_TIME_SCALE,
      }),
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
