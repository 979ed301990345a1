/**
 * The sandbox's RDS over its whole life: no PostgreSQL server survives stop() or a SIGKILL of the
 * process running the sandbox, and a sandbox restarted on the same data directory finds its
 * instances, their data and their snapshots again.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { afterAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandbox/core/server.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import {
  noPostgresLeft,
  postgresProcesses,
  waitForInstance,
  waitForSnapshot,
  withPg,
} from './rds-support.ts';

const MASTER = { user: 'keeper', password: 'keeper-secret-1', database: 'kept' };
const dirs: string[] = [];

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'caretaker-rds-lifecycle-'));
  dirs.push(dir);
  return dir;
}

function start(dir: string): Promise<Sandbox> {
  return startSandbox({
    port: 0,
    dataDir: dir,
    services: [rdsService],
    settings: { rds: { statusDelayMs: 100 } },
  });
}

/** An RDS client for one sandbox, without touching process.env (two sandboxes live in this file). */
function client(sandbox: Sandbox): RDSClient {
  const env = sandbox.env();
  return new RDSClient({
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
    },
  });
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('no server outlives the sandbox', () => {
  it('a sandbox process killed with SIGKILL leaves no PostgreSQL behind', async () => {
    const dir = dataDir();
    const modules = {
      server: fileURLToPath(new URL('../../sandbox/core/server.ts', import.meta.url)),
      rds: fileURLToPath(new URL('../../sandbox/services/rds/index.ts', import.meta.url)),
      support: fileURLToPath(new URL('./rds-support.ts', import.meta.url)),
    };
    const code = `
      import { CreateDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
      import { startSandbox } from ${JSON.stringify(modules.server)};
      import { rdsService } from ${JSON.stringify(modules.rds)};
      import { waitForInstance } from ${JSON.stringify(modules.support)};
      const sandbox = await startSandbox({ port: 0, dataDir: ${JSON.stringify(dir)}, services: [rdsService], settings: { rds: { statusDelayMs: 50 } } });
      Object.assign(process.env, sandbox.env());
      const rds = new RDSClient({});
      await rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: 'doomed', DBInstanceClass: 'db.t3.micro', Engine: 'postgres', MasterUsername: 'doomed', MasterUserPassword: 'doomed-secret-1', BackupRetentionPeriod: 0 }));
      await waitForInstance(rds, 'doomed');
      process.stdout.write('ready\\n');
      setInterval(() => {}, 60_000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      child.once('exit', (exitCode) => reject(new Error(`the sandbox process exited early (${exitCode})`)));
    });
    const running = postgresProcesses(dir);

    child.kill('SIGKILL');
    const left = await noPostgresLeft(dir);

    expect(running).toHaveLength(1);
    expect(left).toEqual([]);
  }, 120_000);
});

describe('restarting on the same data directory', () => {
  const dir = dataDir();
  let first: Sandbox | undefined;
  let second: Sandbox | undefined;

  afterAll(async () => {
    await first?.stop();
    await second?.stop();
  });

  it('stop() stops every server, and the next sandbox brings back instances, data and snapshots', async () => {
    first = await start(dir);
    const rds = client(first);
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'kept',
        DBInstanceClass: 'db.t3.micro',
        Engine: 'postgres',
        MasterUsername: MASTER.user,
        MasterUserPassword: MASTER.password,
        DBName: MASTER.database,
      }),
    );
    await waitForInstance(rds, 'kept');
    const before = (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'kept' })))
      .DBInstances?.[0];
    await withPg(before?.Endpoint ?? {}, MASTER, (pg) =>
      pg.query('CREATE TABLE notes AS SELECT 42 AS answer'),
    );
    await rds.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'kept', DBSnapshotIdentifier: 'kept-snap' }),
    );
    await waitForSnapshot(rds, 'kept-snap');
    await waitForInstance(rds, 'kept');
    await first.stop();
    first = undefined;
    const afterStop = await noPostgresLeft(dir, 5_000);

    second = await start(dir);
    const again = client(second);
    await waitForInstance(again, 'kept');
    const after = (await again.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'kept' })))
      .DBInstances?.[0];
    const answer = await withPg(
      after?.Endpoint ?? {},
      MASTER,
      async (pg) => (await pg.query('SELECT answer FROM notes')).rows,
    );
    const snapshots = await again.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: 'kept' }));

    expect(afterStop).toEqual([]);
    expect(after?.Endpoint).toEqual(before?.Endpoint);
    expect(after?.DbiResourceId).toBe(before?.DbiResourceId);
    expect(answer).toEqual([{ answer: 42 }]);
    expect(
      snapshots.DBSnapshots?.map((snapshot) => [snapshot.DBSnapshotIdentifier, snapshot.Status]),
    ).toEqual(expect.arrayContaining([['kept-snap', 'available']]));
  }, 120_000);
});
