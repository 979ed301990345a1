/**
 * The drill under faults, on one assembly synthesized from the drill config (as `--template`
 * takes it): a function failing once (the flow retries and succeeds) or always (the flow fails
 * through its rollback and nothing is lost), a role missing a permission (the drill fails naming
 * role, action and resource), Ctrl-C (everything removed), and two drills at once.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from '../../sandbox/deploy/index.ts';
import type { DrillReport } from '../../sandbox/drill/run.ts';
import { drill, leftovers, postgresUnder, ROOT, startDrill } from './support.ts';

const SMALL = ['--rows', '2000', '--objects', '60'];
let work: string;
let assembly: string;
let stackName: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'caretaker-drill-faults-'));
  assembly = join(work, 'cdk.out');
  ({ stackName } = synthesize({ configPath: join(ROOT, 'config/drill.json'), outdir: assembly }));
}, 300_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const templateOf = (dir: string) => join(dir, `${stackName}.template.json`);

/** A fresh temporary directory for one drill, checked empty afterwards. */
function temporary(): string {
  return mkdtempSync(join(work, 'tmp-'));
}

function reportOf(stdout: string): DrillReport {
  return JSON.parse(stdout) as DrillReport;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('caretaker sandbox drill with faults', () => {
  it('retries a function that fails once and ends every update as expected', async () => {
    const tmp = temporary();
    const run = await drill(
      ['--template', assembly, '--flows', 'Update', '--inject', 'update:transient', '--json', ...SMALL],
      { TMPDIR: tmp },
    );
    const report = reportOf(run.stdout);

    expect(report.scenarios.map((s) => [s.name, s.outcome, s.ok])).toEqual([
      ['update: RDS instance class', 'SUCCEEDED', true],
      ['update: Lambda canary', 'SUCCEEDED', true],
      ['update that breaks the app (rolls back)', 'FAILED', true],
    ]);
    expect(report.scenarios.every((s) => s.injected === 1)).toBe(true);
    expect(run.code).toBe(0);
    expect(leftovers(tmp)).toEqual([]);
  }, 600_000);

  it('fails a failover whose restore always fails cleanly, with nothing lost and one alert', async () => {
    const tmp = temporary();
    const run = await drill(
      [
        '--template',
        assembly,
        '--flows',
        'DisasterRecovery',
        '--inject',
        'rds-restore:permanent',
        '--json',
        ...SMALL,
      ],
      { TMPDIR: tmp },
    );
    const report = reportOf(run.stdout);

    expect(report.scenarios.map((s) => [s.name, s.expected, s.outcome, s.ok])).toEqual([
      ['disaster recovery drill', 'FAILED', 'FAILED', true],
      ['disaster recovery failover', 'FAILED', 'FAILED', true],
    ]);
    for (const scenario of report.scenarios) {
      expect(scenario.injected).toBeGreaterThan(0);
      expect(scenario.alerts).toEqual([expect.objectContaining({ severity: 'critical' })]);
      expect(scenario.checks.filter((check) => !check.ok)).toEqual([]);
    }
    expect(report.finalChecks.every((check) => check.ok)).toBe(true);
    expect(run.code).toBe(0);
  }, 600_000);

  it('fails naming the role, the action and the resource when a role misses a permission', async () => {
    const broken = join(work, 'broken.out');
    cpSync(assembly, broken, { recursive: true });
    const template = JSON.parse(readFileSync(templateOf(broken), 'utf8')) as {
      Resources: Record<
        string,
        { Type: string; Properties: { PolicyDocument?: { Statement: any[] }; Roles?: { Ref: string }[] } }
      >;
    };
    let removed = 0;
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      // The snapshot function's role (the update role may snapshot too, for its rollback points).
      if (!resource.Properties.Roles?.some((role) => role.Ref.startsWith('RdsSnapshotRole'))) continue;
      const document = resource.Properties.PolicyDocument!;
      document.Statement = document.Statement.flatMap((statement) => {
        const actions = ([] as string[]).concat(statement.Action);
        if (!actions.includes('rds:CreateDBSnapshot')) return [statement];
        removed += 1;
        const rest = actions.filter((action) => action !== 'rds:CreateDBSnapshot');
        return rest.length ? [{ ...statement, Action: rest }] : [];
      });
    }
    expect(removed).toBe(1);
    writeFileSync(templateOf(broken), JSON.stringify(template));
    const tmp = temporary();

    const run = await drill(['--template', broken, '--flows', 'RoutineMaintenance', ...SMALL], {
      TMPDIR: tmp,
    });

    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(
      /✘ arn:aws:sts::\d{12}:assumed-role\/Caretaker-drill-RdsSnapshotRole[^ ]* is not authorized to perform: rds:CreateDBSnapshot on resource: arn:aws:rds:us-east-1:\d{12}:db:orders-drill/,
    );
    expect(run.stdout).toMatch(/Drill FAILED: routine maintenance/);
    expect(leftovers(tmp)).toEqual([]);
  }, 600_000);

  it('stops on Ctrl-C, removing its sandbox, databases and data', async () => {
    const tmp = temporary();
    let interrupted = false;
    const { done } = startDrill(['--template', assembly, ...SMALL], { TMPDIR: tmp }, (text, child) => {
      if (!interrupted && /routine maintenance: ▶/.test(text)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });

    const run = await done;

    expect(interrupted).toBe(true);
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/Drill stopped; everything it made is removed/);
    expect(postgresUnder(tmp)).toEqual([]);
    expect(leftovers(tmp)).toEqual([]);
  }, 600_000);

  it('runs two drills at once without either disturbing the other', async () => {
    // The second assembly is the first with its application on another loopback port.
    const other = join(work, 'other.out');
    cpSync(assembly, other, { recursive: true });
    const port = await freePort();
    writeFileSync(
      templateOf(other),
      readFileSync(templateOf(other), 'utf8').replaceAll('127.0.0.1:47080', `127.0.0.1:${port}`),
    );
    const [one, two] = await Promise.all(
      [assembly, other].map((dir) =>
        drill(['--template', dir, '--flows', 'Cleanup', '--json', ...SMALL], { TMPDIR: temporary() }),
      ),
    );

    for (const run of [one!, two!]) {
      expect(reportOf(run.stdout).scenarios.map((s) => [s.name, s.ok])).toEqual([
        ['cleanup (dry run)', true],
        ['cleanup', true],
      ]);
      expect(run.code).toBe(0);
    }
  }, 600_000);
});
