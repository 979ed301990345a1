/** What the routine-maintenance report asks a person to do about pending security maintenance. Pure. */
import { describe, expect, it } from 'vitest';
import { maintenanceFindings } from '../../../../functions/report/maintenance-findings.ts';
import { runRecordSchema } from '../../../../functions/report/run-record.ts';

const record = (actions: object[]) =>
  runRecordSchema.parse({
    flow: 'RoutineMaintenance',
    startedAt: '2026-03-10T01:00:00.000Z',
    security: {
      checkedAt: '2026-03-10T01:05:00.000Z',
      pendingMaintenance: [
        {
          target: 'orders',
          type: 'instance',
          identifier: 'orders-prod',
          resourceArn: 'arn:aws:rds:eu-central-1:111122223333:db:orders-prod',
          actions,
        },
      ],
      keys: [],
    },
  });

describe('pending security maintenance', () => {
  it('is a warning whose action is the Update flow input that applies it after a rollback point', () => {
    const { warnings, failures } = maintenanceFindings(
      record([
        { action: 'os-upgrade', security: true, autoAppliedAfter: '2026-04-01T00:00:00.000Z' },
        { action: 'db-upgrade', security: false },
      ]),
    );

    expect(failures).toEqual([]);
    expect(warnings).toEqual([
      expect.objectContaining({
        what: '1 security patch pending on orders: os-upgrade (applied by AWS from 2026-04-01T00:00:00.000Z)',
        where: 'RDS instance orders-prod (target orders)',
      }),
    ]);
    expect(warnings[0]!.action).toContain(
      'start the Update flow with {"rds": {"target": "orders", "change": {"pendingMaintenance": "security"}}}',
    );
  });

  it('asks nothing when only actions that are not security patches are pending', () => {
    const { warnings } = maintenanceFindings(record([{ action: 'db-upgrade', security: false }]));

    expect(warnings).toEqual([]);
  });
});
