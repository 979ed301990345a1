/** Builders for manifests and entries in unit tests. */
import { manifestKey, partKey } from '../../../../../functions/common/backup/layout.ts';
import {
  ALGORITHM_SUITE,
  buildManifest,
  describePart,
  type Manifest,
  type ManifestEntry,
  type ManifestPart,
  serializeManifest,
  serializePart,
  sha256Hex,
} from '../../../../../functions/common/backup/manifest.ts';

export const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

export function entry(key: string, overrides: Partial<ManifestEntry> = {}): ManifestEntry {
  return {
    key,
    size: key.length,
    sha256: sha256Hex(key),
    etag: sha256Hex(`etag:${key}`).slice(0, 32),
    lastModified: '2026-01-01T00:00:00.000Z',
    storedKey: `backups/docs/20260101T000000Z-aaaaaaaa/objects/00000001/${key}`,
    storedBackupId: '20260101T000000Z-aaaaaaaa',
    storedSize: key.length + 400,
    ...overrides,
  };
}

export function part(
  backupId: string,
  batch: number,
  objects: ManifestEntry[],
  vanished: string[] = [],
): ManifestPart {
  return {
    format: 'caretaker.backup.manifest-part',
    formatVersion: 1,
    set: 'docs',
    backupId,
    batch,
    objects,
    vanished,
  };
}

export interface ManifestOptions {
  readonly backupId?: string;
  readonly parent?: { backupId: string; manifestSha256: string } | null;
  readonly chain?: { fullBackupId: string; depth: number };
  readonly mode?: 'full' | 'incremental';
  readonly parts?: ManifestEntry[][];
}

/** A manifest with its parts' descriptors computed from the given entries. */
export function manifest(options: ManifestOptions = {}): Manifest {
  const backupId = options.backupId ?? '20260101T000000Z-aaaaaaaa';
  const parts = (options.parts ?? [[entry('docs/a')]]).map((objects, i) => {
    const p = part(backupId, i + 1, objects);
    return describePart(p, partKey('docs', backupId, i + 1), serializePart(p));
  });
  return buildManifest(
    {
      backupId,
      set: 'docs',
      kind: 'backup',
      mode: options.mode ?? (options.parent ? 'incremental' : 'full'),
      createdAt: '2026-01-01T00:00:00.000Z',
      completedAt: '2026-01-01T00:00:02.500Z',
      parent: options.parent ?? null,
      chain: options.chain ?? { fullBackupId: backupId, depth: 0 },
      source: { bucket: 'source-bucket', prefix: 'docs/' },
      encryption: {
        library: '@aws-crypto/client-node@5',
        keyArn: KEY_ARN,
        algorithmSuite: ALGORITHM_SUITE.name,
        algorithmSuiteId: ALGORITHM_SUITE.id,
        commitmentPolicy: 'REQUIRE_ENCRYPT_REQUIRE_DECRYPT',
        frameLength: 1048576,
        encryptionContext: ['caretaker:set', 'caretaker:backup-id', 'caretaker:source-key'],
        serverSideEncryption: 'aws:kms',
      },
      tool: { name: 'caretaker', version: '0.1.0' },
      executionId: 'exec-1',
    },
    parts,
  );
}

/** A child manifest chained to `parent` (with the parent's real bytes hashed). */
export function child(parent: Manifest, backupId: string): Manifest {
  return manifest({
    backupId,
    parent: { backupId: parent.backupId, manifestSha256: sha256Hex(serializeManifest(parent)) },
    chain: { fullBackupId: parent.chain.fullBackupId, depth: parent.chain.depth + 1 },
  });
}

export { manifestKey };
