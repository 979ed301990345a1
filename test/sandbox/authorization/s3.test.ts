/**
 * S3's IAM mapping (sandbox/services/s3/authorization.ts): which actions, resources and condition
 * keys each operation needs, checked against the Service Authorization Reference as well.
 */
import { describe, expect, it } from 'vitest';
import type { AccessCheck } from '../../../sandbox/core/access/checks.ts';
import {
  deleteChecks,
  putTaggingChecks,
  type S3AuthorizationView,
  type S3Request,
  s3AccessChecks,
} from '../../../sandbox/services/s3/authorization.ts';
import type { Encryption, Tag } from '../../../sandbox/services/s3/model.ts';
import { contractProblems } from './contract.ts';

const KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555';
const KMS: Encryption = { algorithm: 'aws:kms', kmsKeyId: KEY_ARN };

interface Stored {
  readonly encryption: Encryption;
  readonly tags: readonly Tag[];
}

function view(
  objects: Record<string, Stored> = {},
  bucketEncryption?: Encryption,
  upload?: Encryption,
): S3AuthorizationView {
  return {
    accountId: '000000000000',
    bucket: (name) =>
      name === 'missing'
        ? undefined
        : { region: 'us-east-1', ...(bucketEncryption ? { encryption: bucketEncryption } : {}) },
    object: (bucket, key, versionId) => objects[`${bucket}/${key}${versionId ? `?${versionId}` : ''}`],
    upload: () => upload,
    kmsKey: (_region, keyId) =>
      keyId === KEY_ARN ? { arn: KEY_ARN, tags: {}, aliases: ['alias/backups'] } : undefined,
  };
}

function request(operation: string, options: Partial<S3Request> & { url?: string } = {}): S3Request {
  const url = new URL(options.url ?? 'http://127.0.0.1/');
  return {
    operation,
    bucket: 'backups',
    key: 'data/a.bin',
    query: url.searchParams,
    headers: {},
    region: 'us-east-1',
    ...options,
  };
}

/** `action resource` pairs, the shape most assertions need. */
function pairs(checks: readonly AccessCheck[] | undefined): string[] {
  return (checks ?? []).flatMap((check) =>
    check.resources.map((resource) => `${check.action} ${resource.arn}`),
  );
}

const stored: Stored = {
  encryption: { algorithm: 'AES256' },
  tags: [{ Key: 'caretaker:managed', Value: 'true' }],
};

describe('S3 operations and the actions they need', () => {
  it('authorizes HeadObject as s3:GetObject on the object, governed by the bucket policy', async () => {
    const checks = s3AccessChecks(request('HeadObject'), view({ 'backups/data/a.bin': stored }));

    expect(pairs(checks)).toEqual(['s3:GetObject arn:aws:s3:::backups/data/a.bin']);
    expect(checks?.[0]?.resources[0]?.policyOf).toBe('arn:aws:s3:::backups');
    expect(checks?.[0]?.resources[0]?.context).toEqual({ 's3:ExistingObjectTag/caretaker:managed': 'true' });
    expect(await contractProblems(checks ?? [])).toEqual([]);
  });

  it('asks for s3:ListBucket too when the key does not exist (403 rather than 404 without it)', () => {
    const checks = s3AccessChecks(request('GetObject'), view());

    expect(pairs(checks)).toEqual([
      's3:GetObject arn:aws:s3:::backups/data/a.bin',
      's3:ListBucket arn:aws:s3:::backups',
    ]);
    // Evaluated as a listing of the key itself, so a grant on a prefix covering it is enough.
    expect(checks?.[1]?.context?.['s3:prefix']).toBe('data/a.bin');
  });

  it('uses s3:GetObjectVersion and s3:VersionId when the request names a version', async () => {
    const checks = s3AccessChecks(
      request('GetObject', { url: 'http://x/?versionId=v1' }),
      view({ 'backups/data/a.bin?v1': stored }),
    );

    expect(pairs(checks)).toEqual(['s3:GetObjectVersion arn:aws:s3:::backups/data/a.bin']);
    expect(checks?.[0]?.context?.['s3:VersionId']).toBe('v1');
    expect(await contractProblems(checks ?? [])).toEqual([]);
  });

  it('authorizes ListObjectsV2 as s3:ListBucket with s3:prefix, s3:delimiter and s3:max-keys', async () => {
    const checks = s3AccessChecks(
      request('ListObjectsV2', {
        key: '',
        url: 'http://x/?list-type=2&prefix=backups/&delimiter=/&max-keys=10',
      }),
      view(),
    );

    expect(pairs(checks)).toEqual(['s3:ListBucket arn:aws:s3:::backups']);
    expect(checks?.[0]?.context).toMatchObject({
      's3:prefix': 'backups/',
      's3:delimiter': '/',
      's3:max-keys': 10,
    });
    expect(await contractProblems(checks ?? [])).toEqual([]);
  });

  it('needs s3:PutObjectTagging besides s3:PutObject when PutObject carries x-amz-tagging', async () => {
    const checks = s3AccessChecks(
      request('PutObject', { headers: { 'x-amz-tagging': 'caretaker%3Amanaged=true&kind=backup' } }),
      view(),
    );

    expect(pairs(checks)).toEqual([
      's3:PutObject arn:aws:s3:::backups/data/a.bin',
      's3:PutObjectTagging arn:aws:s3:::backups/data/a.bin',
    ]);
    expect(checks?.[0]?.context).toMatchObject({
      's3:RequestObjectTag/caretaker:managed': 'true',
      's3:RequestObjectTagKeys': ['caretaker:managed', 'kind'],
    });
    expect(await contractProblems(checks ?? [])).toEqual([]);
  });

  it("needs the caller's kms:GenerateDataKey through S3 to write into a bucket encrypted with a customer key", async () => {
    const checks = s3AccessChecks(request('PutObject'), view({}, { ...KMS, bucketKeyEnabled: true }));

    expect(pairs(checks)).toEqual([
      's3:PutObject arn:aws:s3:::backups/data/a.bin',
      `kms:GenerateDataKey ${KEY_ARN}`,
    ]);
    const kms = checks?.[1];
    expect(kms?.calledVia).toBe('s3.amazonaws.com');
    expect(kms?.resources[0]?.kmsKey).toBe(true);
    // With an S3 Bucket Key, the encryption context is the bucket's ARN.
    expect(kms?.context).toMatchObject({
      'kms:ViaService': 's3.us-east-1.amazonaws.com',
      'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::backups',
    });
    expect(await contractProblems(checks ?? [])).toEqual([]);
  });

  it("needs kms:Decrypt with the object's ARN as encryption context to read an SSE-KMS object", () => {
    const checks = s3AccessChecks(
      request('GetObject'),
      view({ 'backups/data/a.bin': { encryption: KMS, tags: [] } }),
    );

    expect(pairs(checks)).toEqual(['s3:GetObject arn:aws:s3:::backups/data/a.bin', `kms:Decrypt ${KEY_ARN}`]);
    expect(checks?.[1]?.context?.['kms:EncryptionContext:aws:s3:arn']).toBe(
      'arn:aws:s3:::backups/data/a.bin',
    );
  });

  it('does not ask HeadObject for kms:Decrypt', () => {
    const checks = s3AccessChecks(
      request('HeadObject'),
      view({ 'backups/data/a.bin': { encryption: KMS, tags: [] } }),
    );

    expect(pairs(checks)).toEqual(['s3:GetObject arn:aws:s3:::backups/data/a.bin']);
  });

  it("needs s3:GetObject on CopyObject's source, and its tags' permissions when they are copied", async () => {
    const checks = s3AccessChecks(
      request('PutObject', { key: 'copy.bin', headers: { 'x-amz-copy-source': '/source/data/a.bin' } }),
      view({ 'source/data/a.bin': stored }),
    );

    expect(pairs(checks)).toEqual([
      's3:PutObject arn:aws:s3:::backups/copy.bin',
      's3:PutObjectTagging arn:aws:s3:::backups/copy.bin',
      's3:GetObject arn:aws:s3:::source/data/a.bin',
      's3:GetObjectTagging arn:aws:s3:::source/data/a.bin',
    ]);
    expect(checks?.[0]?.context?.['s3:x-amz-copy-source']).toBe('/source/data/a.bin');
    expect(await contractProblems(checks ?? [])).toEqual([]);
  });

  it("asks a multipart upload's parts for kms:Decrypt and its creation for kms:GenerateDataKey", () => {
    const parts = s3AccessChecks(
      request('UploadPart', { url: 'http://x/?uploadId=u&partNumber=1' }),
      view({}, undefined, KMS),
    );
    const creation = s3AccessChecks(
      request('CreateMultipartUpload', {
        headers: {
          'x-amz-server-side-encryption': 'aws:kms',
          'x-amz-server-side-encryption-aws-kms-key-id': KEY_ARN,
        },
      }),
      view(),
    );

    expect(pairs(parts)).toEqual(['s3:PutObject arn:aws:s3:::backups/data/a.bin', `kms:Decrypt ${KEY_ARN}`]);
    expect(pairs(creation)).toEqual([
      's3:PutObject arn:aws:s3:::backups/data/a.bin',
      `kms:GenerateDataKey ${KEY_ARN}`,
    ]);
    expect(creation?.[0]?.context).toMatchObject({
      's3:x-amz-server-side-encryption': 'aws:kms',
      's3:x-amz-server-side-encryption-aws-kms-key-id': KEY_ARN,
    });
  });

  it('maps the bucket operations to their actions (versioning, encryption, location, HeadBucket)', async () => {
    const operations = [
      'CreateBucket',
      'HeadBucket',
      'GetBucketEncryption',
      'PutBucketEncryption',
      'DeleteBucketEncryption',
      'PutBucketVersioning',
      'GetBucketLocation',
    ];
    const checks = operations.flatMap(
      (operation) => s3AccessChecks(request(operation, { key: '' }), view()) ?? [],
    );

    expect(checks.map((c) => c.action)).toEqual([
      's3:CreateBucket',
      's3:ListBucket',
      's3:GetEncryptionConfiguration',
      's3:PutEncryptionConfiguration',
      's3:PutEncryptionConfiguration',
      's3:PutBucketVersioning',
      's3:GetBucketLocation',
    ]);
    expect(await contractProblems(checks)).toEqual([]);
  });

  it('answers every other operation the sandbox serves with actions the reference knows', async () => {
    const operations = [
      'ListBuckets',
      'ListObjects',
      'ListObjectVersions',
      'ListMultipartUploads',
      'GetObjectTagging',
      'DeleteObjectTagging',
      'CompleteMultipartUpload',
      'AbortMultipartUpload',
      'ListParts',
      'DeleteObject',
    ];
    const checks = operations.flatMap(
      (operation) =>
        s3AccessChecks(
          request(operation, { key: operation.startsWith('List') && operation !== 'ListParts' ? '' : 'k' }),
          view(),
        ) ?? [],
    );

    expect(await contractProblems(checks)).toEqual([]);
    expect(checks.map((c) => c.action)).toContain('s3:ListBucketVersions');
    expect(checks.map((c) => c.action)).toContain('s3:ListAllMyBuckets');
  });

  it('leaves PutObjectTagging and DeleteObjects to authorize once their body is read', async () => {
    expect(s3AccessChecks(request('PutObjectTagging'), view())).toBeUndefined();
    expect(s3AccessChecks(request('DeleteObjects', { key: '' }), view())).toBeUndefined();
    const tagging = putTaggingChecks(request('PutObjectTagging'), view({ 'backups/data/a.bin': stored }), [
      { Key: 'k', Value: 'v' },
    ]);
    const deletion = deleteChecks(request('DeleteObjects', { key: '' }), 'old.bin', 'v2');

    expect(tagging[0]?.context).toMatchObject({
      's3:RequestObjectTag/k': 'v',
      's3:RequestObjectTagKeys': ['k'],
    });
    expect(tagging[0]?.resources[0]?.context).toEqual({ 's3:ExistingObjectTag/caretaker:managed': 'true' });
    expect(pairs(deletion)).toEqual(['s3:DeleteObjectVersion arn:aws:s3:::backups/old.bin']);
    expect(await contractProblems([...tagging, ...deletion])).toEqual([]);
  });
});
