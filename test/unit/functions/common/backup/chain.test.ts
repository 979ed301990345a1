import { describe, expect, it } from 'vitest';
import { checkLink, rootProblems } from '../../../../../functions/common/backup/chain.ts';
import { serializeManifest } from '../../../../../functions/common/backup/manifest.ts';
import { child, manifest } from './fixtures.ts';

const FULL = '20260101T000000Z-aaaaaaaa';
const INC1 = '20260102T000000Z-bbbbbbbb';

describe('checkLink', () => {
  const full = manifest({ backupId: FULL });
  const incremental = child(full, INC1);

  it('accepts a parent whose bytes hash to what the child recorded', () => {
    const link = checkLink(incremental, serializeManifest(full));

    expect(link.problems).toEqual([]);
    expect(link.parent?.backupId).toBe(FULL);
  });

  it('reports a missing parent manifest', () => {
    expect(checkLink(incremental, undefined).problems).toEqual([
      expect.objectContaining({
        problem: 'missing-parent',
        backupId: INC1,
        storedKey: `backups/docs/${FULL}/manifest.json`,
      }),
    ]);
  });

  it('reports an edited parent manifest, even a whitespace change', () => {
    const edited = Buffer.concat([serializeManifest(full), Buffer.from(' ')]);

    expect(checkLink(incremental, edited).problems).toEqual([
      expect.objectContaining({ problem: 'edited-parent', expected: incremental.parent?.manifestSha256 }),
    ]);
  });

  it('reports a child whose depth does not follow its parent', () => {
    const skipping = { ...incremental, chain: { ...incremental.chain, depth: 5 } };

    expect(checkLink(skipping, serializeManifest(full)).problems).toEqual([
      expect.objectContaining({ problem: 'broken-chain', detail: expect.stringMatching(/depth 5/) }),
    ]);
  });

  it('reports a parent that is not older than the child', () => {
    const newer = manifest({ backupId: '20260301T000000Z-cccccccc' });
    const backwards = child(newer, INC1);

    expect(checkLink(backwards, serializeManifest(newer)).problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ problem: 'broken-chain', detail: expect.stringMatching(/not older/) }),
      ]),
    );
  });
});

describe('rootProblems', () => {
  it('accepts a full backup rooted at itself', () => {
    expect(rootProblems(manifest({ backupId: FULL }))).toEqual([]);
  });

  it('reports an incremental that claims to have no parent (a cut chain)', () => {
    const cut = manifest({ backupId: INC1, mode: 'incremental', chain: { fullBackupId: FULL, depth: 1 } });

    expect(rootProblems(cut)).toEqual([expect.objectContaining({ problem: 'broken-chain', backupId: INC1 })]);
  });
});
