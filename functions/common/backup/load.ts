/**
 * Reading a backup's manifest, seal and parts back, authenticated: the manifest against its
 * KMS seal, each part against the SHA-256 the manifest records, each ancestor against the hash
 * its child recorded. Anything that does not check out throws an {@link IntegrityProblem}.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { AccessDeniedError } from '../runtime/errors.ts';
import { checkLink, rootProblems } from './chain.ts';
import { type BackupCrypto, classifyDecryptError } from './crypto.ts';
import { manifestKey, sealKey } from './layout.ts';
import {
  type Manifest,
  type ManifestPart,
  type PartDescriptor,
  parseManifest,
  partSchema,
  sha256Hex,
} from './manifest.ts';
import { IntegrityProblem, type Problem } from './problems.ts';
import { getBytes } from './s3-io.ts';
import { parseSealPlaintext, sealContext } from './seal.ts';

export interface BackupStore {
  readonly s3: S3Client;
  readonly crypto: BackupCrypto;
  /** The backup bucket. */
  readonly bucket: string;
}

/** A manifest with the exact bytes it was read from. */
export interface LoadedManifest {
  readonly manifest: Manifest;
  readonly bytes: Buffer;
  readonly sha256: string;
}

/** Loads a backup's manifest and checks its seal. */
export async function loadManifest(
  store: BackupStore,
  set: string,
  backupId: string,
): Promise<LoadedManifest> {
  const key = manifestKey(set, backupId);
  const about = { backupId, storedKey: key };
  const bytes = await getBytes(store.s3, store.bucket, key);
  if (!bytes) throw new IntegrityProblem({ ...about, problem: 'missing-manifest' });
  const sha256 = sha256Hex(bytes);
  const seal = await getBytes(store.s3, store.bucket, sealKey(set, backupId));
  if (!seal)
    throw new IntegrityProblem({ ...about, problem: 'missing-seal', storedKey: sealKey(set, backupId) });
  let sealed: string | undefined;
  try {
    sealed = parseSealPlaintext(await store.crypto.decrypt(seal, sealContext(set, backupId)));
  } catch (error) {
    const kind = classifyDecryptError(error);
    if (kind === 'key-access') {
      throw new AccessDeniedError(
        `KMS refused to open the seal of ${set}/${backupId}: ${(error as Error).message}`,
        about,
        {
          cause: error,
        },
      );
    }
    const problem = kind === 'wrong-key' ? 'wrong-key' : 'edited-manifest';
    throw new IntegrityProblem(
      { ...about, storedKey: sealKey(set, backupId), problem, detail: `seal: ${(error as Error).message}` },
      { cause: error },
    );
  }
  if (sealed !== sha256) {
    throw new IntegrityProblem({
      ...about,
      problem: 'edited-manifest',
      expected: sealed ?? 'a seal',
      actual: sha256,
    });
  }
  const parsed = parseManifest(bytes);
  if (typeof parsed === 'string')
    throw new IntegrityProblem({ ...about, problem: 'edited-manifest', detail: parsed });
  if (parsed.set !== set || parsed.backupId !== backupId) {
    throw new IntegrityProblem({
      ...about,
      problem: 'edited-manifest',
      expected: `${set}/${backupId}`,
      actual: `${parsed.set}/${parsed.backupId}`,
    });
  }
  return { manifest: parsed, bytes, sha256 };
}

/** Loads one part and checks it against its descriptor. */
export async function loadPart(
  store: BackupStore,
  manifest: Manifest,
  descriptor: PartDescriptor,
): Promise<ManifestPart> {
  const about = { backupId: manifest.backupId, storedKey: descriptor.key };
  const bytes = await getBytes(store.s3, store.bucket, descriptor.key);
  if (!bytes) throw new IntegrityProblem({ ...about, problem: 'missing-part' });
  const actual = sha256Hex(bytes);
  if (actual !== descriptor.sha256) {
    throw new IntegrityProblem({ ...about, problem: 'edited-part', expected: descriptor.sha256, actual });
  }
  const parsed = partSchema.safeParse(JSON.parse(bytes.toString('utf8')));
  if (
    !parsed.success ||
    parsed.data.batch !== descriptor.batch ||
    parsed.data.backupId !== manifest.backupId
  ) {
    throw new IntegrityProblem({ ...about, problem: 'edited-part', detail: 'not this backup part' });
  }
  return parsed.data;
}

/** Walks the chain from `manifest` to its full backup, checking each link; returns the problems. */
export async function checkChain(
  store: BackupStore,
  manifest: Manifest,
): Promise<{ problems: Problem[]; links: number }> {
  const problems: Problem[] = [...rootProblems(manifest)];
  let current = manifest;
  let links = 0;
  while (current.parent) {
    const bytes = await getBytes(store.s3, store.bucket, manifestKey(current.set, current.parent.backupId));
    const link = checkLink(current, bytes);
    problems.push(...link.problems);
    if (!link.parent) break;
    links++;
    problems.push(...rootProblems(link.parent));
    current = link.parent;
  }
  return { problems, links };
}
