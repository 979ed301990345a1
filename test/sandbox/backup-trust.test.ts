/**
 * Only sealed facts count (docs/security.md), attacked on the sandbox (S3 + KMS) as someone who
 * can write to and delete from the backup bucket but cannot use the stack key would: forged
 * manifests (future-dated, unsealed, with seals copied from real backups), forged verification
 * records, the newest backups deleted. Real backups are made, verified and restored by the real
 * handlers; cleanup, the freshness check and the choice of a backup run on what the attacker left.
 *
 * The done-when: with 180 forged future-dated manifests and one forged verification record
 * among 50 real backups, a real cleanup deletes no real backup the policy keeps, freshness reports
 * the true age, and the report's alert names the forged objects.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogHeadKey } from '../../functions/common/backup/catalog-head.ts';
import { compactIso, manifestKey, sealKey, verificationKey } from '../../functions/common/backup/layout.ts';
import { sha256Hex } from '../../functions/common/backup/manifest.ts';
import { probeBackupFreshness } from '../../functions/health-check/probes/freshness.ts';
import { findings } from '../../functions/report/findings.ts';
import { runRecordSchema } from '../../functions/report/run-record.ts';
import {
  backup,
  context,
  type Handler,
  listKeys,
  putObjects,
  restore,
  untilDone,
  verify,
  withBackupSandbox,
} from './backup-harness.ts';

const { world } = withBackupSandbox({ BACKUP_BATCH_OBJECTS: '5' });

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const POLICY = {
  keepLast: 3,
  keepDaily: 7,
  keepWeekly: 4,
  keepMonthly: 12,
  timeZone: 'Europe/Berlin',
  minKeep: 3,
  minAge: 'PT12H',
};

let cleanup: Handler;

interface History {
  readonly set: {
    name: string;
    sourceBucket: string;
    prefix: string;
    mode: 'incremental';
    fullEvery: number;
  };
  readonly ids: string[];
}

/**
 * `count` real backups of a new set, one a day, the newest `newestHoursAgo` hours ago; each day
 * changes one object and adds one.
 */
async function history(name: string, count: number, newestHoursAgo: number): Promise<History> {
  const set = {
    name,
    sourceBucket: await world().newBucket(`src-${name}`),
    prefix: 'data/',
    mode: 'incremental' as const,
    fullEvery: 7,
  };
  const ids: string[] = [];
  const start = Date.now() - newestHoursAgo * HOUR - (count - 1) * DAY;
  for (let day = 0; day < count; day++) {
    await putObjects(world().s3, set.sourceBucket, {
      'data/change.txt': `day ${day}`,
      [`data/new-${day}.txt`]: `added on day ${day}`,
    });
    const event = {
      set,
      executionId: `${name}-${day}`,
      startedAt: new Date(start + day * DAY).toISOString(),
    };
    const { last } = await untilDone(() => backup(event, context()));
    ids.push(last.backupId);
  }
  return { set, ids };
}

async function verifyBackup(set: string, backupId: string): Promise<void> {
  await untilDone((previous: any) =>
    verify({ set, backupId, continuation: previous?.continuation }, context()),
  );
}

async function bytesOf(key: string): Promise<Buffer> {
  const out = await world().s3.send(new GetObjectCommand({ Bucket: world().backupBucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** What an attacker without the key writes: plain objects. */
async function put(key: string, body: Buffer | string): Promise<void> {
  await world().s3.send(new PutObjectCommand({ Bucket: world().backupBucket, Key: key, Body: body }));
}

/** A backup id `hoursFromNow` hours from now (negative: in the past). */
function idAt(hoursFromNow: number, suffix: string): string {
  return `${compactIso(new Date(Date.now() + hoursFromNow * HOUR))}-${suffix}`;
}

/**
 * A forged backup: a real manifest's bytes with another id, and (with `copySeal`) the real
 * backup's seal next to it — everything an attacker can do without the key.
 */
async function forgeBackup(set: string, realId: string, forgedId: string, copySeal: boolean): Promise<void> {
  const text = (await bytesOf(manifestKey(set, realId))).toString('utf8').replaceAll(realId, forgedId);
  await put(manifestKey(set, forgedId), text);
  if (copySeal) await put(sealKey(set, forgedId), await bytesOf(sealKey(set, realId)));
}

/** A verification record as backup-verify writes one, but without the seal only its role can make. */
async function forgeVerification(set: string, backupId: string, at: Date): Promise<string> {
  const key = verificationKey(set, backupId, at);
  const manifestSha256 = sha256Hex(await bytesOf(manifestKey(set, backupId)));
  await put(
    key,
    JSON.stringify({
      backupId,
      verifiedAt: at.toISOString(),
      subset: 'all',
      objectsChecked: 2,
      ok: true,
      set,
      manifestSha256,
    }),
  );
  return key;
}

async function deleteFolders(set: string, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const keys = await listKeys(world().s3, world().backupBucket, `backups/${set}/${id}/`);
    await world().s3.send(
      new DeleteObjectsCommand({
        Bucket: world().backupBucket,
        Delete: { Objects: keys.map((Key) => ({ Key })) },
      }),
    );
  }
}

const chooseFor = (set: string) => restore({ action: 'choose', set }, context());

const folders = async (set: string) =>
  [
    ...new Set(
      (await listKeys(world().s3, world().backupBucket, `backups/${set}/`)).map((k) => k.split('/')[2]),
    ),
  ]
    .filter((name) => name !== 'catalog-head.json')
    .sort();

beforeAll(async () => {
  // Versioned, as the stack's backup bucket is: a deleted object leaves its versions behind.
  await world().s3.send(
    new PutBucketVersioningCommand({
      Bucket: world().backupBucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  Object.assign(process.env, {
    BACKUP_SETS: JSON.stringify(
      ['done-when', 'verified', 'deleted', 'choice'].map((name) => ({ name, retention: 'standard' })),
    ),
    RETENTION_POLICIES: JSON.stringify({ standard: POLICY }),
  });
  cleanup = (await import('../../functions/cleanup/handler.ts')).handler as Handler;
});

describe('the done-when: 180 forged future-dated manifests and a forged verification record', () => {
  let real: History;
  let wouldDelete: string[];
  let forgedRecord: string;
  let forged: string[];

  beforeAll(async () => {
    // 50 real daily backups, the newest 3 h old; the one before it (27 h old) and an older one verified.
    real = await history('done-when', 50, 3);
    await verifyBackup('done-when', real.ids[48]!);
    await verifyBackup('done-when', real.ids[40]!);
    // What the policy deletes of the real backups alone (a dry run before any forgery).
    const plan = await cleanup({ dryRun: true, targets: ['done-when'] }, context());
    wouldDelete = plan.targets[0].deletions.map((d: any) => d.id).sort();
    // The attack: 180 forged manifests dated 1 h to 180 days ahead (a third with a real seal copied
    // next to them), and a forged record making the newest real backup look verified.
    forged = [];
    for (let i = 1; i <= 180; i++) {
      const id = idAt(i * 24 - 23, i.toString(16).padStart(8, '0'));
      await forgeBackup('done-when', real.ids[49]!, id, i % 3 === 0);
      forged.push(manifestKey('done-when', id));
    }
    forgedRecord = await forgeVerification('done-when', real.ids[49]!, new Date(Date.now() - HOUR));
  }, 600_000);

  it('a real cleanup deletes exactly what the policy deletes of the real backups, and no forged object', async () => {
    const report = await cleanup({ dryRun: false, targets: ['done-when'] }, context());

    const [target] = report.targets;
    expect(target.status).toBe('done');
    // Whole chains are old enough to go: the policy does delete real backups here.
    expect(wouldDelete.length).toBeGreaterThanOrEqual(8);
    expect(target.deletions.map((d: any) => d.id).sort()).toEqual(wouldDelete);
    expect(target.deletions.every((d: any) => d.outcome === 'deleted')).toBe(true);
    const kept = real.ids.filter((id) => !wouldDelete.includes(id));
    const left = await folders('done-when');
    expect(kept.every((id) => left.includes(id))).toBe(true);
    // The forged folders were counted for nothing and deleted by nobody.
    expect(target.points).toBe(50);
    const keys = await listKeys(world().s3, world().backupBucket, 'backups/done-when/');
    expect(forged.every((key) => keys.includes(key))).toBe(true);
    expect(keys).toContain(forgedRecord);
    expect(target.tamperingCount).toBe(181);
  });

  it('the report alerts critical, naming the forged objects', async () => {
    const report = await cleanup({ dryRun: true, targets: ['done-when'] }, context());
    const record = runRecordSchema.parse({
      flow: 'Cleanup',
      startedAt: new Date().toISOString(),
      cleanup: report,
    });

    const found = findings(record);

    expect(found.severity).toBe('critical');
    const alert = found.failures.find((f) => f.what.startsWith('Tampering in the backup bucket'));
    expect(alert?.what).toContain('181 forged or altered objects');
    expect(alert?.what).toContain(`1 unsealed-verification (${forgedRecord})`);
    expect(alert?.what).toMatch(/180 future-dated-backup \(backups\/done-when\/\d{8}T\d{6}Z-00000001\/, /);
    expect(report.targets[0].tampering).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'unsealed-verification', key: forgedRecord }),
        expect.objectContaining({ kind: 'future-dated-backup' }),
      ]),
    );
  });

  it('freshness reports the true age of the newest sealed, verified backup and fails on the tampering', async () => {
    const outcome = await probeBackupFreshness(
      world().s3,
      world().backupBucket,
      { name: 'done-when', rpo: 'PT26H' },
      new Date(),
    );

    expect(outcome.status).toBe('fail');
    expect(outcome.evidence).toMatchObject({
      newestVerified: { id: real.ids[48] },
      newestUnverified: { id: real.ids[49] },
      tamperingCount: 181,
    });
    expect(Math.round((outcome.evidence.ageSeconds as number) / 3600)).toBe(27);
    expect(outcome.summary).toContain('TAMPERING');
  });

  it('verify and restore pass over the forgeries and say which backup they took and why', async () => {
    const verified = await untilDone((previous: any) =>
      verify({ set: 'done-when', continuation: previous?.continuation }, context()),
    );
    const chosen = await chooseFor('done-when');

    expect(verified.last).toMatchObject({ ok: true, backupId: real.ids[49] });
    expect(verified.last.chosen.reason).toMatch(
      new RegExp(
        `^${real.ids[49]} is the newest complete backup of done-when whose manifest seal verifies; passed over 180 newer`,
      ),
    );
    expect(chosen).toMatchObject({ backupId: real.ids[49], source: 'newest-verified' });
    expect(chosen.reason).toContain('passed over 180 newer');
  });
});

describe('forged verification records', () => {
  it('never make a backup verified: freshness and the choice of a restore take the newest sealed record', async () => {
    const { ids } = await history('verified', 3, 2);
    await verifyBackup('verified', ids[0]!);
    const forgedOnNewest = await forgeVerification('verified', ids[2]!, new Date(Date.now() - HOUR));
    // A real, sealed record copied from another backup is bound to that backup: it does not count either.
    const [realRecord] = await listKeys(
      world().s3,
      world().backupBucket,
      `backups/verified/${ids[0]}/verifications/`,
    );
    const copied = `backups/verified/${ids[1]}/verifications/${realRecord!.split('/').at(-1)}`;
    await world().s3.send(
      new PutObjectCommand({ Bucket: world().backupBucket, Key: copied, Body: await bytesOf(realRecord!) }),
    );

    const outcome = await probeBackupFreshness(
      world().s3,
      world().backupBucket,
      { name: 'verified', rpo: 'P3D' },
      new Date(),
    );
    const chosen = await chooseFor('verified');

    expect(outcome.evidence).toMatchObject({ newestVerified: { id: ids[0] }, tamperingCount: 2 });
    expect(outcome.evidence.tampering).toEqual([
      expect.objectContaining({ kind: 'unsealed-verification', key: forgedOnNewest }),
      expect.objectContaining({ kind: 'unsealed-verification', key: copied }),
    ]);
    expect(chosen).toMatchObject({ backupId: ids[0], skippedCount: 2 });
    expect(chosen.skipped.map((s: any) => [s.id, s.kind])).toEqual([
      [ids[2], 'integrity'],
      [ids[1], 'integrity'],
    ]);
  });
});

describe('the newest backups deleted', () => {
  it('is detected through the sealed catalog head, while freshness reports the true age', async () => {
    const { ids } = await history('deleted', 4, 2);
    for (const id of ids) await verifyBackup('deleted', id);
    await deleteFolders('deleted', ids.slice(2));

    const outcome = await probeBackupFreshness(
      world().s3,
      world().backupBucket,
      { name: 'deleted', rpo: 'P3D' },
      new Date(),
    );
    const report = await cleanup({ dryRun: true, targets: ['deleted'] }, context());

    expect(outcome.status).toBe('fail');
    expect(outcome.evidence).toMatchObject({
      newestVerified: { id: ids[1] },
      tampering: [{ kind: 'newest-backup-missing', backupId: ids[3], key: `backups/deleted/${ids[3]}/` }],
    });
    expect(Math.round((outcome.evidence.ageSeconds as number) / 3600)).toBe(50);
    expect(report.targets[0].tampering).toEqual([
      expect.objectContaining({ kind: 'newest-backup-missing', backupId: ids[3] }),
    ]);
  });

  it('a deleted or forged catalog head is tampering too', async () => {
    const head = catalogHeadKey('deleted');
    const sealed = await bytesOf(head);
    await put(head, sealed.toString('utf8').replace(/"sequence": \d+/, '"sequence": 1'));
    const forgedHead = await probeBackupFreshness(
      world().s3,
      world().backupBucket,
      { name: 'deleted', rpo: 'P3D' },
      new Date(),
    );
    await world().s3.send(
      new DeleteObjectsCommand({ Bucket: world().backupBucket, Delete: { Objects: [{ Key: head }] } }),
    );
    const deletedHead = await probeBackupFreshness(
      world().s3,
      world().backupBucket,
      { name: 'deleted', rpo: 'P3D' },
      new Date(),
    );

    expect(forgedHead.evidence.tampering).toEqual([
      expect.objectContaining({
        kind: 'unsealed-catalog-head',
        detail: 'the record changed after it was sealed',
      }),
    ]);
    expect(deletedHead.evidence.tampering).toEqual([
      expect.objectContaining({ kind: 'deleted-catalog-head', key: head }),
    ]);
  });
});

describe('a forged newest backup', () => {
  it('is passed over by restore, which restores the newest sealed backup and says so', async () => {
    const { set, ids } = await history('choice', 2, 5);
    const forgedId = idAt(-1, 'f0f0f0f0');
    await forgeBackup('choice', ids[1]!, forgedId, true);
    const target = await world().newBucket('restore-target');

    const { last } = await untilDone((previous: any) =>
      restore(
        { set: 'choice', targetBucket: target, targetPrefix: 'out/', continuation: previous?.continuation },
        context(),
      ),
    );

    expect(set.name).toBe('choice');
    expect(last).toMatchObject({ done: true, backupId: ids[1] });
    expect(last.chosen.reason).toBe(
      `${ids[1]} is the newest complete backup of choice whose manifest seal verifies; passed over 1 newer folder(s) that do not check out (${forgedId}: unsealed-manifest)`,
    );
  });
});
