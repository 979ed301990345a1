import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../../../functions/common/runtime/errors.ts';
import { awsServiceError } from '../../../support/aws-errors.ts';
import { fakeContext } from '../../../support/lambda-context.ts';

const rdsMock = mockClient(RDSClient);
let handler: (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<any>;
const context = () => fakeContext('cleanup', 300_000);

beforeAll(async () => {
  Object.assign(process.env, {
    RDS_TARGETS: JSON.stringify([{ name: 'orders', identifier: 'orders-db', retention: 'daily' }]),
    RETENTION_POLICIES: JSON.stringify({ daily: { keepDaily: 7 } }),
  });
  ({ handler } = await import('../../../../functions/cleanup/handler.ts'));
});

beforeEach(() => {
  rdsMock.reset();
});

describe('cleanup handler', () => {
  it('refuses an unknown target and a bad time before listing anything', async () => {
    await expect(
      handler({ dryRun: true, targets: ['payments'], now: 'yesterday' }, context()),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(
        /targets\[0\]: expected a configured RDS target or backup set \(orders\).*now/s,
      ),
    });
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('refuses an event without dryRun instead of taking it for a real cleanup', async () => {
    // Act
    const outcome = handler({ targets: ['orders'] }, context());

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'ValidationError',
      problems: [{ path: 'dryRun', message: 'expected boolean, received nothing (the field is missing)' }],
    });
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('refuses a now override on a real run, since it would move the minAge floor', async () => {
    // Act
    const outcome = handler({ dryRun: false, now: '2099-01-01T00:00:00Z' }, context());

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'ValidationError',
      problems: [{ path: 'now', message: expect.stringMatching(/^allowed only with dryRun: true/) }],
    });
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('refuses a now override when dryRun is missing, naming both fields', async () => {
    // Act
    const outcome = handler({ now: '2099-01-01T00:00:00Z' }, context());

    // Assess
    const error: ValidationError = await outcome.catch((caught: ValidationError) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.problems.map((problem) => problem.path)).toEqual(['dryRun', 'now']);
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('refuses a folder step for a set that is not configured, naming the field, before any call', async () => {
    // Act
    const outcome = handler(
      { step: 'folder', set: 'photos', id: '20260101T020000Z-0000abcd', kind: 'backup', cursor: null },
      context(),
    );

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'ValidationError',
      problems: [{ path: 'set', message: 'expected a configured backup set (none configured)' }],
    });
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('plans a dry run as one call with no folders to fan out', async () => {
    // Prepare
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });

    // Act
    const planned = await handler({ step: 'plan', dryRun: true }, context());

    // Assess
    expect(planned).toMatchObject({
      report: { dryRun: true, targets: [{ name: 'orders', status: 'refused' }] },
      folders: [],
    });
  });

  it('plans a dry run as of the given now', async () => {
    // Prepare
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });

    // Act
    const report = await handler({ dryRun: true, now: '2027-03-01T03:00:00Z' }, context());

    // Assess
    expect(report).toMatchObject({ dryRun: true, now: '2027-03-01T03:00:00.000Z' });
  });

  it('rethrows a transient fault as itself so the flow retries the whole (idempotent) cleanup', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(awsServiceError('ThrottlingException', 'slow down'));

    await expect(handler({ dryRun: false }, context())).rejects.toMatchObject({ name: 'ThrottledError' });
  });

  it('reports a failed inventory in a dry run instead of throwing', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(awsServiceError('AccessDenied', 'not allowed', 403));

    const report = await handler({ dryRun: true }, context());

    expect(report).toMatchObject({
      dryRun: true,
      targets: [{ name: 'orders', status: 'failed', reason: 'not allowed' }],
      totals: { failedTargets: 1, deleted: 0 },
    });
  });

  it('fails a real run with a failed inventory as a permanent PreconditionFailedError naming the target', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(awsServiceError('AccessDenied', 'not allowed', 403));

    await expect(handler({ dryRun: false }, context())).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      message: 'Cleanup did not finish 1 target(s): orders (us-east-1) failed: not allowed',
    });
  });
});

describe('cleanup cold start', () => {
  it('refuses a retention policy with minKeep 0 in RETENTION_POLICIES before handling anything', async () => {
    // Prepare
    vi.resetModules();
    vi.stubEnv('RETENTION_POLICIES', JSON.stringify({ daily: { keepDaily: 7, minKeep: 0 } }));

    try {
      // Act
      const loading = import('../../../../functions/cleanup/handler.ts');

      // Assess
      await expect(loading).rejects.toMatchObject({
        name: 'ValidationError',
        problems: [{ path: 'daily.minKeep', message: expect.stringMatching(/^expected at least 1/) }],
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
