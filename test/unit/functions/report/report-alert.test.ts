import { describe, expect, it } from 'vitest';
import { findings } from '../../../../functions/report/findings.ts';
import type { Incident } from '../../../../functions/report/incident.ts';
import { reportAlert } from '../../../../functions/report/report-alert.ts';
import { type RunRecord, runRecordSchema } from '../../../../functions/report/run-record.ts';

const ARN = 'arn:aws:states:eu-central-1:111122223333:execution:Caretaker-prod-Update:change-1';
const record = (fields: Partial<RunRecord>): RunRecord =>
  runRecordSchema.parse({ flow: 'Update', executionArn: ARN, startedAt: '2026-11-21T10:00:00Z', ...fields });
const incident: Incident = {
  openedBy: ARN,
  openedAt: '2026-11-21T10:00:00Z',
  failedRuns: 3,
  lastFailedBy: ARN,
  lastFailedAt: '2026-11-21T10:00:00Z',
};
const location = 's3://backups/reports/Update/2026-11-21/change-1.md';

describe('reportAlert', () => {
  it('puts the failure count first when several failed, and lists what was rolled back', () => {
    const failed = record({
      failures: [
        { step: 'Apply', error: 'ResourceBusyError', cause: 'modifying' },
        { step: 'PostHealth', error: 'UnhealthyError', cause: 'api failing' },
      ],
      rolledBack: ['orders-prod: instance class back to db.r6g.large'],
    });

    const alert = reportAlert({
      record: failed,
      findings: findings(failed),
      incident: { decision: 'opened', incident: { ...incident, failedRuns: 1 } },
      reportLocation: location,
    });

    expect(alert).toMatchObject({
      severity: 'critical',
      flow: 'Update',
      summary: '2 failures: Step Apply failed: ResourceBusyError (modifying)',
      where: location,
      executionArn: ARN,
    });
    expect(alert.details).toContain('ROLLED BACK: orders-prod: instance class back to db.r6g.large');
  });

  it('says how long an incident has been failing', () => {
    const failed = record({ failures: [{ step: 'Apply', error: 'AccessDeniedError' }] });

    const alert = reportAlert({
      record: failed,
      findings: findings(failed),
      incident: { decision: 'ongoing', incident },
      reportLocation: location,
    });

    expect(alert.details).toContain(
      `STILL FAILING: the 3rd failed run in a row; the incident was opened by ${ARN}`,
    );
  });

  it('resolves in one critical message that also carries the run’s warnings', () => {
    const clean = record({ unavailable: [{ step: 'PreHealth', error: 'Lambda.ServiceException' }] });

    const alert = reportAlert({
      record: clean,
      findings: findings(clean),
      incident: { decision: 'resolved', incident },
      reportLocation: location,
    });

    expect(alert).toMatchObject({
      severity: 'critical',
      summary: 'Resolved: Update succeeded again (1 warning)',
    });
    expect(alert.details).toContain('WARNING: Step PreHealth could not run: Lambda.ServiceException');
    expect(alert.evidence).toEqual({ incident: { state: 'resolved', ...incident } });
  });
});
