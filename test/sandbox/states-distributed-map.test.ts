/**
 * Distributed Map in the sandbox, with its AWS meaning: items from S3 (listing, JSON, CSV),
 * batches with BatchInput, child executions, tolerated failures and results written to S3.
 */
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeMapRunCommand,
  ListExecutionsCommand,
  ListMapRunsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LambdaService } from '../../sandbox/services/lambda/index.ts';
import { lambdaService } from '../../sandbox/services/lambda/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { statesService } from '../../sandbox/services/states/index.ts';
import { createMachine, historyOf, run } from '../fixtures/statemachines/harness.ts';
import { withSandbox } from '../support/sandbox.ts';

const handler = (name: string) =>
  fileURLToPath(new URL(`../fixtures/statemachines/handlers/${name}.ts`, import.meta.url));

const sandbox = withSandbox([s3Service, lambdaService, statesService], {
  settings: { lambda: { environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } } },
});

let sfn: SFNClient;
let s3: S3Client;
const BUCKET = 'caretaker-dmap';

async function readJson(key: string): Promise<unknown> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return JSON.parse((await object.Body?.transformToString()) ?? 'null');
}

beforeAll(async () => {
  const lambda = sandbox.sandbox.context.service<LambdaService>('lambda');
  lambda?.register({ name: 'batch', modulePath: handler('batch') });
  lambda?.register({ name: 'echo', modulePath: handler('echo') });
  sfn = new SFNClient({});
  s3 = new S3Client({});
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const objects: Record<string, string> = {
    'set-a/one.bin': '1',
    'set-a/two.bin': '22',
    'set-a/three.bin': '333',
    'set-a/four.bin': '4444',
    'set-a/five-bad.bin': '55555',
    'set-a/six.bin': '666666',
    'elsewhere/seven.bin': '7',
  };
  for (const [Key, Body] of Object.entries(objects)) {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
  }
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'inputs/targets.json',
      Body: JSON.stringify([{ name: 'orders' }, { name: 'billing' }, { name: 'users' }, { name: 'ignored' }]),
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'inputs/targets.csv',
      Body: 'name,region\norders,eu-west-1\n"billing, legacy",us-east-1\n',
    }),
  );
});

describe('Distributed Map', () => {
  it('verifies a listing in batches, tolerates failures below the threshold and writes results to S3', async () => {
    const arn = await createMachine(sfn, 'distributed-map.asl.json', 'dmap-tolerated');

    const result = await run(sfn, arn, { bucket: BUCKET, prefix: 'set-a/', tag: 'nightly', tolerated: 50 });
    const output = JSON.parse(result.output ?? '{}');
    const manifest = (await readJson(output.verification.ResultWriterDetails.Key)) as {
      DestinationBucket: string;
      MapRunArn: string;
      ResultFiles: Record<string, { Key: string; Size: number }[]>;
    };
    const succeeded = (await readJson(manifest.ResultFiles.SUCCEEDED?.[0]?.Key ?? '')) as Record<
      string,
      string
    >[];
    const failed = (await readJson(manifest.ResultFiles.FAILED?.[0]?.Key ?? '')) as Record<string, string>[];

    expect(result.status).toBe('SUCCEEDED');
    expect(output.verification.MapRunArn).toMatch(
      /^arn:aws:states:us-east-1:000000000000:mapRun:dmap-tolerated\/Verify:[0-9a-f-]{36}$/,
    );
    expect(output.verification.ResultWriterDetails).toEqual({
      Bucket: BUCKET,
      Key: `map-results/${output.verification.MapRunArn.split(':').at(-1)}/manifest.json`,
    });
    expect(manifest.DestinationBucket).toBe(BUCKET);
    expect(manifest.MapRunArn).toBe(output.verification.MapRunArn);
    expect(succeeded).toHaveLength(2);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ Status: 'FAILED', Error: 'IntegrityError' });
    const outputs = succeeded.map((entry) => JSON.parse(entry.Output ?? '{}'));
    expect(outputs.every((entry) => entry.tag === 'nightly')).toBe(true);
    // Listed in key order and batched by two: [five-bad, four] fails, [one, six] and [three, two] pass.
    expect(outputs.flatMap((entry) => entry.keys).sort()).toEqual([
      'set-a/one.bin',
      'set-a/six.bin',
      'set-a/three.bin',
      'set-a/two.bin',
    ]);
    expect(JSON.parse(failed[0]?.Input ?? '{}').Items.map((item: { Key: string }) => item.Key)).toEqual([
      'set-a/five-bad.bin',
      'set-a/four.bin',
    ]);
    expect(JSON.parse(succeeded[0]?.Input ?? '{}')).toMatchObject({ BatchInput: { tag: 'nightly' } });
  });

  it('runs each batch as a child execution of the Map Run, visible through the API', async () => {
    const arn = await createMachine(sfn, 'distributed-map.asl.json', 'dmap-children');
    const result = await run(sfn, arn, { bucket: BUCKET, prefix: 'set-a/', tag: 't', tolerated: 50 });

    const runs = await sfn.send(new ListMapRunsCommand({ executionArn: result.executionArn }));
    const mapRunArn = runs.mapRuns?.[0]?.mapRunArn;
    const described = await sfn.send(new DescribeMapRunCommand({ mapRunArn }));
    const children = await sfn.send(new ListExecutionsCommand({ mapRunArn }));
    const types = (await historyOf(sfn, result.executionArn ?? '')).map((event) => event.type);

    expect(runs.mapRuns).toHaveLength(1);
    expect(described).toMatchObject({
      status: 'SUCCEEDED',
      maxConcurrency: 2,
      toleratedFailurePercentage: 50,
      itemCounts: { total: 6, succeeded: 4, failed: 2, pending: 0, running: 0, resultsWritten: 3 },
      executionCounts: { total: 3, succeeded: 2, failed: 1 },
    });
    expect(children.executions).toHaveLength(3);
    expect(children.executions?.[0]?.stateMachineArn).toBe(
      'arn:aws:states:us-east-1:000000000000:stateMachine:dmap-children/Verify',
    );
    expect(children.executions?.every((child) => child.mapRunArn === mapRunArn)).toBe(true);
    expect(types).toEqual([
      'ExecutionStarted',
      'MapStateEntered',
      'MapRunStarted',
      'MapRunSucceeded',
      'MapStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('fails the Map Run with States.ExceedToleratedFailureThreshold when failures exceed the tolerance', async () => {
    const arn = await createMachine(sfn, 'distributed-map.asl.json', 'dmap-strict');

    const result = await run(sfn, arn, { bucket: BUCKET, prefix: 'set-a/', tag: 't', tolerated: 10 });
    const events = await historyOf(sfn, result.executionArn ?? '');
    const mapRunFailed = events.find((event) => event.type === 'MapRunFailed');

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('IntegrityError');
    expect(mapRunFailed?.mapRunFailedEventDetails?.error).toBe('States.ExceedToleratedFailureThreshold');
    expect(events.map((event) => event.type)).toContain('FailStateEntered');
  });

  it('reads items from a JSON array in S3, with MaxItems and ItemSelector', async () => {
    const arn = await createMachine(sfn, 'distributed-map-json.asl.json', 'dmap-json');

    const result = await run(sfn, arn, { bucket: BUCKET, key: 'inputs/targets.json', run: 'r1' });

    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '[]')).toEqual([
      { target: 'orders', position: 0, run: 'r1' },
      { target: 'billing', position: 1, run: 'r1' },
      { target: 'users', position: 2, run: 'r1' },
    ]);
  });

  it('reads items from a CSV file in S3 with the header in the first row', async () => {
    const arn = await createMachine(sfn, 'distributed-map-csv.asl.json', 'dmap-csv');

    const result = await run(sfn, arn, { bucket: BUCKET, key: 'inputs/targets.csv' });

    expect(JSON.parse(result.output ?? '[]')).toEqual([
      { name: 'orders', region: 'eu-west-1' },
      { name: 'billing, legacy', region: 'us-east-1' },
    ]);
  });

  it('fails with States.ItemReaderFailed when the object to read does not exist', async () => {
    const arn = await createMachine(sfn, 'distributed-map-json.asl.json', 'dmap-missing');

    const result = await run(sfn, arn, { bucket: BUCKET, key: 'inputs/none.json', run: 'r2' });

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.ItemReaderFailed');
    expect(result.cause).toContain('NoSuchKey');
  });
});
