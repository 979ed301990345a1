/**
 * Which pending RDS maintenance actions are security patches, and in what order to list them.
 * Pure. RDS names the kind of action (`system-update`, `os-upgrade`, `db-upgrade`,
 * `hardware-maintenance`, `ca-certificate-rotation`, …) and describes it in words; OS and system
 * updates carry the operating system's security fixes, a certificate rotation keeps TLS valid, and
 * any action whose description speaks of security or a CVE counts too.
 */
import type { PendingAction } from '#common/maintenance/maintenance-results';

const SECURITY_ACTIONS = new Set(['system-update', 'os-upgrade', 'ca-certificate-rotation']);
const SECURITY_WORDS = /\b(security|CVE-\d{4}-\d+|vulnerab\w*)\b/i;

/** True for an action that is a security patch. */
export function isSecurityAction(action: string, description?: string): boolean {
  return SECURITY_ACTIONS.has(action) || (description !== undefined && SECURITY_WORDS.test(description));
}

/** The date AWS applies an action by itself, when it says (the forced date first). */
export function appliedFrom(action: PendingAction): string | undefined {
  return action.forcedApplyDate ?? action.autoAppliedAfter ?? action.currentApplyDate;
}

/** Security patches first, then by the date AWS applies them (soonest first), then by name. */
export function byUrgency(a: PendingAction, b: PendingAction): number {
  if (a.security !== b.security) return a.security ? -1 : 1;
  const da = appliedFrom(a) ?? '9999';
  const db = appliedFrom(b) ?? '9999';
  return da === db ? a.action.localeCompare(b.action) : da.localeCompare(db);
}
