/**
 * What verification can find wrong with a backup, named, and how it becomes an IntegrityError.
 * The names are part of the public contract (docs/backup-verification.md): alerts and tests
 * match on them.
 */
import { IntegrityError } from '../runtime/errors.ts';

export const PROBLEMS = {
  /** A stored object's bytes were altered: authentication of a frame or the header failed. */
  'tampered-object': 'the encrypted copy fails authentication (its bytes were altered)',
  /** A stored object is shorter than the manifest says, or its message ends early. */
  'truncated-object': 'the encrypted copy is incomplete (truncated)',
  /** A stored object is larger or smaller than the manifest says (other than truncation). */
  'stored-size-mismatch': 'the encrypted copy has another size than the manifest records',
  /** A stored object named by the manifest does not exist. */
  'missing-object': 'the encrypted copy is missing',
  /** An object under the backup's objects/ prefix is not in its manifest. */
  'extra-object': 'an object in the backup is not listed in its manifest',
  /** A stored object's data key cannot be decrypted with the trusted key(s). */
  'wrong-key': 'the encrypted copy is not encrypted under the backup key',
  /** A stored object is the encrypted copy of another object (moved or swapped). */
  'wrong-context': 'the encrypted copy belongs to another object or backup (moved or swapped)',
  /** The decrypted plaintext does not have the SHA-256 the manifest records. */
  'checksum-mismatch': 'the plaintext SHA-256 differs from the manifest',
  /** The decrypted plaintext does not have the size the manifest records. */
  'size-mismatch': 'the plaintext size differs from the manifest',
  /** The manifest does not exist. */
  'missing-manifest': 'the manifest is missing',
  /** The manifest's bytes are not the ones its seal was made for, or it is not a valid manifest. */
  'edited-manifest': 'the manifest was edited after it was written',
  /** The manifest's seal is missing. */
  'missing-seal': 'the manifest seal is missing, so the manifest cannot be authenticated',
  /** A manifest part is missing. */
  'missing-part': 'a part of the manifest is missing',
  /** A manifest part's bytes are not the ones the manifest records. */
  'edited-part': 'a part of the manifest was edited',
  /** The parent backup's manifest is missing. */
  'missing-parent': "the parent backup's manifest is missing (the chain is broken)",
  /** The parent backup's manifest is not the one this backup chained to. */
  'edited-parent': "the parent backup's manifest differs from the one this backup recorded",
  /** Parent and child disagree about the chain (set, order, depth or full backup). */
  'broken-chain': 'the backup chain is inconsistent',
} as const;

export type ProblemName = keyof typeof PROBLEMS;

/** One finding, with the object or manifest it concerns. */
export interface Problem {
  readonly problem: ProblemName;
  /** The backup the finding is about (may be an ancestor in the chain). */
  readonly backupId: string;
  /** The source key, when the finding is about one object. */
  readonly key?: string;
  /** The S3 key of the stored object, manifest or part concerned. */
  readonly storedKey?: string;
  readonly expected?: string | number;
  readonly actual?: string | number;
  /** Extra explanation (e.g. the SDK's error message). */
  readonly detail?: string;
}

/** A one-line description of a finding. */
export function describeProblem(finding: Problem): string {
  const what = finding.key !== undefined ? `object "${finding.key}"` : `backup ${finding.backupId}`;
  const where = finding.storedKey ? ` (s3 key ${finding.storedKey})` : '';
  const values =
    finding.expected !== undefined || finding.actual !== undefined
      ? `: expected ${finding.expected ?? '-'}, found ${finding.actual ?? '-'}`
      : '';
  const detail = finding.detail ? ` [${finding.detail}]` : '';
  return `${finding.problem}: ${what}${where}: ${PROBLEMS[finding.problem]}${values}${detail}`;
}

/** Thrown for a single finding that makes further checks meaningless (e.g. an edited manifest). */
export class IntegrityProblem extends IntegrityError {
  readonly finding: Problem;
  constructor(finding: Problem, options?: { cause?: unknown }) {
    super(describeProblem(finding), { ...finding }, options);
    this.finding = finding;
  }
}

/** The IntegrityError for a list of findings: the message names the first, details list them all. */
export function integrityFailure(
  subject: { readonly set: string; readonly backupId: string },
  findings: readonly Problem[],
  totalFound = findings.length,
): IntegrityError {
  const first = findings[0];
  const message = first
    ? `Backup ${subject.set}/${subject.backupId} failed verification with ${totalFound} problem(s); first: ${describeProblem(first)}`
    : `Backup ${subject.set}/${subject.backupId} failed verification`;
  return new IntegrityError(message, {
    set: subject.set,
    backupId: subject.backupId,
    problem: first?.problem,
    key: first?.key,
    storedKey: first?.storedKey,
    problems: findings,
    problemCount: totalFound,
  });
}
