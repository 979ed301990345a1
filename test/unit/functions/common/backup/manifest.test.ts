import { describe, expect, it } from 'vitest';
import {
  buildManifest,
  describePart,
  manifestSchema,
  partSchema,
  serializeManifest,
  serializePart,
  sha256Hex,
} from '../../../../../functions/common/backup/manifest.ts';
import { entry, manifest, part } from './fixtures.ts';

const ID = '20260101T000000Z-aaaaaaaa';
const OTHER = '20251231T000000Z-bbbbbbbb';

describe('serializePart', () => {
  it('writes one entry per line and reads back to the same part', () => {
    const p = part(ID, 1, [entry('docs/a b.txt'), entry('docs/ü😀')], ['docs/gone']);

    const bytes = serializePart(p);

    expect(bytes.toString().split('\n')).toHaveLength(5);
    expect(partSchema.parse(JSON.parse(bytes.toString()))).toEqual(p);
  });

  it('writes an empty part as valid JSON', () => {
    expect(partSchema.parse(JSON.parse(serializePart(part(ID, 1, [])).toString())).objects).toEqual([]);
  });
});

describe('describePart', () => {
  it('counts copied (stored by this backup) and reused (stored earlier) objects, bytes and key range', () => {
    const own = entry('docs/a', { size: 10, storedSize: 410, storedBackupId: ID });
    const reused = entry('docs/b', { size: 5, storedSize: 405, storedBackupId: OTHER });
    const p = part(ID, 3, [own, reused], ['docs/c']);
    const bytes = serializePart(p);

    const descriptor = describePart(p, 'key', bytes);

    expect(descriptor).toEqual({
      batch: 3,
      key: 'key',
      sha256: sha256Hex(bytes),
      objects: 2,
      bytes: 15,
      storedBytes: 815,
      copiedObjects: 1,
      copiedBytes: 10,
      reusedObjects: 1,
      vanishedObjects: 1,
      firstKey: 'docs/a',
      lastKey: 'docs/b',
    });
  });
});

describe('buildManifest', () => {
  it('sums the parts into totals and derives the duration', () => {
    const m = manifest({
      parts: [[entry('docs/a', { size: 3 }), entry('docs/b', { size: 4 })], [entry('docs/c', { size: 5 })]],
    });

    expect(m.totals.objects).toBe(3);
    expect(m.totals.bytes).toBe(12);
    expect(m.totals.parts).toBe(2);
    expect(m.totals.reusedBytes).toBe(m.totals.bytes - m.totals.copiedBytes);
    expect(m.durationMs).toBe(2500);
  });

  it('refuses parts that are not numbered 1..n', () => {
    const m = manifest({ parts: [[entry('docs/a')], [entry('docs/b')]] });
    const [, second] = m.parts;

    expect(() => buildManifest(m, [second!])).toThrow(/part 1 is missing/);
  });

  it('produces a manifest the schema accepts, byte-identical on every serialization', () => {
    const m = manifest();

    expect(manifestSchema.parse(JSON.parse(serializeManifest(m).toString()))).toEqual(m);
    expect(sha256Hex(serializeManifest(m))).toBe(sha256Hex(serializeManifest(structuredClone(m))));
  });

  it('rejects a manifest with an unknown field (an edit the seal would also catch)', () => {
    const edited = { ...manifest(), extra: true };

    expect(manifestSchema.safeParse(edited).success).toBe(false);
  });
});
