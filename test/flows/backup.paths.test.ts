/**
 * statemachines/backup.asl.json, path by path, with scripted functions: inline and fanned-out
 * copies (the Distributed Map reads its batch index from the sandbox's S3), loops over many calls,
 * a re-run of a finished backup, each Retry, each Catch (a failed step is reported once through
 * report, then the execution fails with its error; a failed verification likewise), and the same
 * run started by a parent flow, which reports nothing itself. The last test checks every Catch and
 * Retry rule of the file was exercised (Distributed Map iterations included).
 */

import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { findings } from '../../functions/report/findings.ts';
import { runRecordSchema } from '../../functions/report/run-record.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { flowHarness } from './support/flow-harness.ts';
import { fail } from './support/script-server.ts';
import { scriptedVerify } from './support/scripted-verify.ts';

const BUCKET = 'backups';
const flow = flowHarness(
  'backup.asl.json',
  {
    FlowInputFunctionArn: 'flow-input',
    BackupFunctionArn: 's3-backup',
    VerifyFunctionArn: 'backup-verify',
    ReportFunctionArn: 'report',
  },
  {
    BackupBucket: BUCKET,
    BackupMaxConcurrency: '2',
    BackupBatchesPerChild: '2',
    BackupInlineBatchLimit: '2',
  },
  { services: [s3Service] },
);

const PARENT = 'arn:aws:states:us-east-1:000000000000:execution:routine-maintenance:nightly';
const BACKUP_ID = '20261121T010000Z-0a1b2c3d';
const BATCH_INDEX = `backups/uploads/${BACKUP_ID}/work/batches.json`;

beforeAll(async () => {
  const s3 = new S3Client({});
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // Five batches: more than the inline limit of 2, so the Distributed Map copies them, two per child.
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: BATCH_INDEX,
      Body: JSON.stringify([0, 1, 2, 3, 4].map((batch) => ({ batch }))),
    }),
  );
});

const result = {
  set: 'uploads',
  backupId: BACKUP_ID,
  mode: 'incremental',
  totals: { objects: 3, bytes: 30, copiedObjects: 1, copiedBytes: 10 },
  durationMs: 1200,
  manifestKey: `backups/uploads/${BACKUP_ID}/manifest.json`,
};

/** A plan outcome: `batches` planned (done), or still planning. */
const planned = (batches: number) => ({
  done: true,
  batches,
  backupId: BACKUP_ID,
  bucket: BUCKET,
  batchIndexKey: BATCH_INDEX,
  mapResultsPrefix: `backups/uploads/${BACKUP_ID}/work/map`,
});

/** Every function doing its job in one call: a small set, copied inline, verified and reported. */
function scriptHappyPath(): void {
  flow.script.reset();
  flow.script
    .on('flow-input', (event) => {
      const input = event.input as Record<string, unknown>;
      const startedBy = input.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID;
      return {
        set: { name: input.set, sourceBucket: 'app', prefix: 'data/', mode: 'incremental', fullEvery: 7 },
        forceFull: false,
        verifySubset: 'all',
        backupId: input.backupId ?? null,
        timeBudgetMs: null,
        nested: startedBy !== undefined,
        startedBy: startedBy ?? null,
      };
    })
    .on('s3-backup', (event) => {
      if (event.step === 'plan') return planned(1);
      if (event.step === 'batches') return { done: true };
      return { done: true, result };
    })
    .on('backup-verify', scriptedVerify())
    .on('report', (event) => {
      const found = findings(runRecordSchema.parse(event));
      return { severity: found.severity, failures: found.failures.length };
    });
}

const steps = () => flow.script.eventsOf('s3-backup').map((event) => event.step);
const reported = () => flow.script.eventsOf('report').map((event) => runRecordSchema.parse(event));

describe.sequential('backup flow paths', () => {
  it('copies a small set inline, verifies it and reports it', async () => {
    scriptHappyPath();

    const run = await flow.run({ set: 'uploads' });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual([
      'ValidateInput',
      'Tuning',
      'Plan',
      'Planned?',
      'CopyInline',
      'CopiedInline?',
      'InlineDone',
      'Verify',
      'VerifyParts',
      'VerifyFinish',
      'DescribeVerified',
      'ReportVerified?',
      'Report',
    ]);
    expect(run.output).toEqual({
      backup: result,
      entry: {
        set: 'uploads',
        status: 'succeeded',
        backupId: BACKUP_ID,
        mode: 'incremental',
        objects: 3,
        bytes: 30,
        copiedObjects: 1,
        copiedBytes: 10,
        durationMs: 1200,
        location: `s3://${BUCKET}/backups/uploads/${BACKUP_ID}/manifest.json`,
        verification: { ok: true, subset: 'all', objectsChecked: 4 },
      },
    });
    expect(reported()).toEqual([expect.objectContaining({ flow: 'Backup', backups: [run.output!.entry] })]);
  });

  it('started by a parent flow, ends with its report entry and reports nothing itself', async () => {
    scriptHappyPath();

    const run = await flow.run({ set: 'uploads', AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: PARENT });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states.slice(-2)).toEqual(['ReportVerified?', 'BackedUp']);
    expect(run.output).toMatchObject({ backup: result, entry: { set: 'uploads', status: 'succeeded' } });
    expect(flow.script.eventsOf('report')).toEqual([]);
  });

  it('loops planning, copying and verifying call by call until each says done', async () => {
    scriptHappyPath();
    flow.script
      .on('s3-backup', (event, call) => {
        if (event.step === 'plan') return call < 2 ? { done: false } : planned(2);
        const runs = steps().filter((step) => step === 'run').length;
        return runs < 3 ? { done: false } : { done: true, result };
      })
      .on('backup-verify', scriptedVerify(2, 3));

    const run = await flow.run({ set: 'uploads' });
    const ranges = flow.script.eventsOf('backup-verify').filter((event) => event.step === 'range');

    expect(run.status).toBe('SUCCEEDED');
    expect(steps()).toEqual(['plan', 'plan', 'plan', 'run', 'run', 'run']);
    expect(
      ranges.map((event) => [event.from, (event.cursor as { calls?: number } | null)?.calls ?? null]).sort(),
    ).toEqual([
      [0, null],
      [0, 1],
      [0, 2],
      [1, null],
      [1, 1],
      [1, 2],
    ]);
    expect(flow.script.eventsOf('backup-verify').at(-1)).toMatchObject({
      step: 'finish',
      results: [{ from: 0 }, { from: 1 }],
    });
    expect(run.output?.entry).toMatchObject({ verification: { ok: true, objectsChecked: 4 } });
  });

  it('fans many batches out over the Distributed Map, two per child, then finalizes', async () => {
    scriptHappyPath();
    flow.script.on('s3-backup', (event, call) => {
      if (event.step === 'plan') return planned(5);
      if (event.step === 'batches') return { done: true };
      return call < 8 ? { done: false } : { done: true, result };
    });

    const run = await flow.run({ set: 'uploads' });
    const batches = flow.script
      .eventsOf('s3-backup')
      .filter((event) => event.step === 'batches')
      .map((event) => event.batches);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toEqual(
      expect.arrayContaining(['CopyBatches', 'Finalize', 'Finalized?', 'FanOutDone']),
    );
    expect(run.states).not.toContain('CopyInline');
    expect(batches.flat().sort()).toEqual([0, 1, 2, 3, 4]);
    expect(batches.map((group) => (group as number[]).length).sort()).toEqual([1, 2, 2]);
  });

  it('verifies the existing backup when started again for a finished backup id', async () => {
    scriptHappyPath();
    flow.script.on('s3-backup', () => ({ done: true, result }));

    const run = await flow.run({ set: 'uploads', backupId: BACKUP_ID });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toContain('AlreadyDone');
    expect(steps()).toEqual(['plan']);
    expect(run.output?.backup).toEqual(result);
  });

  it('retries a throttled input check, plan, copy, batch copy, finalize, verify and report', async () => {
    scriptHappyPath();
    const failedOnce = new Set<string>();
    const onceThen = (key: string, then: () => unknown) => {
      if (failedOnce.has(key)) return then();
      failedOnce.add(key);
      return fail(key.endsWith('busy') ? 'ResourceBusyError' : 'ThrottledError');
    };
    flow.script
      .on('flow-input', (event) =>
        onceThen('input', () => plannedInput(event.input as Record<string, unknown>)),
      )
      .on('s3-backup', (event) => {
        const step = String(event.step);
        if (step === 'plan') return onceThen('plan', () => planned(5));
        if (step === 'batches') return onceThen(`batches busy`, () => ({ done: true }));
        return onceThen('finalize', () => ({ done: true, result }));
      })
      .on('backup-verify', (event) => onceThen(`verify ${event.step}`, () => scriptedVerify(1)(event)))
      .on('report', () => onceThen('report', () => ({ severity: 'info', failures: 0 })));

    const fanned = await flow.run({ set: 'uploads' });
    failedOnce.clear();
    flow.script.on('s3-backup', (event) =>
      event.step === 'plan' ? planned(1) : onceThen('run', () => ({ done: true, result })),
    );
    const inline = await flow.run({ set: 'uploads' });

    expect(fanned.status).toBe('SUCCEEDED');
    expect(inline.status).toBe('SUCCEEDED');
    expect(steps().filter((step) => step === 'run')).toEqual(['run', 'run']);
  });

  it("reports a failed plan once through report, then fails with the step's error", async () => {
    scriptHappyPath();
    flow.script.on('s3-backup', () => fail('NotFoundError', 'The source bucket app does not exist'));

    const run = await flow.run({ set: 'uploads' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('NotFoundError');
    expect(run.states.slice(-4)).toEqual([
      'DescribeFailure',
      'ReportFailure?',
      'ReportFailure',
      'BackupFailed',
    ]);
    const [record] = reported();
    expect(record).toMatchObject({
      flow: 'Backup',
      executionArn: run.executionArn,
      backups: [{ set: 'uploads', status: 'failed', error: { name: 'NotFoundError' } }],
    });
    expect(findings(record!).failures.map((f) => f.what)).toEqual([
      'Backup of uploads failed: NotFoundError: The source bucket app does not exist',
    ]);
  });

  it('reports a failed inline copy and a failed finalize the same way', async () => {
    scriptHappyPath();
    flow.script.on('s3-backup', (event) =>
      event.step === 'plan' ? planned(1) : fail('AccessDeniedError', 'kms:GenerateDataKey denied'),
    );
    const inline = await flow.run({ set: 'uploads' });
    flow.script.on('s3-backup', (event) => {
      if (event.step === 'plan') return planned(5);
      if (event.step === 'batches') return { done: true };
      return fail('IntegrityError', 'part 3 is missing');
    });
    const finalize = await flow.run({ set: 'uploads' });

    expect([inline.error, finalize.error]).toEqual(['AccessDeniedError', 'IntegrityError']);
    expect(inline.states).toContain('CopyInline');
    expect(finalize.states).toContain('Finalize');
    expect(reported().map((record) => record.backups[0]!.error!.name)).toEqual([
      'AccessDeniedError',
      'IntegrityError',
    ]);
  });

  it('reports a fan-out whose child failed, and fails', async () => {
    scriptHappyPath();
    flow.script.on('s3-backup', (event) =>
      event.step === 'plan' ? planned(5) : fail('AccessDeniedError', 'cannot read app/data/'),
    );

    const run = await flow.run({ set: 'uploads' });

    expect(run.status).toBe('FAILED');
    expect(run.states).toEqual(expect.arrayContaining(['CopyBatches', 'DescribeFailure', 'ReportFailure']));
    expect(reported()).toHaveLength(1);
  });

  it('reports a backup that fails verification (its plan or its finish), then fails', async () => {
    scriptHappyPath();
    flow.script.on('backup-verify', () => fail('IntegrityError', 'data/a.txt: SHA-256 does not match'));
    const first = await flow.run({ set: 'uploads' });
    flow.script.on('backup-verify', (event) =>
      event.step === 'finish'
        ? fail('IntegrityError', 'data/b.txt: SHA-256 does not match')
        : scriptedVerify(3)(event),
    );
    const later = await flow.run({ set: 'uploads' });

    expect([first.error, later.error]).toEqual(['IntegrityError', 'IntegrityError']);
    expect(first.states.slice(-5)).toEqual([
      'Verify',
      'DescribeUnverified',
      'ReportUnverified?',
      'ReportUnverified',
      'VerificationFailed',
    ]);
    expect(later.states).toEqual(
      expect.arrayContaining(['VerifyParts', 'VerifyFinish', 'DescribeUnverified']),
    );
    expect(reported().map((record) => record.backups[0]!.verification)).toEqual([
      {
        ok: false,
        subset: 'all',
        error: { name: 'IntegrityError', message: expect.stringContaining('a.txt') },
      },
      {
        ok: false,
        subset: 'all',
        error: { name: 'IntegrityError', message: expect.stringContaining('b.txt') },
      },
    ]);
  });

  it('reports a verification whose range could not be verified (an error after its retries), then fails', async () => {
    scriptHappyPath();
    flow.script.on('backup-verify', (event) =>
      event.step === 'range' && event.from === 1
        ? fail('AccessDeniedError', 'KMS refused to decrypt data/k.txt')
        : scriptedVerify(2)(event),
    );

    const run = await flow.run({ set: 'uploads' });

    expect(run.status).toBe('FAILED');
    expect(run.states.slice(-5)).toEqual([
      'VerifyParts',
      'DescribeUnverified',
      'ReportUnverified?',
      'ReportUnverified',
      'VerificationFailed',
    ]);
    expect(flow.script.eventsOf('backup-verify').map((event) => event.step)).not.toContain('finish');
    expect(reported()[0]!.backups[0]!.verification).toMatchObject({ ok: false, error: { name: run.error } });
  });

  it('started by a parent, fails with the error of a failed step or verification without reporting', async () => {
    scriptHappyPath();
    flow.script.on('backup-verify', () => fail('IntegrityError', 'data/a.txt: SHA-256 does not match'));
    const unverified = await flow.run({ set: 'uploads', AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: PARENT });
    flow.script.on('s3-backup', () => fail('NotFoundError', 'The source bucket app does not exist'));
    const failed = await flow.run({ set: 'uploads', AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: PARENT });

    expect([unverified.error, failed.error]).toEqual(['IntegrityError', 'NotFoundError']);
    expect(unverified.states.slice(-2)).toEqual(['ReportUnverified?', 'VerificationFailed']);
    expect(failed.states.slice(-2)).toEqual(['ReportFailure?', 'BackupFailed']);
    expect(flow.script.eventsOf('report')).toEqual([]);
  });

  it('retries a report that could not be written on the verification-failed and the failure paths', async () => {
    scriptHappyPath();
    flow.script
      .on('backup-verify', () => fail('IntegrityError', 'data/a.txt: SHA-256 does not match'))
      .on('report', (_event, call) => (call % 2 === 0 ? fail('NetworkError') : { severity: 'critical' }));
    const unverified = await flow.run({ set: 'uploads' });
    flow.script.on('s3-backup', () => fail('NotFoundError', 'gone'));
    const failed = await flow.run({ set: 'uploads' });

    expect([unverified.error, failed.error]).toEqual(['IntegrityError', 'NotFoundError']);
    expect(flow.script.eventsOf('report')).toHaveLength(4);
  });

  it('stops at the first state when the input is invalid, running nothing else', async () => {
    scriptHappyPath();
    flow.script.on('flow-input', () => fail('ValidationError', 'Invalid Backup input: set: expected string'));

    const run = await flow.run({});

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('ValidationError');
    expect(run.states).toEqual(['ValidateInput']);
  });

  it('has exercised every Catch and Retry rule of the file', () => {
    expect(flow.untriedCatches()).toEqual([]);
    expect(flow.untriedRetries()).toEqual([]);
  });
});

/** The plan flow-input makes for `input` (not nested). */
function plannedInput(input: Record<string, unknown>) {
  return {
    set: { name: input.set, sourceBucket: 'app', prefix: 'data/', mode: 'incremental', fullEvery: 7 },
    forceFull: false,
    verifySubset: 'all',
    backupId: null,
    timeBudgetMs: null,
    nested: false,
    startedBy: null,
  };
}
