import { describe, expect, it } from 'vitest';
import { classifyDecryptError, ExpectedContextError } from '../../../../../functions/common/backup/crypto.ts';
import { describeProblem, integrityFailure } from '../../../../../functions/common/backup/problems.ts';
import { TOOL_VERSION } from '../../../../../functions/common/backup/version.ts';
import packageJson from '../../../../../package.json' with { type: 'json' };

describe('describeProblem', () => {
  it('names the problem, the object and what was expected', () => {
    const text = describeProblem({
      problem: 'checksum-mismatch',
      backupId: 'b',
      key: 'docs/a b.txt',
      storedKey: 'backups/docs/b/objects/00000001/00000',
      expected: 'aa',
      actual: 'bb',
    });

    expect(text).toBe(
      'checksum-mismatch: object "docs/a b.txt" (s3 key backups/docs/b/objects/00000001/00000): the plaintext SHA-256 differs from the manifest: expected aa, found bb',
    );
  });
});

describe('integrityFailure', () => {
  it('is an IntegrityError whose message names the first finding and whose details list them all', () => {
    const findings = [
      { problem: 'missing-object' as const, backupId: 'b', key: 'k1' },
      { problem: 'extra-object' as const, backupId: 'b', storedKey: 'x' },
    ];

    const error = integrityFailure({ set: 'docs', backupId: 'b' }, findings, 7);

    expect(error.name).toBe('IntegrityError');
    expect(error.message).toMatch(/7 problem\(s\); first: missing-object: object "k1"/);
    expect(error.details).toMatchObject({
      problem: 'missing-object',
      key: 'k1',
      problemCount: 7,
      problems: findings,
    });
  });
});

describe('classifyDecryptError', () => {
  it.each([
    [new ExpectedContextError({ a: '1' }, { a: '2' }), 'wrong-context'],
    [new Error('unencryptedDataKey has not been set'), 'wrong-key'],
    [new Error('Incomplete message'), 'truncated'],
    [new Error('Incomplete Header'), 'truncated'],
    [new Error('Unsupported state or unable to authenticate data'), 'corrupt'],
    [
      new Error(
        'Unable to decrypt data key and one or more KMS CMKs had an error. InvalidCiphertextException',
      ),
      'corrupt',
    ],
    [
      new Error('Unable to decrypt data key and one or more KMS CMKs had an error. AccessDeniedException'),
      'key-access',
    ],
  ])('classifies %s as %s', (error, kind) => {
    expect(classifyDecryptError(error)).toBe(kind);
  });
});

describe('TOOL_VERSION', () => {
  it('is the package version, so manifests name the release that wrote them', () => {
    expect(TOOL_VERSION).toBe(packageJson.version);
  });
});
