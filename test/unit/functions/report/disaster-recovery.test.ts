import { describe, expect, it } from 'vitest';
import {
  disasterRecoveryMarkdown,
  drillFigures,
  recoveryTimes,
  withDrillFigures,
} from '../../../../functions/report/disaster-recovery.ts';
import { findings } from '../../../../functions/report/findings.ts';
import { type RunRecord, runRecordSchema } from '../../../../functions/report/run-record.ts';

const EXECUTION =
  'arn:aws:states:eu-central-1:111122223333:execution:Caretaker-prod-DisasterRecovery:q2-drill';
const STARTED = '2026-04-01T05:00:00.000Z';

const chosen = {
  databases: [
    {
      target: 'orders',
      region: 'eu-west-1',
      point: {
        snapshotIdentifier: 'caretaker-orders-aaaaaaaaaaaa-snapshot',
        createdAt: '2026-04-01T01:00:00.000Z',
        source: 'newest-verified',
        managed: true,
        reason: 'the newest',
        skipped: [],
        skippedCount: 0,
        restoredIdentifier: 'orders-prod-r1a2b3c4d',
      },
    },
  ],
  backups: [
    {
      set: 'uploads',
      targetBucket: 'dr-restores',
      targetPrefix: 'dr-restore/uploads/',
      point: {
        backupId: '20260331T020000Z-0a0b0c0d',
        createdAt: '2026-03-31T02:00:00.000Z',
        verifiedAt: '2026-03-31T02:30:00.000Z',
        source: 'newest-verified',
        reason: 'the newest',
        skipped: [
          {
            id: '20260401T020000Z-0f0f0f0f',
            kind: 'integrity',
            why: 'edited-manifest: its manifest does not check out',
          },
          { id: '20260401T030000Z-01010101', kind: 'unverified', why: 'not verified yet' },
        ],
        skippedCount: 2,
      },
    },
  ],
};

const restored = {
  databases: [
    {
      target: 'orders',
      type: 'instance',
      region: 'eu-west-1',
      identifier: 'orders-prod-r1a2b3c4d',
      snapshotIdentifier: 'caretaker-orders-aaaaaaaaaaaa-snapshot',
      settingsSource: 'snapshot',
      notes: [],
      verification: {
        status: 'healthy',
        checkedAt: '2026-04-01T05:40:00.000Z',
        durationMs: 2000,
        label: 'dr-restored',
        checks: [{ name: 'orders', kind: 'rds', status: 'pass', summary: 'available' }],
      },
    },
  ],
  backups: [
    {
      set: 'uploads',
      backupId: '20260331T020000Z-0a0b0c0d',
      target: { bucket: 'dr-restores', prefix: 'dr-restore/uploads/' },
      restoreId: 'restore-20260401T050000Z-11111111',
      rollbackPointId: '20260401T050000Z-11111111',
      verified: 'objects',
      objects: 12,
      bytes: 4096,
      completedAt: '2026-04-01T05:20:00.000Z',
      durationMs: 60000,
    },
  ],
};

function record(section: object): RunRecord {
  return runRecordSchema.parse({
    flow: 'DisasterRecovery',
    executionArn: EXECUTION,
    startedAt: STARTED,
    disasterRecovery: {
      mode: 'drill',
      region: 'eu-west-1',
      teardown: true,
      objectives: { rtoSeconds: 3600, rpoSeconds: 86400 },
      chosen,
      restored,
      switchOver: null,
      recheck: null,
      removal: {
        databases: [
          {
            target: 'orders',
            identifier: 'orders-prod-r1a2b3c4d',
            region: 'eu-west-1',
            removed: true,
            switchOverUndone: false,
          },
        ],
        backups: [
          {
            set: 'uploads',
            target: { bucket: 'dr-restores', prefix: 'dr-restore/uploads/' },
            removed: true,
            deleted: 12,
            putBack: 0,
            kept: 0,
          },
        ],
      },
      failure: null,
      ...section,
    },
  });
}

describe('recovery times', () => {
  it('measures RTO to the last resource verified and RPO from the oldest recovery point used', () => {
    // The database verified last (05:40:02); the backup is the older point (27 h before the start).
    expect(recoveryTimes(record({}).disasterRecovery!, STARTED)).toEqual({
      verifiedAt: '2026-04-01T05:40:02.000Z',
      rtoSeconds: 2402,
      rpoSeconds: 27 * 3600,
    });
  });

  it('has none before everything was restored', () => {
    expect(recoveryTimes(record({ restored: null }).disasterRecovery!, STARTED)).toBeUndefined();
  });
});

describe('the drill section', () => {
  it('is derived from a verified drill, with its targets and whether it was torn down', () => {
    expect(drillFigures(record({}))).toEqual({
      rtoSeconds: 2402,
      rpoSeconds: 97200,
      rtoTargetSeconds: 3600,
      rpoTargetSeconds: 86400,
      recoveryPoint: 'orders: caretaker-orders-aaaaaaaaaaaa-snapshot, uploads: 20260331T020000Z-0a0b0c0d',
      tornDown: true,
    });
  });

  it('says a drill was not torn down when a copy could not be removed, and leaves it out when teardown is off', () => {
    const stuck = record({
      removal: {
        databases: [{ ...record({}).disasterRecovery!.removal!.databases[0]!, removed: false }],
        backups: [],
      },
    });

    expect(drillFigures(stuck)?.tornDown).toBe(false);
    expect(drillFigures(record({ teardown: false, removal: null }))).not.toHaveProperty('tornDown');
  });

  it('is not derived for a failover or a drill that failed before it was verified', () => {
    expect(drillFigures(record({ mode: 'failover' }))).toBeUndefined();
    expect(withDrillFigures(record({ restored: null })).drill).toBeUndefined();
  });

  it('records the measured RTO and RPO in the section for a failover too', () => {
    const failover = withDrillFigures(record({ mode: 'failover', teardown: false, removal: null }));

    expect(failover.disasterRecovery!.measured).toEqual({
      verifiedAt: '2026-04-01T05:40:02.000Z',
      rtoSeconds: 2402,
      rpoSeconds: 97200,
    });
    expect(withDrillFigures(record({ restored: null })).disasterRecovery).not.toHaveProperty('measured');
  });

  it('turns the RPO over its target into the drill warning, and a tampered recovery point into another', () => {
    const found = findings(withDrillFigures(record({})));

    expect(found.failures).toEqual([]);
    expect(found.warnings.map((w) => w.what)).toEqual([
      '20260401T020000Z-0f0f0f0f of backup set uploads was passed over: edited-manifest: its manifest does not check out',
      'DR drill recovery point was 27 h old, over the RPO target of 24 h',
    ]);
  });
});

describe('a failed run', () => {
  const failed = () =>
    record({
      mode: 'failover',
      region: null,
      teardown: false,
      restored: null,
      switchOverStarted: false,
      failure: {
        step: 'Restore',
        error: 'UnhealthyError',
        cause: JSON.stringify({
          errorType: 'UnhealthyError',
          errorMessage: 'Health is unhealthy: FAIL query orders-rows',
        }),
      },
      removal: {
        databases: [
          {
            target: 'orders',
            identifier: 'orders-prod-r1a2b3c4d',
            region: null,
            removed: false,
            switchOverUndone: false,
            error: { name: 'PreconditionFailedError', message: 'has deletion protection on' },
          },
        ],
        backups: [
          {
            set: 'uploads',
            target: { bucket: 'dr-restores', prefix: 'dr-restore/uploads/' },
            removed: true,
            deleted: 3,
            putBack: 1,
            kept: 0,
          },
        ],
      },
    });

  it('is one failure saying what failed and what was rolled back, and one per item left to remove by hand', () => {
    const found = findings(withDrillFigures(failed()));

    expect(found.severity).toBe('critical');
    expect(found.failures.map((f) => f.what)).toEqual([
      'Disaster recovery (failover) failed at Restore: UnhealthyError: Health is unhealthy: FAIL query orders-rows. Rolled back: removed the restored objects of uploads (3 deleted, 1 put back). 1 item(s) could not be removed: see below. The original databases were not modified.',
      'Restored copy orders-prod-r1a2b3c4d of orders could not be removed: PreconditionFailedError: has deletion protection on',
    ]);
    expect(found.failures[0]!.action).toMatch(
      /^A restore or its verification failed: .*start the failover again/,
    );
    expect(found.failures[1]!.action).toContain(
      'aws rds delete-db-instance --db-instance-identifier orders-prod-r1a2b3c4d --skip-final-snapshot',
    );
  });

  it('says nothing was rolled back when nothing had been restored', () => {
    const found = findings(
      record({
        chosen: null,
        restored: null,
        removal: null,
        failure: { step: 'ChooseRecoveryPoints', error: 'NotFoundError', cause: 'no snapshot' },
      }),
    );

    expect(found.failures[0]!.what).toBe(
      'Disaster recovery (drill) failed at ChooseRecoveryPoints: NotFoundError: no snapshot. Nothing had been restored, so nothing was rolled back.',
    );
  });

  it('renders the rollback in the Markdown report', () => {
    const text = disasterRecoveryMarkdown(failed()).join('\n');

    expect(text).toContain('## Disaster recovery: failover');
    expect(text).toContain(
      '- Failed at: Restore (UnhealthyError: Health is unhealthy: FAIL query orders-rows)',
    );
    expect(text).toContain('### Rolled back');
    expect(text).toContain(
      '| RDS orders-prod-r1a2b3c4d | NO | PreconditionFailedError has deletion protection on |',
    );
  });
});

describe('a failover', () => {
  it('warns that the original is parked and must be deleted by hand once satisfied', () => {
    const failover = record({
      mode: 'failover',
      region: null,
      teardown: false,
      removal: null,
      switchOverStarted: true,
      switchOver: [
        {
          target: 'orders',
          sourceIdentifier: 'orders-prod',
          oldIdentifier: 'orders-prod-old-20260401050000',
          restoredIdentifier: 'orders-prod-r1a2b3c4d',
          phase: 'promoted',
        },
      ],
      recheck: { status: 'healthy', checks: [] },
    });

    const found = findings(withDrillFigures(failover));

    expect(withDrillFigures(failover).drill).toBeUndefined();
    expect(found.warnings.map((w) => w.what)).toContain(
      'Failed over orders: orders-prod now serves the restored data; the original is parked as orders-prod-old-20260401050000',
    );
    expect(disasterRecoveryMarkdown(failover).join('\n')).toContain(
      '| orders | orders-prod | orders-prod-old-20260401050000 |',
    );
  });
});
