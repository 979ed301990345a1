/**
 * What the drill checks after each flow, against what it seeded: the database under its original
 * identifier with every row and the same content hash, every source object byte for byte, what
 * Caretaker did not make untouched, and each scenario's own expectations (a class, an alias, a
 * snapshot, nothing restored left behind, restored objects identical, RTO/RPO measured).
 */
import { createHash } from 'node:crypto';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { DescribeDBInstancesCommand, DescribeDBSnapshotsCommand } from '@aws-sdk/client-rds';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { DrillClients } from './clients.ts';
import type { Expectation } from './scenarios.ts';
import {
  APP_ALIAS,
  APP_FUNCTION,
  type DrillNames,
  type Remnant,
  type Seeded,
  tableDigest,
  UNMANAGED_OBJECT,
  UNMANAGED_SNAPSHOT,
  withDatabase,
} from './seed.ts';

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

const pass = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
const fail = (name: string, detail: string): CheckResult => ({ name, ok: false, detail });

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

async function sha256Of(s3: S3Client, bucket: string, key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return createHash('sha256')
    .update(await object.Body!.transformToByteArray())
    .digest('hex');
}

/** `key → SHA-256` of every object under `bucket/prefix`, keys relative to the prefix. */
export async function objectDigests(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<Map<string, string>> {
  const keys = await listKeys(s3, bucket, prefix);
  const digests = new Map<string, string>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        digests.set(key.slice(prefix.length), await sha256Of(s3, bucket, key));
      }
    }),
  );
  return digests;
}

/** Where the two object sets differ (missing, extra, different), at most a few named. */
export function compareObjects(
  expected: ReadonlyMap<string, string>,
  actual: ReadonlyMap<string, string>,
): string[] {
  const problems: string[] = [];
  for (const [key, digest] of expected) {
    const found = actual.get(key);
    if (found === undefined) problems.push(`missing ${key}`);
    else if (found !== digest) problems.push(`different ${key}`);
  }
  for (const key of actual.keys()) if (!expected.has(key)) problems.push(`extra ${key}`);
  return problems;
}

/** The checks every scenario ends with: the database, and what Caretaker did not make. */
export async function commonChecks(
  clients: DrillClients,
  names: DrillNames,
  seeded: Seeded,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  try {
    const digest = await withDatabase(clients, names.instance, tableDigest);
    const same = digest.rows === seeded.rows && digest.hash === seeded.rowsHash;
    results.push(
      (same ? pass : fail)(
        'database intact',
        `${names.instance}: ${digest.rows} rows, hash ${digest.hash.slice(0, 12)}${same ? '' : ` (seeded ${seeded.rows}, ${seeded.rowsHash.slice(0, 12)})`}`,
      ),
    );
  } catch (error) {
    results.push(fail('database intact', `${names.instance} does not answer: ${(error as Error).message}`));
  }
  const snapshot = await clients.rds
    .send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: UNMANAGED_SNAPSHOT }))
    .then((out) => out.DBSnapshots?.[0]?.Status)
    .catch(() => undefined);
  const object = await sha256Of(clients.s3, names.restoreBucket, UNMANAGED_OBJECT.key).catch(() => undefined);
  const objectOk = object === createHash('sha256').update(UNMANAGED_OBJECT.body).digest('hex');
  results.push(
    (snapshot === 'available' && objectOk ? pass : fail)(
      'unmanaged untouched',
      `snapshot ${UNMANAGED_SNAPSHOT}: ${snapshot ?? 'gone'}; s3://${names.restoreBucket}/${UNMANAGED_OBJECT.key}: ${objectOk ? 'unchanged' : 'changed or gone'}`,
    ),
  );
  return results;
}

/** Every source object still byte for byte as seeded. */
export async function sourceObjectsCheck(
  clients: DrillClients,
  names: DrillNames,
  seeded: Seeded,
): Promise<CheckResult> {
  const prefixed = new Map(
    [...seeded.objects].map(([key, digest]) => [key.slice(names.sourcePrefix.length), digest]),
  );
  const problems = compareObjects(
    prefixed,
    await objectDigests(clients.s3, names.sourceBucket, names.sourcePrefix),
  );
  return (problems.length ? fail : pass)(
    'source objects intact',
    problems.length ? problems.slice(0, 5).join('; ') : `${seeded.objects.size} objects byte-identical`,
  );
}

export interface ExpectationContext {
  readonly clients: DrillClients;
  readonly names: DrillNames;
  readonly seeded: Seeded;
  readonly backupSet: string;
  readonly restorePrefix: string;
  /** The run's report (JSON), when it wrote one. */
  readonly report: Record<string, unknown> | undefined;
  readonly backupBucket: string;
  /** The remnant folder seeded for the cleanup runs, when they are part of the drill. */
  readonly remnant: Remnant | undefined;
}

/** Checks one scenario expectation. */
export async function checkExpectation(
  expectation: Expectation,
  context: ExpectationContext,
): Promise<CheckResult> {
  const { clients, names } = context;
  switch (expectation.kind) {
    case 'instance-class': {
      const db = (
        await clients.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: names.instance }))
      ).DBInstances?.[0];
      return (db?.DBInstanceClass === expectation.value ? pass : fail)(
        'instance class',
        `${names.instance} is ${db?.DBInstanceClass} (expected ${expectation.value})`,
      );
    }
    case 'alias-version': {
      const alias = await clients.lambda.send(
        new GetAliasCommand({ FunctionName: APP_FUNCTION, Name: APP_ALIAS }),
      );
      const routed = Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {});
      const ok = alias.FunctionVersion === expectation.value && routed.length === 0;
      return (ok ? pass : fail)(
        'alias',
        `${APP_FUNCTION}:${APP_ALIAS} → version ${alias.FunctionVersion}${routed.length ? ` (+ routing to ${routed.join(', ')})` : ''}`,
      );
    }
    case 'managed-snapshot': {
      const snapshots =
        (await clients.rds.send(new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: names.instance })))
          .DBSnapshots ?? [];
      const managed = snapshots.filter(
        (s) => s.DBSnapshotIdentifier?.startsWith('caretaker-') && s.Status === 'available',
      );
      return (managed.length > 0 ? pass : fail)(
        'snapshots',
        `${managed.length} Caretaker snapshot(s) of ${names.instance}`,
      );
    }
    case 'nothing-restored-left': {
      const instances = (await clients.rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? [];
      const left = instances
        .map((db) => db.DBInstanceIdentifier!)
        .filter((id) => id.startsWith(`${names.instance}-r`));
      const objects = (await listKeys(clients.s3, names.restoreBucket, context.restorePrefix)).length;
      return (left.length === 0 && objects === 0 ? pass : fail)(
        'nothing left behind',
        `${left.length ? `restored instances left: ${left.join(', ')}` : 'no restored instance'}; ${objects} restored object(s) under s3://${names.restoreBucket}/${context.restorePrefix}`,
      );
    }
    case 'restored-objects-identical': {
      const prefix = `${context.restorePrefix}${context.backupSet}/`;
      const expected = new Map(
        [...context.seeded.objects].map(([key, digest]) => [key.slice(names.sourcePrefix.length), digest]),
      );
      const problems = compareObjects(expected, await objectDigests(clients.s3, names.restoreBucket, prefix));
      return (problems.length ? fail : pass)(
        'restored objects',
        problems.length
          ? problems.slice(0, 5).join('; ')
          : `${expected.size} objects under s3://${names.restoreBucket}/${prefix} byte-identical to the source`,
      );
    }
    case 'remnant': {
      const remnant = context.remnant;
      if (!remnant) return fail('remnant', 'no remnant was seeded');
      const present = new Set(await listKeys(clients.s3, context.backupBucket, remnant.prefix));
      const managedLeft = remnant.managedKeys.filter((key) => present.has(key));
      const kept =
        (await sha256Of(clients.s3, context.backupBucket, remnant.unmanaged.key).catch(() => undefined)) ===
        createHash('sha256').update(remnant.unmanaged.body).digest('hex');
      const ok =
        kept &&
        (expectation.state === 'kept'
          ? managedLeft.length === remnant.managedKeys.length
          : managedLeft.length === 0 && present.size === 1);
      return (ok ? pass : fail)(
        expectation.state === 'kept' ? 'remnant untouched' : 'remnant emptied',
        `s3://${context.backupBucket}/${remnant.prefix}: ${managedLeft.length} of ${remnant.managedKeys.length} Caretaker object(s) left, ${present.size} object(s) in all; the one put by hand ${kept ? 'unchanged' : 'changed or gone'}`,
      );
    }
    case 'drill-measured': {
      const drill = context.report?.drill as { rtoSeconds?: number; rpoSeconds?: number } | undefined;
      const ok = typeof drill?.rtoSeconds === 'number' && typeof drill.rpoSeconds === 'number';
      return (ok ? pass : fail)(
        'RTO/RPO measured',
        ok
          ? `RTO ${drill!.rtoSeconds!.toFixed(1)} s, RPO ${drill!.rpoSeconds!.toFixed(1)} s`
          : 'the report has no drill figures',
      );
    }
  }
}
