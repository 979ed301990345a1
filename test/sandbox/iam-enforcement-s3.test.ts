/**
 * IAM enforced on S3 for a deployed role's session: allowed and denied calls, the TLS-only bucket
 * policy against plain HTTP, the actions S3 asks for beyond the operation's own, SSE-KMS through
 * the caller's KMS permissions, per-key decisions in DeleteObjects, the error as S3 answers it and
 * the denial record; the sandbox's plain credentials (awscli by hand) unaffected.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { iamRegistryService } from '../../sandbox/iam-registry/index.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { s3Service } from '../../sandbox/services/s3/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import { asAdministrator, asRole, failure, resourcePolicy, role } from './iam-support.ts';

const handle = withSandbox([s3Service, kmsService, iamRegistryService], {
  settings: { iam: { enforcement: 'enforce' } },
});
const sandbox = () => handle.sandbox;
const exec = promisify(execFile);

const BUCKET = 'backups';
const LOCKED = 'tls-only';
const SEALED = 'sealed';
let keyArn = '';

const s3As = (...args: Parameters<typeof asRole>) =>
  new S3Client({ ...asRole(...args), forcePathStyle: true });
const admin = () => new S3Client({ ...asAdministrator(sandbox()), forcePathStyle: true });

beforeAll(async () => {
  for (const Bucket of [BUCKET, LOCKED, SEALED]) await admin().send(new CreateBucketCommand({ Bucket }));
  await admin().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'backups/one.bin', Body: 'one' }));
  await admin().send(new PutObjectCommand({ Bucket: LOCKED, Key: 'backups/one.bin', Body: 'one' }));
  // The Caretaker backup bucket's policy: every S3 action over plain HTTP is denied, to everyone.
  resourcePolicy(sandbox(), `arn:aws:s3:::${LOCKED}`, [
    {
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Resource: [`arn:aws:s3:::${LOCKED}`, `arn:aws:s3:::${LOCKED}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
  ]);
  const kms = new KMSClient(asAdministrator(sandbox()));
  keyArn = (await kms.send(new CreateKeyCommand({ Description: 'bucket key' }))).KeyMetadata?.Arn ?? '';
  await admin().send(
    new PutBucketEncryptionCommand({
      Bucket: SEALED,
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
            BucketKeyEnabled: true,
          },
        ],
      },
    }),
  );
});

describe('a role session calling S3', () => {
  it('may do what its policy allows, and is refused the rest with 403 AccessDenied in S3 words', async () => {
    const writer = role(sandbox(), 'Writer', [
      {
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:GetObject'],
        Resource: `arn:aws:s3:::${BUCKET}/backups/*`,
      },
    ]);
    const s3 = s3As(sandbox(), writer);

    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'backups/two.bin', Body: 'two' }));
    const read = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'backups/two.bin' }));
    const refused = await failure(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'reports/x.json', Body: '{}' })),
    );

    expect(await read.Body?.transformToString()).toBe('two');
    expect(refused.name).toBe('AccessDenied');
    expect(refused.$metadata?.httpStatusCode).toBe(403);
    expect(refused.message).toBe(
      `User: ${writer.principal} is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::${BUCKET}/reports/x.json" because no identity-based policy allows the s3:PutObject action`,
    );
    expect(sandbox().denials().at(-1)).toMatchObject({
      principal: writer.principal,
      roleArn: writer.roleArn,
      action: 's3:PutObject',
      resources: [`arn:aws:s3:::${BUCKET}/reports/x.json`],
      service: 's3',
      operation: 'PutObject',
      origin: 'request',
      enforced: true,
    });
  });

  it('is denied by the TLS-only bucket policy over plain HTTP and allowed over HTTPS', async () => {
    const reader = role(sandbox(), 'Reader', [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${LOCKED}/*` },
    ]);

    const overHttp = await failure(
      s3As(sandbox(), reader, 'http').send(new GetObjectCommand({ Bucket: LOCKED, Key: 'backups/one.bin' })),
    );
    const overHttps = await s3As(sandbox(), reader, 'https').send(
      new GetObjectCommand({ Bucket: LOCKED, Key: 'backups/one.bin' }),
    );

    expect(overHttp.name).toBe('AccessDenied');
    expect(overHttp.message).toMatch(
      /on resource: "arn:aws:s3:::tls-only\/backups\/one.bin" with an explicit deny in a resource-based policy$/,
    );
    expect(sandbox().denials().at(-1)?.statements[0]).toMatchObject({
      policyType: 'resource',
      effect: 'Deny',
    });
    expect(await overHttps.Body?.transformToString()).toBe('one');
  });

  it('needs s3:PutObjectTagging to write an object with tags', async () => {
    const writer = role(sandbox(), 'UntaggedWriter', [
      { Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
    ]);
    const s3 = s3As(sandbox(), writer);

    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'plain.bin', Body: 'x' }));
    const refused = await failure(
      s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'tagged.bin',
          Body: 'x',
          Tagging: 'caretaker%3Amanaged=true',
        }),
      ),
    );

    expect(refused.message).toContain('is not authorized to perform: s3:PutObjectTagging on resource');
  });

  it('answers a read of a missing key 403 without s3:ListBucket and 404 with it', async () => {
    const blind = role(sandbox(), 'Blind', [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
    ]);
    const seeing = role(sandbox(), 'Seeing', [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}` },
    ]);

    const withoutList = await failure(
      s3As(sandbox(), blind).send(new GetObjectCommand({ Bucket: BUCKET, Key: 'absent.json' })),
    );
    const withList = await failure(
      s3As(sandbox(), seeing).send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'absent.json' })),
    );

    expect(withoutList.name).toBe('AccessDenied');
    expect(withoutList.message).toContain('s3:ListBucket');
    expect(withList.$metadata?.httpStatusCode).toBe(404);
  });

  it('lists only under the prefixes its s3:prefix condition allows', async () => {
    const lister = role(sandbox(), 'Lister', [
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: `arn:aws:s3:::${BUCKET}`,
        Condition: { StringLike: { 's3:prefix': ['backups/*'] } },
      },
    ]);
    const s3 = s3As(sandbox(), lister);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'backups/' }));
    const everything = await failure(s3.send(new ListObjectsV2Command({ Bucket: BUCKET })));

    expect(listed.Contents?.map((object) => object.Key)).toContain('backups/one.bin');
    expect(everything.message).toContain(`s3:ListBucket on resource: "arn:aws:s3:::${BUCKET}"`);
  });

  it("needs its own kms:GenerateDataKey on the bucket's default key to write there", async () => {
    const statement = { Effect: 'Allow', Action: 's3:PutObject', Resource: `arn:aws:s3:::${SEALED}/*` };
    const without = role(sandbox(), 'NoKey', [statement]);
    const withKey = role(sandbox(), 'WithKey', [
      statement,
      {
        Effect: 'Allow',
        Action: 'kms:GenerateDataKey',
        Resource: keyArn,
        Condition: {
          StringEquals: {
            'kms:ViaService': 's3.us-east-1.amazonaws.com',
            'kms:EncryptionContext:aws:s3:arn': `arn:aws:s3:::${SEALED}`,
          },
        },
      },
    ]);

    const refused = await failure(
      s3As(sandbox(), without).send(new PutObjectCommand({ Bucket: SEALED, Key: 'a', Body: 'x' })),
    );
    const written = await s3As(sandbox(), withKey).send(
      new PutObjectCommand({ Bucket: SEALED, Key: 'a', Body: 'x' }),
    );

    expect(refused.name).toBe('AccessDenied');
    expect(refused.message).toContain(
      `is not authorized to perform: kms:GenerateDataKey on resource: "${keyArn}"`,
    );
    expect(written.ServerSideEncryption).toBe('aws:kms');
  });

  it('decides DeleteObjects key by key: refused keys come back as AccessDenied errors, the others are deleted', async () => {
    await admin().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'backups/old.bin', Body: 'x' }));
    await admin().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/precious.bin', Body: 'x' }));
    const cleaner = role(sandbox(), 'Cleaner', [
      { Effect: 'Allow', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${BUCKET}/backups/*` },
    ]);

    const result = await s3As(sandbox(), cleaner).send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: [{ Key: 'backups/old.bin' }, { Key: 'keep/precious.bin' }] },
      }),
    );

    expect(result.Deleted?.map((object) => object.Key)).toEqual(['backups/old.bin']);
    expect(result.Errors).toEqual([
      expect.objectContaining({ Key: 'keep/precious.bin', Code: 'AccessDenied' }),
    ]);
    expect(
      await admin().send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'keep/precious.bin' })),
    ).toBeDefined();
  });
});

describe('credentials the sandbox does not know', () => {
  it('refuses an AWS-shaped access key it never issued with InvalidAccessKeyId', async () => {
    const s3 = new S3Client({
      ...asAdministrator(sandbox()),
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' },
    });

    const refused = await failure(s3.send(new ListObjectsV2Command({ Bucket: BUCKET })));

    expect(refused.name).toBe('InvalidAccessKeyId');
    expect(refused.$metadata?.httpStatusCode).toBe(403);
  });

  it("refuses a role's key sent without its session token with InvalidToken", async () => {
    const holder = role(sandbox(), 'TokenHolder', [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]);
    const s3 = new S3Client({
      ...asRole(sandbox(), holder),
      forcePathStyle: true,
      credentials: {
        accessKeyId: holder.credentials.accessKeyId,
        secretAccessKey: holder.credentials.secretAccessKey,
      },
    });

    expect((await failure(s3.send(new ListObjectsV2Command({ Bucket: BUCKET })))).name).toBe('InvalidToken');
  });
});

describe("the sandbox's plain credentials", () => {
  it('are never evaluated: the administrator reads the TLS-only bucket over plain HTTP', async () => {
    const read = await admin().send(new GetObjectCommand({ Bucket: LOCKED, Key: 'backups/one.bin' }));

    expect(await read.Body?.transformToString()).toBe('one');
  });

  it('keep working for awscli by hand, over HTTP and over HTTPS with --ca-bundle', async () => {
    if (!existsSync('/usr/bin/aws'))
      throw new Error('awscli v2 is required at /usr/bin/aws (CI installs it)');
    const home = mkdtempSync(join(tmpdir(), 'caretaker-awscli-iam-'));
    writeFileSync(join(home, 'body.txt'), 'by hand');
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
      AWS_ACCESS_KEY_ID: 'sandbox',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const aws = (...args: string[]) => exec('/usr/bin/aws', ['--no-cli-pager', ...args], { env });

    await aws(
      '--endpoint-url',
      sandbox().url,
      's3',
      'cp',
      join(home, 'body.txt'),
      `s3://${LOCKED}/by-hand.txt`,
    );
    const { stdout } = await aws(
      '--endpoint-url',
      sandbox().httpsUrl,
      '--ca-bundle',
      sandbox().caPath,
      's3',
      'cp',
      `s3://${LOCKED}/by-hand.txt`,
      '-',
    );

    expect(stdout).toBe('by hand');
  }, 60_000);
});
