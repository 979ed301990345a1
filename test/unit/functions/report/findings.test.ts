import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findings, formatBytes, formatSeconds, outcomeText } from '../../../../functions/report/findings.ts';
import { type RunRecord, runRecordSchema } from '../../../../functions/report/run-record.ts';

const recorded = (): RunRecord =>
  runRecordSchema.parse(
    JSON.parse(readFileSync('test/fixtures/report/routine-maintenance-run.json', 'utf8')),
  );

describe('findings', () => {
  it('calls a failed verification a failure and names the object', () => {
    const found = findings(recorded());

    expect(found.failures).toHaveLength(1);
    expect(found.failures[0]?.what).toContain('invoices/2026/11/INV-0042.pdf');
    expect(found.failures[0]?.where).toBe('backup set invoices (backup 20261121T010012Z-9b01d2aa)');
    expect(found.severity).toBe('critical');
  });

  it('warns of an expiring certificate and of the snapshot quota nearing its limit', () => {
    const whats = findings(recorded()).warnings.map((w) => w.what);

    expect(whats).toEqual([
      'Health check api-cert (tls): certificate of api.example.com:443 expires in 12 days (threshold 30), 2026-12-03',
      'Manual snapshots at 86 of 100 (86 %)',
    ]);
  });

  it('is info when everything succeeded', () => {
    const record = recorded();
    const clean: RunRecord = {
      ...record,
      health: {
        ...record.health!,
        status: 'healthy',
        checks: record.health!.checks.filter((c) => c.status === 'pass'),
      },
      backups: record.backups.filter((b) => b.verification?.ok),
      snapshots: record.snapshots.map((s) => ({ ...s, quota: { used: 10, limit: 100, warnPercent: 80 } })),
    };

    const found = findings(clean);

    expect(found).toEqual({ failures: [], warnings: [], severity: 'info' });
    expect(outcomeText(found)).toBe('everything succeeded');
  });

  it('turns a caught step failure into a failure with its error and cause', () => {
    const found = findings({
      ...recorded(),
      failures: [{ step: 'Snapshots', error: 'QuotaExceededError', cause: '100 of 100' }],
    });

    expect(found.failures[0]?.what).toBe('Step Snapshots failed: QuotaExceededError (100 of 100)');
  });

  it('warns when a drill misses its RTO', () => {
    const found = findings({
      ...recorded(),
      drill: { rtoSeconds: 5400, rpoSeconds: 600, rtoTargetSeconds: 3600 },
    });

    expect(found.warnings.map((w) => w.what)).toContain(
      'DR drill recovery took 1 h 30 min, over the RTO target of 1 h',
    );
  });
});

describe('formatting', () => {
  it('formats durations and sizes for people', () => {
    expect(formatSeconds(3725)).toBe('1 h 2 min 5 s');
    expect(formatSeconds(0)).toBe('0 s');
    expect(formatBytes(73014444032)).toBe('68.0 GiB');
    expect(formatBytes(512)).toBe('512 B');
  });

  it('counts failures and warnings in words', () => {
    expect(outcomeText(findings(recorded()))).toBe('1 failure, 2 warnings');
  });

  it('lists a failing health check of routine maintenance as a warning: the health alarms alert on it', () => {
    const record = recorded();
    const failing = {
      ...record,
      health: { ...record.health!, checks: [{ ...record.health!.checks[0]!, status: 'fail' as const }] },
    };

    const routine = findings(failing);
    const update = findings({ ...failing, flow: 'Update' });

    expect(routine.warnings.map((w) => w.what)).toContain(
      `Health check api (http): ${record.health!.checks[0]!.summary}`,
    );
    expect(routine.failures.map((f) => f.what)).not.toContain(expect.stringContaining('Health check api'));
    expect(update.failures.map((f) => f.what)).toContain(
      `Health check api (http): ${record.health!.checks[0]!.summary}`,
    );
  });

  it('warns of a step that could not run, without failing the run', () => {
    const found = findings({
      ...recorded(),
      backups: [],
      unavailable: [{ step: 'Health', error: 'Lambda.ServiceException', cause: 'Lambda is unavailable' }],
    });

    expect(found.warnings.map((w) => w.what)).toContain(
      'Step Health could not run: Lambda.ServiceException (Lambda is unavailable)',
    );
    expect(found.failures).toEqual([]);
  });

  it('names the error of a failed nested Backup and its execution, not the Step Functions wrapping', () => {
    const child = 'arn:aws:states:eu-central-1:111122223333:execution:Caretaker-prod-Backup:4f1c';
    const found = findings({
      ...recorded(),
      backups: [
        {
          set: 'uploads',
          status: 'failed',
          error: {
            name: 'States.TaskFailed',
            message: JSON.stringify({
              ExecutionArn: child,
              Status: 'FAILED',
              Error: 'NotFoundError',
              Cause: 'no bucket',
            }),
          },
        },
      ],
    });

    expect(found.failures[0]).toMatchObject({
      what: 'Backup of uploads failed: NotFoundError: no bucket',
      where: `backup set uploads (execution ${child})`,
    });
  });
});
