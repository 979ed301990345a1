import {
  DeleteObjectsCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { deleteFolder, TAG_CHECK_CONCURRENCY } from '../../../../functions/cleanup/backup-delete.ts';
import { awsServiceError } from '../../../support/aws-errors.ts';

const s3Mock = mockClient(S3Client);
const BUCKET = 'backups';
const ID = '20260101T020000Z-0000abcd';
const PREFIX = `backups/photos/${ID}/`;
const key = (i: number) => `${PREFIX}objects/000001/${String(i).padStart(6, '0')}`;
const FAR = { dryRun: false, deadline: Number.MAX_SAFE_INTEGER };

/** A remnant of `count` objects; `unmanaged` keys carry no caretaker:managed tag. Tags answer after a few ms. */
function remnant(count: number, unmanaged: ReadonlySet<string>) {
  const keys = Array.from({ length: count }, (_, i) => key(i));
  const state = { inFlight: 0, maxInFlight: 0, deleted: [] as string[][] };
  s3Mock.on(ListObjectsV2Command).callsFake((input) => {
    const after = keys.filter((k) => input.StartAfter === undefined || k > input.StartAfter);
    const page = after.slice(0, input.MaxKeys ?? 1000);
    return { Contents: page.map((Key) => ({ Key, Size: 1 })), IsTruncated: after.length > page.length };
  });
  s3Mock.on(GetObjectTaggingCommand).callsFake(async (input) => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 2));
    state.inFlight--;
    if (!keys.includes(input.Key)) throw awsServiceError('NoSuchKey', 'gone', 404);
    return { TagSet: unmanaged.has(input.Key) ? [] : [{ Key: 'caretaker:managed', Value: 'true' }] };
  });
  s3Mock.on(DeleteObjectsCommand).callsFake((input) => {
    state.deleted.push(input.Delete.Objects.map((o: { Key: string }) => o.Key));
    return {};
  });
  return state;
}

beforeEach(() => s3Mock.reset());

describe('deleteFolder on a remnant', () => {
  it('deletes only the managed, unreferenced objects, in listing order, and keeps the unmanaged ones', async () => {
    // Prepare
    const unmanaged = new Set([key(3), key(1500)]);
    const referenced = new Set([key(7)]);
    const state = remnant(2000, unmanaged);

    // Act
    const result = await deleteFolder(new S3Client({}), BUCKET, 'photos', ID, referenced, false, FAR);

    // Assess
    const expected = Array.from({ length: 2000 }, (_, i) => key(i)).filter(
      (k) => !unmanaged.has(k) && !referenced.has(k),
    );
    expect(state.deleted.flat()).toEqual(expected);
    expect(state.deleted.map((batch) => batch.length)).toEqual([998, 999]);
    expect(result).toEqual({
      objectsDeleted: 1997,
      objectsReferenced: 1,
      objectsUnmanaged: 2,
      partial: false,
    });
  });

  it('reads the tags of a page several at a time, never more than the bound', async () => {
    // Prepare
    const state = remnant(200, new Set());

    // Act
    await deleteFolder(new S3Client({}), BUCKET, 'photos', ID, new Set(), false, FAR);

    // Assess
    expect(state.maxInFlight).toBe(TAG_CHECK_CONCURRENCY);
    expect(s3Mock.commandCalls(GetObjectTaggingCommand)).toHaveLength(200);
  });

  it('counts an object gone before its tag was read as neither deleted nor unmanaged', async () => {
    // Prepare
    const state = remnant(3, new Set());
    s3Mock.on(GetObjectTaggingCommand, { Key: key(1) }).rejects(awsServiceError('NoSuchKey', 'gone', 404));

    // Act
    const result = await deleteFolder(new S3Client({}), BUCKET, 'photos', ID, new Set(), false, FAR);

    // Assess
    expect(state.deleted.flat()).toEqual([key(0), key(2)]);
    expect(result).toMatchObject({ objectsDeleted: 2, objectsUnmanaged: 0 });
  });

  it('deletes nothing in a dry run, and counts what would go', async () => {
    // Prepare
    const state = remnant(5, new Set([key(0)]));

    // Act
    const result = await deleteFolder(new S3Client({}), BUCKET, 'photos', ID, new Set(), false, {
      ...FAR,
      dryRun: true,
    });

    // Assess
    expect(state.deleted).toEqual([]);
    expect(result).toMatchObject({ objectsDeleted: 4, objectsUnmanaged: 1 });
  });

  it('stops before a page once the deadline has passed, reporting the folder partial', async () => {
    // Prepare
    const state = remnant(5, new Set());

    // Act
    const result = await deleteFolder(new S3Client({}), BUCKET, 'photos', ID, new Set(), false, {
      dryRun: false,
      deadline: Date.now() - 1,
    });

    // Assess
    expect(result.partial).toBe(true);
    expect(state.deleted).toEqual([]);
  });
});
