/**
 * Distributed Map ResultWriter: writes the Map Run's child results to S3 as Step Functions does,
 * `<Prefix>/<map run id>/SUCCEEDED_0.json`, `FAILED_0.json`, `PENDING_0.json` and a
 * `manifest.json` naming them. Failures become States.ResultWriterFailed.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StatesError } from './paths.ts';

/** One child's entry in a result file, as AWS writes it. */
export interface ChildResult {
  readonly ExecutionArn: string;
  readonly Input: string;
  readonly InputDetails: { readonly Included: true };
  readonly Name: string;
  readonly Output?: string;
  readonly OutputDetails?: { readonly Included: true };
  readonly Error?: string;
  readonly Cause?: string;
  readonly RedriveCount: 0;
  readonly RedriveStatus: 'NOT_REDRIVABLE' | 'REDRIVABLE';
  readonly StartDate?: string;
  readonly StateMachineArn: string;
  readonly Status: string;
  readonly StopDate?: string;
}

export interface WrittenResults {
  readonly Bucket: string;
  /** The manifest's key. */
  readonly Key: string;
}

/** Writes the result files and the manifest; returns where the manifest is. */
export async function writeResults(
  s3: S3Client,
  parameters: Record<string, unknown>,
  mapRunArn: string,
  results: {
    readonly succeeded: ChildResult[];
    readonly failed: ChildResult[];
    readonly pending: ChildResult[];
  },
): Promise<WrittenResults> {
  const { Bucket, Prefix } = parameters as { Bucket?: unknown; Prefix?: unknown };
  if (typeof Bucket !== 'string') {
    throw new StatesError('States.ResultWriterFailed', 'ResultWriter Parameters need a Bucket');
  }
  let prefix = typeof Prefix === 'string' ? Prefix : '';
  if (prefix.length > 0 && !prefix.endsWith('/')) prefix += '/';
  const mapRunId = mapRunArn.slice(mapRunArn.lastIndexOf(':') + 1);
  const folder = `${prefix}${mapRunId}/`;
  const files: Record<'SUCCEEDED' | 'FAILED' | 'PENDING', { Key: string; Size: number }[]> = {
    FAILED: [],
    PENDING: [],
    SUCCEEDED: [],
  };
  try {
    for (const [status, entries] of [
      ['SUCCEEDED', results.succeeded],
      ['FAILED', results.failed],
      ['PENDING', results.pending],
    ] as const) {
      if (entries.length === 0) continue;
      const key = `${folder}${status}_0.json`;
      const body = JSON.stringify(entries);
      await s3.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentType: 'application/json' }));
      files[status].push({ Key: key, Size: Buffer.byteLength(body) });
    }
    const manifestKey = `${folder}manifest.json`;
    const manifest = { DestinationBucket: Bucket, MapRunArn: mapRunArn, ResultFiles: files };
    await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: manifestKey,
        Body: JSON.stringify(manifest),
        ContentType: 'application/json',
      }),
    );
    return { Bucket, Key: manifestKey };
  } catch (error) {
    const failure = error as Error;
    throw new StatesError('States.ResultWriterFailed', `${failure.name}: ${failure.message}`);
  }
}
