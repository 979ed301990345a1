/**
 * bench:backup's plain peer: the same copy with the AWS SDK and nothing else — GetObject
 * streamed into lib-storage's Upload, no hashing, no encryption, with Caretaker's default
 * concurrency (16 objects) and multipart settings (8 MiB parts, 4 in flight). Prints one JSON line.
 *
 *   node --import tsx bench/backup/plain-copy-child.ts '{"bucket":…,"prefix":…,"into":…,"intoPrefix":…}'
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

const { bucket, prefix, into, intoPrefix } = JSON.parse(process.argv[2] ?? '{}') as {
  bucket: string;
  prefix: string;
  into: string;
  intoPrefix: string;
};
const CONCURRENCY = 16;
const s3 = new S3Client({ maxAttempts: 4 });

async function copy(key: string): Promise<void> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  await new Upload({
    client: s3,
    partSize: 8 * 1024 * 1024,
    queueSize: 4,
    params: { Bucket: into, Key: `${intoPrefix}${key.slice(prefix.length)}`, Body: got.Body as Readable },
  }).done();
}

const started = performance.now();
const cpuStart = process.cpuUsage();
const keys: string[] = [];
let token: string | undefined;
do {
  const page = await s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
  );
  for (const object of page.Contents ?? []) keys.push(object.Key!);
  token = page.IsTruncated ? page.NextContinuationToken : undefined;
} while (token);
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < keys.length) await copy(keys[next++]!);
  }),
);
const cpu = process.cpuUsage(cpuStart);
process.stdout.write(
  `${JSON.stringify({ wallMs: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000, objects: keys.length })}\n`,
);
