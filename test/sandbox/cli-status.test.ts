/**
 * `caretaker status` as an operator runs it, against a sandbox with Caretaker's stack deployed
 * from a config with one backup set and one RDS target (a real PostgreSQL instance): before any
 * flow ran it says so and names what is missing (exit 1); after a RoutineMaintenance run it shows
 * that run, its report and health, the new backup and snapshot within their RPO and the snapshot
 * quota they use (exit 0). Synthesizing takes tens of seconds, so it happens once for the file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CreateDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DeployResult,
  deployStack,
  type SynthesizedAssembly,
  synthesize,
} from '../../sandbox/deploy/index.ts';
import { DEFAULT_SERVICES } from '../../sandbox/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import { waitForInstance } from './rds-support.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const handle = withSandbox(DEFAULT_SERVICES, {
  settings: {
    iam: { enforcement: 'enforce' },
    scheduler: { evaluate: false },
    lambda: { registerCaretakerFunctions: false, environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } },
    states: { timeScale: 0.01 },
  },
});

const SOURCE_BUCKET = 'status-docs';
const CONFIG = {
  environment: { name: 'status' },
  healthChecks: {
    rds: [{ name: 'orders-db', type: 'instance', identifier: 'status-orders' }],
    backupFreshness: false,
  },
  backupSets: [
    {
      name: 'docs',
      sourceBucket: SOURCE_BUCKET,
      prefix: 'docs/',
      mode: 'full',
      retention: 'standard',
      rpo: 'PT26H',
    },
  ],
  rdsTargets: [
    { name: 'orders', type: 'instance', identifier: 'status-orders', retention: 'standard', rpo: 'PT26H' },
  ],
  retentionPolicies: { standard: { keepLast: 3 } },
  quotas: { manualSnapshots: 20, snapshotWarnPercent: 80, maxConcurrentCopies: 5 },
};

let dir: string;
let configFile: string;
let assembly: SynthesizedAssembly;
let deployed: DeployResult;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'caretaker-cli-status-'));
  configFile = join(dir, 'status.json');
  writeFileSync(configFile, JSON.stringify(CONFIG));
  const s3 = new S3Client({});
  await s3.send(new CreateBucketCommand({ Bucket: SOURCE_BUCKET }));
  for (const name of ['a.txt', 'b.txt', 'c.txt']) {
    await s3.send(
      new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: `docs/${name}`, Body: `contents of ${name}` }),
    );
  }
  const rds = new RDSClient({});
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: 'status-orders',
      DBInstanceClass: 'db.t4g.micro',
      Engine: 'postgres',
      MasterUsername: 'owner',
      MasterUserPassword: 'owner-secret-1',
      BackupRetentionPeriod: 0,
    }),
  );
  assembly = synthesize({ configPath: configFile });
  [deployed] = await Promise.all([
    deployStack(handle.sandbox, { assemblyDir: assembly.assemblyDir }),
    waitForInstance(rds, 'status-orders'),
  ]);
}, 300_000);

afterAll(() => {
  assembly?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function caretaker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/caretaker.js', ...args], {
      cwd: ROOT,
      env: process.env,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('caretaker status', () => {
  it('before any flow ran: every flow deployed and never run, no health yet, no verified backup or snapshot (exit 1)', async () => {
    const result = await caretaker(['status', '--config', configFile, '--json']);
    const status = JSON.parse(result.stdout);

    expect(result.code).toBe(1);
    expect(status.bucket).toBe(deployed.outputs.BackupBucketName);
    expect(status.flows.map((f: { flow: string; deployed: boolean }) => [f.flow, f.deployed])).toEqual([
      ['RoutineMaintenance', true],
      ['Backup', true],
      ['Cleanup', true],
      ['Update', true],
      ['DisasterRecovery', true],
    ]);
    expect(
      status.flows.every(
        (f: { lastExecution: unknown; report: unknown }) => f.lastExecution === null && f.report === null,
      ),
    ).toBe(true);
    expect(status.health).toBeNull();
    expect(status.backups).toEqual([
      expect.objectContaining({ name: 'docs', status: 'fail', newestVerified: null }),
    ]);
    expect(status.snapshots).toEqual([
      expect.objectContaining({ name: 'orders', status: 'fail', newestVerified: null }),
    ]);
    expect(status.quotas).toEqual([
      {
        region: 'us-east-1',
        type: 'instance',
        used: 0,
        limit: 20,
        headroom: 20,
        warnPercent: 80,
        warning: false,
      },
    ]);
    expect(status.attention).toEqual([
      expect.stringMatching(/^backup set docs: no verified backup among 0/),
      expect.stringMatching(/^RDS instance status-orders \(target orders\): no verified snapshot among 0/),
    ]);
  });

  it('after a RoutineMaintenance run: that run, its report and health, a backup and a snapshot within their RPO (exit 0)', async () => {
    const ran = await caretaker(['run', 'RoutineMaintenance', '--config', configFile, '--follow']);
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);

    const result = await caretaker(['status', '--config', configFile, '--json']);
    const status = JSON.parse(result.stdout);
    const routine = status.flows.find((f: { flow: string }) => f.flow === 'RoutineMaintenance');

    expect(status.attention).toEqual([]);
    expect(result.code).toBe(0);
    expect(routine).toMatchObject({
      lastExecution: { status: 'SUCCEEDED' },
      report: {
        key: expect.stringMatching(/^reports\/RoutineMaintenance\/\d{4}-\d\d-\d\d\/.+\.json$/),
        failures: 0,
      },
      openIncident: null,
    });
    expect(status.health).toMatchObject({
      status: 'healthy',
      reportKey: routine.report.key,
      checks: { total: 1, pass: 1, warn: 0, fail: 0 },
    });
    expect(status.backups).toEqual([
      expect.objectContaining({ name: 'docs', status: 'pass', rpoSeconds: 26 * 3600 }),
    ]);
    expect(status.backups[0].newestVerified.ageSeconds).toBeLessThan(600);
    expect(status.snapshots).toEqual([
      expect.objectContaining({
        name: 'orders',
        status: 'pass',
        newestVerified: expect.objectContaining({ id: expect.stringMatching(/^caretaker-orders-/) }),
      }),
    ]);
    expect(status.quotas).toEqual([expect.objectContaining({ used: 1, headroom: 19, warning: false })]);
  }, 180_000);

  it('prints the same as text, ending with the verdict', async () => {
    const result = await caretaker(['status', '--config', configFile]);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Caretaker status: status at /);
    expect(result.stdout).toMatch(/^ {2}RoutineMaintenance +SUCCEEDED \d+ s ago +report \w+: 0 failed/m);
    expect(result.stdout).toMatch(/^ {2}Backup +SUCCEEDED \d+ s ago +no report$/m);
    expect(result.stdout).toMatch(/^ {2}Cleanup +never run +no report$/m);
    expect(result.stdout).toMatch(/^Health: healthy at .*: 1 checks, 1 pass, 0 warn, 0 fail$/m);
    expect(result.stdout).toMatch(/^ {2}✔ +docs +\S+, \d+ s old +RPO PT26H \(26\.0 h\)$/m);
    expect(result.stdout).toMatch(/^ {2}us-east-1 +instance +1 of 20 used, 19 left +\(warning at 80 %\)$/m);
    expect(result.stdout).toMatch(/✔ Everything is within its objectives\.\n$/);
  });

  it('refuses an unknown option and a bad config with exit 2 on stderr, printing nothing on stdout', async () => {
    const unknown = await caretaker(['status', '--cofig', configFile]);
    const badConfig = join(dir, 'bad.json');
    writeFileSync(badConfig, JSON.stringify({ environment: { name: 7 } }));
    const invalid = await caretaker(['status', '--config', badConfig]);

    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toContain("Unknown option '--cofig'");
    expect(invalid).toMatchObject({ code: 2, stdout: '' });
    expect(invalid.stderr).toContain('environment.name');
  });
});
