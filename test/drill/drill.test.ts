/**
 * The main job, as the README runs it: `caretaker sandbox drill` with its defaults (the committed
 * drill config, 100,000 rows and 1,000 objects, every flow), in a temporary directory of its own.
 * It must exit 0 with every run as expected, one alert per run, no IAM denial, and leave nothing
 * behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DrillReport } from '../../sandbox/drill/run.ts';
import { drill, leftovers, postgresUnder } from './support.ts';

let temporary: string;
let report: DrillReport;
let run: Awaited<ReturnType<typeof drill>>;

beforeAll(async () => {
  temporary = mkdtempSync(join(tmpdir(), 'caretaker-drill-test-'));
  run = await drill(['--json'], { TMPDIR: temporary });
  report = JSON.parse(run.stdout) as DrillReport;
}, 900_000);

afterAll(() => {
  rmSync(temporary, { recursive: true, force: true });
});

describe('caretaker sandbox drill', () => {
  it('exits 0 with every flow run ending as expected', () => {
    expect(run.stderr).not.toMatch(/Drill FAILED/);
    expect(report.scenarios.map((s) => [s.name, s.outcome, s.ok, s.checks.filter((c) => !c.ok)])).toEqual([
      ['routine maintenance', 'SUCCEEDED', true, []],
      ['cleanup (dry run)', 'SUCCEEDED', true, []],
      ['cleanup', 'SUCCEEDED', true, []],
      ['update: RDS instance class', 'SUCCEEDED', true, []],
      ['update: Lambda canary', 'SUCCEEDED', true, []],
      ['update that breaks the app (rolls back)', 'FAILED', true, []],
      ['disaster recovery drill', 'SUCCEEDED', true, []],
      ['disaster recovery failover', 'SUCCEEDED', true, []],
    ]);
    expect(report.ok).toBe(true);
    expect(run.code).toBe(0);
  });

  it('seeds 100,000 rows and 1,000 objects and finds every one intact at the end', () => {
    expect(report.seeded).toEqual({ rows: 100_000, objects: 1_000 });
    expect(report.finalChecks).toEqual([expect.objectContaining({ ok: true })]);
    for (const scenario of report.scenarios) {
      expect(scenario.checks.find((check) => check.name === 'database intact')).toMatchObject({ ok: true });
    }
  });

  it('sends one alert per run and meets no IAM denial', () => {
    expect(report.scenarios.map((s) => s.alerts.length)).toEqual(report.scenarios.map(() => 1));
    expect(report.denials).toEqual([]);
  });

  it('rolls the breaking update back, naming what it rolled back', () => {
    const broken = report.scenarios.find((s) => s.name.startsWith('update that breaks'))!;
    expect(broken.states).toEqual(
      expect.arrayContaining(['StartRollback', 'RevertInPlace', 'DescribeRolledBack']),
    );
    expect(broken.alerts[0]!.severity).toBe('critical');
  });

  it('measures RTO and RPO in the DR drill', () => {
    const dr = report.scenarios.find((s) => s.name === 'disaster recovery drill')!;
    expect(dr.drill!.rtoSeconds).toBeGreaterThan(0);
    expect(dr.drill!.rpoSeconds).toBeGreaterThanOrEqual(0);
  });

  it('leaves no process and no temporary data behind', () => {
    expect(leftovers(temporary)).toEqual([]);
    expect(postgresUnder(temporary)).toEqual([]);
  });
});
