import { DeleteObjectsCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { emptyFolderStep, finishReport } from '../../../../functions/cleanup/fan-out.ts';
import type { FolderItem, FolderSummary } from '../../../../functions/cleanup/input.ts';
import { targetReport } from '../../../../functions/cleanup/report.ts';
import { budgetFrom } from '../../../../functions/common/backup/budget.ts';
import type { BackupCrypto } from '../../../../functions/common/backup/crypto.ts';
import { awsServiceError } from '../../../support/aws-errors.ts';

const s3Mock = mockClient(S3Client);
const ID = '20260101T020000Z-0000abcd';
const PREFIX = `backups/photos/${ID}/`;
const NOW = new Date('2026-03-01T03:00:00Z');

describe('finishReport', () => {
  const backup: FolderItem = {
    set: 'photos',
    id: ID,
    kind: 'backup',
    reasons: ['not kept by any rule'],
    deleted: 2,
  };
  const remnant: FolderItem = {
    set: 'photos',
    id: '20251201T020000Z-00000002',
    kind: 'remnant',
    reasons: ['remnant'],
    deleted: 0,
  };
  const summary = (item: FolderItem, counts: Partial<FolderSummary> = {}): FolderSummary => ({
    set: item.set,
    id: item.id,
    objectsDeleted: 0,
    objectsReferenced: 0,
    objectsUnmanaged: 0,
    ...counts,
  });
  const plan = () => ({
    dryRun: false,
    now: NOW.toISOString(),
    targets: [targetReport('photos', 'backups', 'daily'), targetReport('orders', 'rds-snapshots', 'daily')],
  });

  it("adds each folder's deletion to its set with the plan's first-step count, and the totals", () => {
    // Act
    const report = finishReport(
      plan(),
      [backup, remnant],
      [
        summary(backup, { objectsDeleted: 10, objectsReferenced: 3 }),
        summary(remnant, { objectsDeleted: 4, objectsUnmanaged: 1 }),
      ],
    );

    // Assess
    expect(report.targets[0]!.deletions).toEqual([
      {
        id: ID,
        reasons: ['not kept by any rule'],
        outcome: 'deleted',
        objectsDeleted: 12,
        objectsReferenced: 3,
      },
      {
        id: remnant.id,
        reasons: ['remnant'],
        outcome: 'deleted',
        objectsDeleted: 4,
        objectsReferenced: 0,
        detail: '1 object(s) without caretaker:managed=true left alone',
      },
    ]);
    expect(report.targets[0]!.notes).toEqual([
      '3 object(s) of deleted backups are kept: kept backups still reference them',
    ]);
    expect(report.targets[1]!.deletions).toEqual([]);
    expect(report.totals).toMatchObject({ deleted: 2, incompleteTargets: 0 });
  });

  it('lists no remnant that had nothing to delete, as a whole run does not', () => {
    const report = finishReport(plan(), [remnant], [summary(remnant, { objectsReferenced: 5 })]);

    expect(report.targets[0]!.deletions).toEqual([]);
    expect(report.targets[0]!.status).toBe('done');
  });

  it('reports a folder its child left alone as skipped, and the set incomplete', () => {
    const report = finishReport(
      plan(),
      [backup],
      [summary(backup, { skipped: 'its folder holds a manifest.json again: left alone' })],
    );

    expect(report.targets[0]!.deletions[0]).toMatchObject({ outcome: 'skipped', objectsDeleted: 2 });
    expect(report.targets[0]!.status).toBe('incomplete');
    expect(report.totals.incompleteTargets).toBe(1);
  });

  it('refuses results that do not answer every folder once, in order', () => {
    expect(() => finishReport(plan(), [backup, remnant], [summary(remnant), summary(backup)])).toThrow(
      `result 0 is not for photos/${ID}`,
    );
    expect(() => finishReport(plan(), [backup], [])).toThrow('returned 0 result(s) for 1 folder(s)');
  });
});

describe('emptyFolderStep', () => {
  const store = { s3: new S3Client({}), bucket: 'backups', crypto: {} as BackupCrypto };
  const keys = Array.from(
    { length: 1500 },
    (_, i) => `${PREFIX}objects/000001/${String(i).padStart(6, '0')}`,
  );
  const deleted: string[] = [];

  beforeEach(() => {
    s3Mock.reset();
    deleted.length = 0;
    s3Mock.on(HeadObjectCommand).rejects(awsServiceError('NotFound', 'no manifest', 404));
    s3Mock.on(ListObjectsV2Command).callsFake((input) => {
      // The set's folders: only this one, whose manifest is gone (no sealed manifest references anything).
      if (input.Delimiter === '/') return { CommonPrefixes: [{ Prefix: PREFIX }] };
      if (input.Prefix === `${PREFIX}work/`) return { Contents: [] };
      const after = keys.filter(
        (k) => !deleted.includes(k) && (input.StartAfter === undefined || k > input.StartAfter),
      );
      const page = after.slice(0, input.MaxKeys ?? 1000);
      return { Contents: page.map((Key) => ({ Key, Size: 1 })), IsTruncated: after.length > page.length };
    });
    s3Mock.on(DeleteObjectsCommand).callsFake((input) => {
      deleted.push(...input.Delete.Objects.map((o: { Key: string }) => o.Key));
      return {};
    });
  });

  it('empties at least a page per call and continues after the cursor, adding the counts up', async () => {
    // Prepare: a budget spent from the start.
    const spent = () => budgetFrom({ remainingMs: 0, safetyMarginMs: 0 });
    const event = { set: 'photos', id: ID, kind: 'backup' as const, cursor: null };

    // Act
    const first = await emptyFolderStep(store, event, spent(), NOW);
    const second = await emptyFolderStep(
      store,
      { ...event, cursor: first.done ? null : first.cursor },
      spent(),
      NOW,
    );

    // Assess
    expect(first).toEqual({
      done: false,
      cursor: { startAfter: keys[999], objectsDeleted: 1000, objectsReferenced: 0, objectsUnmanaged: 0 },
    });
    expect(second).toEqual({
      done: true,
      summary: { set: 'photos', id: ID, objectsDeleted: 1500, objectsReferenced: 0, objectsUnmanaged: 0 },
    });
    expect(deleted).toEqual(keys);
  });

  it('leaves a folder alone whose manifest is back, deleting nothing', async () => {
    s3Mock.on(HeadObjectCommand).resolves({});

    const outcome = await emptyFolderStep(
      store,
      { set: 'photos', id: ID, kind: 'backup', cursor: null },
      budgetFrom({ remainingMs: 60_000 }),
      NOW,
    );

    expect(outcome).toEqual({
      done: true,
      summary: {
        set: 'photos',
        id: ID,
        objectsDeleted: 0,
        objectsReferenced: 0,
        objectsUnmanaged: 0,
        skipped: 'its folder holds a manifest.json again: left alone',
      },
    });
    expect(s3Mock.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });
});
