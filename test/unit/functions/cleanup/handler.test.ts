import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
    await expect(handler({ targets: ['payments'], now: 'yesterday' }, context())).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(
        /targets\[0\]: expected a configured RDS target or backup set \(orders\).*now/s,
      ),
    });
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('rethrows a transient fault as itself so the flow retries the whole (idempotent) cleanup', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).rejects(awsServiceError('ThrottlingException', 'slow down'));

    await expect(handler({}, context())).rejects.toMatchObject({ name: 'ThrottledError' });
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

    await expect(handler({}, context())).rejects.toMatchObject({
      name: 'PreconditionFailedError',
      message: 'Cleanup did not finish 1 target(s): orders (us-east-1) failed: not allowed',
    });
  });
});
