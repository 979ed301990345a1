import { describe, expect, it } from 'vitest';
import {
  BatchBuilder,
  chooseMode,
  decideItem,
  diffListing,
  type PlanItem,
} from '../../../../../functions/common/backup/plan.ts';
import type { ListedObject } from '../../../../../functions/common/backup/s3-io.ts';
import { entry, KEY_ARN, manifest } from './fixtures.ts';

function listed(key: string, etag: string, size: number): ListedObject {
  return { key, etag, size, lastModified: '2026-01-02T00:00:00.000Z' };
}

const request = {
  mode: 'incremental',
  fullEvery: 3,
  sourceBucket: 'source-bucket',
  prefix: 'docs/',
  keyArn: KEY_ARN,
} as const;

describe('decideItem', () => {
  it('reuses the parent copy when key, ETag and size are unchanged', () => {
    const parent = entry('docs/a', { etag: 'e1', size: 4 });

    expect(decideItem(listed('docs/a', 'e1', 4), parent)).toEqual({ action: 'reuse', entry: parent });
  });

  it.each([
    ['the ETag changed', listed('docs/a', 'e2', 4)],
    ['the size changed', listed('docs/a', 'e1', 5)],
  ])('copies when %s', (_why, object) => {
    expect(decideItem(object, entry('docs/a', { etag: 'e1', size: 4 })).action).toBe('copy');
  });

  it('copies a new object', () => {
    expect(decideItem(listed('docs/new', 'e', 1), undefined)).toMatchObject({
      action: 'copy',
      key: 'docs/new',
      size: 1,
    });
  });
});

describe('diffListing', () => {
  it('copies added and changed objects, reuses unchanged ones and drops deleted ones', () => {
    const parent = [
      entry('docs/changed', { etag: 'old' }),
      entry('docs/deleted'),
      entry('docs/same', { etag: 'same', size: 8 }),
    ];
    const listing = [
      listed('docs/added', 'a', 1),
      listed('docs/changed', 'new', 11),
      listed('docs/same', 'same', 8),
    ];

    const diff = diffListing(listing, parent);

    expect(
      diff.items.map((item) => [item.action, item.action === 'copy' ? item.key : item.entry.key]),
    ).toEqual([
      ['copy', 'docs/added'],
      ['copy', 'docs/changed'],
      ['reuse', 'docs/same'],
    ]);
    expect(diff.deleted).toEqual(['docs/deleted']);
  });

  it('keeps the stored copy reference of a reused object (which may be under an earlier backup)', () => {
    const older = entry('docs/same', {
      storedBackupId: '20251201T000000Z-cccccccc',
      storedKey: 'backups/docs/old/objects/1',
    });

    const diff = diffListing([listed('docs/same', older.etag, older.size)], [older]);

    expect(diff.items[0]).toEqual({ action: 'reuse', entry: older });
  });
});

describe('chooseMode', () => {
  it('takes a full backup when there is no parent', () => {
    expect(chooseMode(request, undefined)).toMatchObject({
      mode: 'full',
      reason: expect.stringMatching(/no earlier/),
    });
  });

  it('takes an incremental onto a compatible parent within fullEvery', () => {
    expect(
      chooseMode(request, manifest({ chain: { fullBackupId: '20260101T000000Z-aaaaaaaa', depth: 2 } })),
    ).toMatchObject({
      mode: 'incremental',
      reason: expect.stringMatching(/incremental 3 of 3/),
    });
  });

  it('takes a full backup after fullEvery incrementals', () => {
    const parent = manifest({ chain: { fullBackupId: '20260101T000000Z-aaaaaaaa', depth: 3 } });

    expect(chooseMode(request, parent).mode).toBe('full');
  });

  it.each([
    ['the set is configured for full backups', { ...request, mode: 'full' as const }],
    ['the source prefix changed', { ...request, prefix: 'other/' }],
    ['the source bucket changed', { ...request, sourceBucket: 'other-bucket' }],
    ['the key changed', { ...request, keyArn: KEY_ARN.replace('1234abcd', 'ffffffff') }],
  ])('takes a full backup when %s', (_why, changed) => {
    expect(chooseMode(changed, manifest()).mode).toBe('full');
  });
});

describe('BatchBuilder', () => {
  const copy = (key: string, size: number): PlanItem => ({
    action: 'copy',
    key,
    size,
    etag: 'e',
    lastModified: '',
  });

  it('closes a batch at the item limit', () => {
    const builder = new BatchBuilder({ maxItems: 2, maxCopyBytes: 1000 });
    builder.add(copy('a', 1));
    builder.add(copy('b', 1));

    expect(builder.wouldOverflow(copy('c', 1))).toBe(true);
    expect(builder.take().map((item) => (item.action === 'copy' ? item.key : ''))).toEqual(['a', 'b']);
    expect(builder.size).toBe(0);
  });

  it('closes a batch at the byte limit, but always takes at least one object', () => {
    const builder = new BatchBuilder({ maxItems: 100, maxCopyBytes: 10 });

    expect(builder.wouldOverflow(copy('huge', 50))).toBe(false);
    builder.add(copy('huge', 50));
    expect(builder.wouldOverflow(copy('small', 1))).toBe(true);
  });

  it('does not count reused objects against the byte limit', () => {
    const builder = new BatchBuilder({ maxItems: 100, maxCopyBytes: 10 });
    builder.add(copy('a', 10));

    expect(builder.wouldOverflow({ action: 'reuse', entry: entry('docs/b', { size: 1000 }) })).toBe(false);
    expect(builder.lastKey).toBe('a');
  });
});
