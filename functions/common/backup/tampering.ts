/**
 * Signs of tampering found in the backup bucket: records a decision would have rested on that do
 * not check out (no KMS seal, a seal that fails, a date in the future), and a catalog head that
 * names a backup that is gone. Whoever can write to the bucket but cannot use the stack key can
 * make every one of these; none of them is ever used for a decision, and each is reported so an
 * alert names it (docs/security.md). Pure.
 */

/** What is wrong. */
export const TAMPER_KINDS = {
  'future-dated-backup': 'a backup folder dated in the future',
  'unsealed-manifest': 'a manifest without a valid KMS seal (forged, or a seal copied from elsewhere)',
  'edited-manifest': "a real backup's manifest changed after it was sealed",
  'unsealed-verification': 'a verification record without a valid KMS seal',
  'mismatched-verification': 'a sealed verification record of another manifest, set or backup',
  'future-dated-verification': 'a verification record dated in the future',
  'unsealed-catalog-head': 'a catalog head without a valid KMS seal',
  'deleted-catalog-head': 'the catalog head was deleted',
  'newest-backup-missing': 'the newest backup the sealed catalog head records is gone',
} as const;

export type TamperKind = keyof typeof TAMPER_KINDS;

/** One forged or altered object. */
export interface TamperFinding {
  readonly kind: TamperKind;
  /** The S3 key of the object (or folder, ending in `/`) concerned. */
  readonly key: string;
  readonly backupId?: string;
  readonly detail?: string;
}

/** Findings kept in detail in a result (the count goes on). */
export const MAX_LISTED_TAMPERING = 200;

/**
 * `181 forged or altered objects: 180 future-dated-backup (backups/s/…/, … and 177 more), 1
 * unsealed-verification (backups/s/…/verifications/….json)`: every kind found, with up to `perKind`
 * keys each, so a lone forgery is named next to a flood of another kind. Pure.
 */
export function describeTampering(findings: readonly TamperFinding[], total: number, perKind = 3): string {
  const byKind = new Map<TamperKind, TamperFinding[]>();
  for (const finding of findings) byKind.set(finding.kind, [...(byKind.get(finding.kind) ?? []), finding]);
  const unlisted = total - findings.length;
  const parts = [...byKind].map(([kind, found]) => {
    const names = found.slice(0, perKind).map((finding) => finding.key);
    const more = found.length - names.length;
    return `${found.length} ${kind} (${names.join(', ')}${more > 0 ? ` and ${more} more` : ''})`;
  });
  return `${total} forged or altered object${total === 1 ? '' : 's'}: ${parts.join('; ')}${unlisted > 0 ? `; and ${unlisted} more not listed` : ''}`;
}

/** Collects findings up to {@link MAX_LISTED_TAMPERING}, counting all. */
export class TamperLog {
  readonly findings: TamperFinding[] = [];
  count = 0;

  add(finding: TamperFinding): void {
    this.count++;
    if (this.findings.length < MAX_LISTED_TAMPERING) this.findings.push(finding);
  }

  addAll(findings: readonly TamperFinding[]): void {
    for (const finding of findings) this.add(finding);
  }
}
