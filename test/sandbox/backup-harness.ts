/**
 * Shared setup for the backup integration tests: a sandbox with S3 and KMS, a stack key, a
 * source bucket and a backup bucket, the backup functions' environment, and helpers to fill,
 * read and tamper with buckets. Not a test file itself.
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll } from 'vitest';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { fakeContext } from '../support/lambda-context.ts';
import { withSandbox } from '../support/sandbox.ts';

export interface BackupWorld {
  readonly s3: S3Client;
  readonly kms: KMSClient;
  readonly keyArn: string;
  readonly backupBucket: string;
  /** A fresh bucket for each call. */
  newBucket(prefix?: string): Promise<string>;
  /** Creates another KMS key (for wrong-key cases). */
  newKey(): Promise<string>;
}

let bucketCount = 0;

/** Starts S3 + KMS for the file and sets the backup functions' environment before they load. */
export function withBackupSandbox(env: Record<string, string> = {}): { world: () => BackupWorld } {
  withSandbox([s3Service, kmsService]);
  let world: BackupWorld | undefined;
  beforeAll(async () => {
    const s3 = new S3Client({});
    const kms = new KMSClient({});
    const newKey = async () => (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const newBucket = async (prefix = 'bucket') => {
      const Bucket = `${prefix}-${++bucketCount}`;
      await s3.send(new CreateBucketCommand({ Bucket }));
      return Bucket;
    };
    const keyArn = await newKey();
    const backupBucket = await newBucket('backups');
    Object.assign(process.env, {
      BACKUP_BUCKET: backupBucket,
      BACKUP_KEY_ARN: keyArn,
      CARETAKER_STACK: 'caretaker-test',
      BACKUP_SAFETY_MARGIN_MS: '1000',
      ...env,
    });
    world = { s3, kms, keyArn, backupBucket, newBucket, newKey };
  });
  return {
    world: () => {
      if (!world) throw new Error('The backup sandbox is not ready (use it inside tests or hooks)');
      return world;
    },
  };
}

/** Writes objects (key → body) into a bucket. */
export async function putObjects(
  s3: S3Client,
  bucket: string,
  objects: Record<string, Buffer | string>,
): Promise<void> {
  await Promise.all(
    Object.entries(objects).map(([Key, Body]) =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body })),
    ),
  );
}

/** Every object under a prefix as key → bytes. */
export async function readAll(s3: S3Client, bucket: string, prefix = ''): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }));
      out.set(object.Key!, Buffer.from(await got.Body!.transformToByteArray()));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Keys under a prefix. */
export async function listKeys(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  return [...(await readAll(s3, bucket, prefix)).keys()];
}

/** A Lambda context with a long deadline. */
export function context() {
  return fakeContext('backup-test', 600_000);
}

/** Calls a resumable handler with the same event until it reports `done`; returns every result. */
export async function untilDone<R extends { done: boolean }>(
  call: (previous: R | undefined) => Promise<R>,
  maxCalls = 1000,
): Promise<{ last: R; calls: number }> {
  let previous: R | undefined;
  for (let calls = 1; calls <= maxCalls; calls++) {
    previous = await call(previous);
    if (previous.done) return { last: previous, calls };
  }
  throw new Error(`still not done after ${maxCalls} calls`);
}

/** A Caretaker handler as these tests call it. */
export type Handler = (
  event: unknown,
  context: ReturnType<typeof import('./backup-harness.ts').context>,
) => Promise<any>;

/** A handler imported on its first call: after the sandbox hooks set the env it reads at module scope. */
function lazyHandler(load: () => Promise<{ handler: unknown }>): Handler {
  let handler: Handler | undefined;
  return async (event, ctx) => {
    handler ??= (await load()).handler as Handler;
    return handler(event, ctx);
  };
}

/** The real backup handlers. */
export const backup = lazyHandler(() => import('../../functions/s3-backup/handler.ts'));
export const verify = lazyHandler(() => import('../../functions/backup-verify/handler.ts'));
export const restore = lazyHandler(() => import('../../functions/backup-restore/handler.ts'));

/**
 * A fanned-out verification as the flows run it (statemachines/backup.asl.json, VerifyParts):
 * `plan`, then every range call after call (in parallel, as the Distributed Map's children), then
 * `finish` with the ranges' summaries in item order. Returns the finish result and what it took.
 */
export async function verifyFannedOut(
  event: { set: string; backupId?: string; subset?: string; partsPerItem?: number },
  options: { timeBudgetMs?: number } = {},
): Promise<{ result: any; plan: any; rangeCalls: number }> {
  const plan = await verify({ step: 'plan', executionId: 'fan-out', ...event }, context());
  let rangeCalls = 0;
  const results = await Promise.all(
    plan.items.map(async (item: { from: number; to: number }) => {
      const { last, calls } = await untilDone((previous: any) =>
        verify(
          {
            step: 'range',
            set: plan.set,
            backupId: plan.backupId,
            subset: plan.subset,
            manifestSha256: plan.manifestSha256,
            from: item.from,
            to: item.to,
            cursor: previous?.cursor ?? null,
            executionId: 'fan-out',
            ...(options.timeBudgetMs === undefined ? {} : { timeBudgetMs: options.timeBudgetMs }),
          },
          context(),
        ),
      );
      rangeCalls += calls;
      return last.summary;
    }),
  );
  const result = await verify(
    {
      step: 'finish',
      set: plan.set,
      backupId: plan.backupId,
      subset: plan.subset,
      manifestSha256: plan.manifestSha256,
      startedAt: plan.startedAt,
      chainLinks: plan.chainLinks,
      results,
      executionId: 'fan-out',
    },
    context(),
  );
  return { result, plan, rangeCalls };
}

/** What a fanned-out restore did: its result, or the error it failed with, and the calls it took. */
export interface FannedOutRestore {
  readonly plan: any;
  readonly result?: any;
  readonly failure?: any;
  readonly calls: Record<string, number>;
}

/**
 * A fanned-out restore as the DisasterRecovery flow runs it (statemachines/disaster-recovery.asl.json,
 * RestoreBackups): `plan`; every range verified, call after call, in parallel (VerifyRestoreParts);
 * `rollback-point` until done; every range restored (RestoreParts); `finish`. When a range fails,
 * the others are let finish (the Wait for aborted calls), every range is rolled back
 * (RollbackParts) and `rolled-back` throws. `hooks` act between the steps (a writer, a tamperer).
 */
export async function restoreFannedOut(
  event: {
    set: string;
    backupId?: string;
    targetBucket: string;
    targetPrefix: string;
    prefix?: string;
    partsPerItem?: number;
  },
  options: {
    executionId?: string;
    startedAt?: string;
    timeBudgetMs?: number;
    afterVerify?: () => Promise<void>;
    beforeRollback?: () => Promise<void>;
  } = {},
): Promise<FannedOutRestore> {
  const execution = {
    executionId: options.executionId ?? 'fan-out-restore',
    startedAt: options.startedAt ?? '2026-04-01T05:00:00.000Z',
  };
  const budget = options.timeBudgetMs === undefined ? {} : { timeBudgetMs: options.timeBudgetMs };
  const calls: Record<string, number> = {};
  const call = (payload: Record<string, unknown>) => {
    calls[payload.action as string] = (calls[payload.action as string] ?? 0) + 1;
    return restore(payload, context());
  };
  const plan = await call({ action: 'plan', ...event, ...execution });
  const planned = {
    set: plan.set,
    backupId: plan.backupId,
    manifestSha256: plan.manifestSha256,
    ...(plan.prefix === undefined ? {} : { prefix: plan.prefix }),
  };
  const target = { targetBucket: plan.targetBucket, targetPrefix: plan.targetPrefix };
  const eachRange = (action: string, extra: Record<string, unknown>) =>
    plan.items.map(async (item: { from: number; to: number }) => {
      const { last } = await untilDone((previous: any) =>
        call({ action, ...planned, ...extra, ...item, cursor: previous?.cursor ?? null, ...budget }),
      );
      return last.summary;
    });
  try {
    const verified = await Promise.all(eachRange('verify-range', { executionId: execution.executionId }));
    await options.afterVerify?.();
    await untilDone(() =>
      call({ action: 'rollback-point', ...planned, ...target, ...execution, verified, ...budget }),
    );
  } catch (failure) {
    // Nothing was written: the flow fails here, with no rollback.
    return { plan, failure, calls };
  }
  const restoring = await Promise.allSettled(eachRange('restore-range', { ...target, ...execution }));
  const failed = restoring.find((outcome) => outcome.status === 'rejected');
  let failure: { Error: string; Cause: string } | undefined;
  if (failed) {
    // A failed child fails the Map (its own error does not reach the flow).
    failure = {
      Error: 'States.ExceedToleratedFailureThreshold',
      Cause: String((failed as PromiseRejectedResult).reason),
    };
  } else {
    const results = restoring.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value);
    try {
      const result = await call({
        action: 'finish',
        ...planned,
        ...target,
        ...execution,
        plannedAt: plan.plannedAt,
        results,
      });
      return { plan, result, calls };
    } catch (error) {
      failure = { Error: (error as Error).name, Cause: (error as Error).message };
    }
  }
  await options.beforeRollback?.();
  let results: unknown[] | null = null;
  let rollbackFailure: { Error: string; Cause: string } | null = null;
  try {
    results = await Promise.all(eachRange('rollback-range', { ...target, ...execution }));
  } catch (error) {
    rollbackFailure = { Error: 'States.ExceedToleratedFailureThreshold', Cause: (error as Error).message };
  }
  try {
    await call({
      action: 'rolled-back',
      set: plan.set,
      backupId: plan.backupId,
      ...target,
      ...execution,
      parts: plan.parts,
      failure,
      results,
      rollbackFailure,
    });
  } catch (error) {
    return { plan, failure: error, calls };
  }
  throw new Error('rolled-back returned instead of failing');
}
