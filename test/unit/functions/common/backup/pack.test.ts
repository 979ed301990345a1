import { describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../../../../functions/common/backup/manifest.ts';
import { type MemberOutcome, Pack } from '../../../../../functions/common/backup/pack.ts';
import type { SealedObject } from '../../../../../functions/common/backup/store-object.ts';

const SETTINGS = { maxObjectBytes: 100, targetBytes: 250 };
const BACKUP = '20260101T000000Z-00000000';

function sealed(key: string, message: string): SealedObject {
  return {
    entry: {
      key,
      size: 1,
      sha256: '0'.repeat(64),
      etag: 'e',
      lastModified: '2026-01-01T00:00:00.000Z',
      storedBackupId: BACKUP,
    },
    message: Buffer.from(message),
  };
}

function alone(key: string): ManifestEntry {
  return { ...sealed(key, '').entry, storedKey: `objects/1/${key}`, storedSize: 9 };
}

/** A pack whose writes are recorded. */
function pack() {
  const writes: Buffer[] = [];
  const p = new Pack('packs/00000001/00003', SETTINGS, async (body) => {
    writes.push(Buffer.from(body));
  });
  return { pack: p, writes };
}

describe('Pack', () => {
  it('writes its members back to back in index order, whatever order they settled in', async () => {
    const { pack: p, writes } = pack();
    for (const index of [3, 4, 7]) p.add(index, 10);
    p.close();

    p.settle(7, sealed('k7', 'CCC'));
    p.settle(3, sealed('k3', 'A'));
    expect(writes).toEqual([]);
    p.settle(4, sealed('k4', 'BB'));
    const result = await p.written;

    expect(writes).toEqual([Buffer.from('ABBCCC')]);
    expect([...result]).toEqual([
      [
        3,
        { entry: expect.objectContaining({ key: 'k3', storedKey: p.key, storedOffset: 0, storedSize: 1 }) },
      ],
      [
        4,
        { entry: expect.objectContaining({ key: 'k4', storedKey: p.key, storedOffset: 1, storedSize: 2 }) },
      ],
      [
        7,
        { entry: expect.objectContaining({ key: 'k7', storedKey: p.key, storedOffset: 3, storedSize: 3 }) },
      ],
    ]);
  });

  it('waits until it is closed: a member may still join', async () => {
    const { pack: p, writes } = pack();
    p.add(3, 10);
    p.settle(3, sealed('k3', 'A'));
    await Promise.resolve();
    expect(writes).toEqual([]);

    p.add(5, 10);
    p.settle(5, sealed('k5', 'B'));
    p.close();
    await p.written;

    expect(writes).toEqual([Buffer.from('AB')]);
  });

  it('reports vanished members and members stored alone without putting bytes for them', async () => {
    const { pack: p, writes } = pack();
    const outcomes: Array<[number, MemberOutcome]> = [
      [3, 'vanished'],
      [4, sealed('k4', 'XY')],
      [5, alone('k5')],
    ];
    for (const [index] of outcomes) p.add(index, 10);
    for (const [index, outcome] of outcomes) p.settle(index, outcome);
    p.close();
    const result = await p.written;

    expect(writes).toEqual([Buffer.from('XY')]);
    expect(result.get(3)).toEqual({ vanished: true });
    expect(result.get(4)).toEqual({ entry: expect.objectContaining({ storedOffset: 0, storedSize: 2 }) });
    expect(result.get(5)).toEqual({ entry: alone('k5') });
  });

  it('writes nothing when no member has bytes', async () => {
    const { pack: p, writes } = pack();
    p.add(3, 10);
    p.settle(3, 'vanished');
    p.close();

    expect(await p.written).toEqual(new Map([[3, { vanished: true }]]));
    expect(writes).toEqual([]);
  });

  it('is not written when a member failed, and says why', async () => {
    const { pack: p, writes } = pack();
    p.add(3, 10);
    p.add(4, 10);
    p.settle(3, sealed('k3', 'A'));
    p.fail(new Error('GetObject failed'));
    p.close();

    await expect(p.written).rejects.toThrow('GetObject failed');
    expect(writes).toEqual([]);
  });

  it('takes members until their listed sizes reach the target; the first always fits', () => {
    const { pack: p } = pack();

    expect(p.fits(1000)).toBe(true);
    p.add(1, 200);
    expect(p.fits(50)).toBe(true);
    expect(p.fits(51)).toBe(false);
    p.close();
    expect(p.fits(1)).toBe(false);
  });
});
