/**
 * The Update section of the run record: the findings (what failed, what was rolled back, what to
 * do) and its Markdown, per outcome.
 */
import { describe, expect, it } from 'vitest';
import { findings } from '../../../../functions/report/findings.ts';
import { renderMarkdown } from '../../../../functions/report/render-markdown.ts';
import { type RunRecord, runRecordSchema } from '../../../../functions/report/run-record.ts';

const check = (name: string, status: 'pass' | 'warn' | 'fail', summary = `${name} ${status}`) => ({
  name,
  kind: 'http',
  status,
  summary,
  evidence: {},
});
const healthy = { status: 'healthy', checks: [check('api', 'pass'), check('orders-query', 'pass')] };
const unhealthy = {
  status: 'unhealthy',
  checks: [
    check('api', 'fail', 'GET http://127.0.0.1/health: 0/5 ok, status 500 ×5'),
    check('orders-query', 'pass'),
  ],
};

const rdsRequest = {
  target: 'orders',
  identifier: 'orders-prod',
  type: 'instance',
  change: { engineVersion: '17.2', allowMajorVersionUpgrade: true },
  stabilizationMinutes: 10,
  healthChecks: ['api', 'orders-query'],
};

/** A run record of an Update with `update` fields over a restore-based rollback that worked. */
function record(update: Record<string, unknown> = {}): RunRecord {
  return runRecordSchema.parse({
    flow: 'Update',
    executionArn: 'arn:aws:states:eu-central-1:111122223333:execution:Caretaker-prod-Update:run-1',
    startedAt: '2026-03-10T12:00:00.000Z',
    update: {
      kind: 'rds',
      request: rdsRequest,
      outcome: 'rolled-back',
      failure: {
        step: 'PostUpdateHealth',
        error: 'UnhealthyError',
        cause: 'health after the update is unhealthy',
      },
      rollbackPoint: {
        takenAt: '2026-03-10T12:00:05.000Z',
        snapshotIdentifier: 'caretaker-orders-0a1b2c3d4e5f-rollback-point',
        settings: {
          identifier: 'orders-prod',
          engineVersion: '16.4',
          parameterGroup: 'orders-v1',
          members: [{ identifier: 'orders-prod', instanceClass: 'db.r6g.large' }],
        },
      },
      applied: true,
      lastChange: { sent: ['engineVersion'] },
      health: { before: healthy, after: unhealthy, afterRollback: healthy },
      rollback: {
        method: 'restore',
        status: 'done',
        changed: ['engine version of orders-prod: 16.4 → 17.2'],
        snapshotIdentifier: 'caretaker-orders-0a1b2c3d4e5f-rollback-point',
        restoredIdentifier: 'orders-prod-r1a2b3c4d',
        parkedIdentifier: 'orders-prod-old-20260310120000',
        writeLossWindow: { from: '2026-03-10T12:00:05.000Z', to: '2026-03-10T12:40:00.000Z' },
      },
      ...update,
    },
  });
}

describe('Update findings', () => {
  it('names what failed, how it was rolled back and the writes a restore could not keep, as critical', () => {
    const found = findings(record());

    expect(found.severity).toBe('critical');
    expect(found.failures.map((f) => f.what)).toEqual([
      'Update failed (RDS instance orders-prod (target orders): engine version → 17.2) at PostUpdateHealth (UnhealthyError: health after the update is unhealthy) and was rolled back by restoring the rollback snapshot caretaker-orders-0a1b2c3d4e5f-rollback-point and switching over; the failed update is parked as orders-prod-old-20260310120000 (undid: engine version of orders-prod: 16.4 → 17.2)',
      'Writes to orders-prod between 2026-03-10T12:00:05.000Z and 2026-03-10T12:40:00.000Z are not in the restored database',
    ]);
    expect(found.failures[0]?.action).toMatch(
      /tagged caretaker:kind=failed-update \(Caretaker never deletes it\)/,
    );
    expect(found.failures[1]).toMatchObject({
      where: 'parked instance orders-prod-old-20260310120000',
      action: expect.stringMatching(/still in orders-prod-old-20260310120000: compare it with orders-prod/),
    });
  });

  it('says an update aborted on unhealthy health changed nothing, naming the failing checks', () => {
    const found = findings(
      record({
        outcome: 'aborted',
        failure: { step: 'PreUpdateHealth', error: 'UnhealthyError', cause: 'unhealthy' },
        rollbackPoint: null,
        applied: false,
        health: { before: unhealthy },
        rollback: null,
      }),
    );

    expect(found.failures).toHaveLength(1);
    expect(found.failures[0]?.what).toMatch(
      /^Update not started \(RDS instance orders-prod .*\): health before the update is unhealthy \(api: GET http:\/\/127\.0\.0\.1\/health: 0\/5 ok, status 500 ×5\)$/,
    );
    expect(found.failures[0]?.action).toMatch(/^Nothing was changed\. Restore health first/);
  });

  it('gives the manual commands when the rollback was refused because someone else changed the target', () => {
    const found = findings(
      record({
        request: { ...rdsRequest, change: { instanceClass: 'db.r6g.xlarge' } },
        outcome: 'rollback-refused',
        rollback: {
          method: 'in-place',
          status: 'refused',
          conflicts: [
            'instance class of orders-prod is db.r7g.2xlarge: neither db.r6g.large (the rollback point) nor db.r6g.xlarge (this update)',
          ],
          manualCommands: [
            'aws rds modify-db-instance --db-instance-identifier orders-prod --db-instance-class db.r6g.large --apply-immediately',
          ],
        },
      }),
    );

    expect(found.failures[0]?.what).toMatch(
      /was NOT rolled back: someone else changed it meanwhile \(instance class of orders-prod is db\.r7g\.2xlarge/,
    );
    expect(found.failures[0]?.action).toBe(
      'Nothing was overwritten. Agree with whoever changed it what it should be. By hand: `aws rds modify-db-instance --db-instance-identifier orders-prod --db-instance-class db.r6g.large --apply-immediately`.',
    );
  });

  it('says what to finish by hand when the rollback itself failed', () => {
    const found = findings(
      record({
        outcome: 'rollback-failed',
        health: { before: healthy, after: unhealthy },
        rollback: {
          method: 'restore',
          status: 'failed',
          restoredIdentifier: 'orders-prod-r1a2b3c4d',
          error: {
            step: 'SwitchOver',
            error: 'PreconditionFailedError',
            cause: 'the parking name O is already taken',
          },
        },
      }),
    );

    expect(found.failures[0]?.what).toMatch(
      /its rollback \(restore\) failed at SwitchOver \(PreconditionFailedError: the parking name O is already taken\)$/,
    );
    expect(found.failures[0]?.action).toMatch(
      /the restored copy orders-prod-r1a2b3c4d may exist \(not deleted\)/,
    );
  });

  it('adds a failure when health is still unhealthy after the rollback', () => {
    const found = findings(
      record({ health: { before: healthy, after: unhealthy, afterRollback: unhealthy } }),
    );

    expect(found.failures.at(-1)?.what).toMatch(/^Health after the rollback is still unhealthy \(api: /);
  });

  it('reports a successful canary as info, and a degraded check after it as a warning', () => {
    const canary = {
      kind: 'lambda',
      request: {
        target: 'arn:aws:lambda:eu-central-1:111122223333:function:checkout',
        alias: 'live',
        targetVersion: '8',
        steps: [10, 50, 100],
        bakeMinutes: 5,
        healthChecks: ['api'],
      },
      outcome: 'succeeded',
      failure: null,
      rollbackPoint: { takenAt: '2026-03-10T12:00:01.000Z', originalVersion: '7', alias: 'version 7' },
      applied: true,
      lastChange: { weight: 100, step: 2 },
      rollback: null,
    };

    const clean = findings(record({ ...canary, health: { before: healthy, after: healthy } }));
    const degraded = findings(
      record({
        ...canary,
        health: {
          before: healthy,
          after: { status: 'degraded', checks: [check('api', 'warn', 'p95 240 ms')] },
        },
      }),
    );

    expect(clean).toEqual({ failures: [], warnings: [], severity: 'info' });
    expect(degraded.severity).toBe('warning');
    expect(degraded.warnings[0]?.what).toBe('Health check api (http) after the update: p95 240 ms');
  });
});

describe('Update section of the Markdown report', () => {
  const markdown = (run: RunRecord) => renderMarkdown(run, findings(run), 'prod', '2026-03-10T12:45:00.000Z');

  it('shows what was asked, the rollback point, health before and after, and the rollback', () => {
    const text = markdown(record());

    expect(text).toContain('## Update: failed and rolled back');
    expect(text).toContain(
      '- Asked: RDS instance orders-prod (target orders): engine version → 17.2; stabilisation 10 min; health checks: api, orders-query',
    );
    expect(text).toContain(
      '- Rollback point: snapshot `caretaker-orders-0a1b2c3d4e5f-rollback-point`, taken at 2026-03-10T12:00:05.000Z; settings: engine 16.4, parameter group orders-v1, orders-prod db.r6g.large',
    );
    expect(text).toContain('- Applied: yes');
    expect(text).toContain('Health: before healthy → after unhealthy → after rollback healthy.');
    expect(text).toContain('| api | pass | fail | pass |');
    expect(text).toContain('### Rollback (restore): done');
    expect(text).toContain(
      '- **Writes not kept by the restore:** from 2026-03-10T12:00:05.000Z to 2026-03-10T12:40:00.000Z; they are only in `orders-prod-old-20260310120000`',
    );
  });

  it('lists the commands to finish by hand in a code block', () => {
    const text = markdown(
      record({
        outcome: 'rollback-refused',
        rollback: {
          method: 'in-place',
          status: 'refused',
          conflicts: ['instance class of orders-prod is db.r7g.2xlarge'],
          manualCommands: [
            'aws rds modify-db-instance --db-instance-identifier orders-prod --db-instance-class db.r6g.large --apply-immediately',
          ],
        },
      }),
    );

    expect(text).toContain(
      '```sh\naws rds modify-db-instance --db-instance-identifier orders-prod --db-instance-class db.r6g.large --apply-immediately\n```',
    );
  });
});
