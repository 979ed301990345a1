/** What a cleanup run reports, per target (an RDS target in one region, or a backup set). */
import type { TamperFinding } from '#common/backup/tampering';
import type { RetentionDecision } from '#common/retention/retention';

/** At most this many decisions per target in the result (every deletion is always listed). */
export const MAX_LISTED_DECISIONS = 500;

export interface Deletion {
  readonly id: string;
  readonly reasons: readonly string[];
  /**
   * `deleted`; `already-gone` (a re-run after a partial cleanup); `would-delete` (dry run);
   * `partial` (a backup stopped by the time budget: the next run finishes it); `skipped` (see detail).
   */
  readonly outcome: 'deleted' | 'already-gone' | 'would-delete' | 'partial' | 'skipped';
  readonly detail?: string;
  /** Backups: objects deleted, and objects left because kept backups still reference them. */
  readonly objectsDeleted?: number;
  readonly objectsReferenced?: number;
}

export interface TargetReport {
  readonly name: string;
  readonly resource: 'rds-snapshots' | 'backups';
  readonly region?: string;
  readonly policy: string;
  /**
   * `done`; `incomplete` (time budget or skipped deletions: run again); `refused` (empty
   * inventory: nothing touched); `failed` (the inventory could not be read, or a deletion failed).
   */
  status: 'done' | 'incomplete' | 'refused' | 'failed';
  reason?: string;
  /** Recovery points planned over (managed and unmanaged). */
  points: number;
  kept: number;
  decisions: RetentionDecision[];
  decisionsNotListed?: number;
  deletions: Deletion[];
  notes: string[];
  /**
   * Backups: forged or altered objects found (unsealed manifests or records, future dates, a
   * newest backup gone). Never used for a decision, never deleted; the report alerts critical.
   */
  tampering?: TamperFinding[];
  tamperingCount?: number;
  /** The error that failed the target, kept for the run's final verdict. */
  error?: unknown;
}

export interface CleanupReport {
  readonly dryRun: boolean;
  readonly now: string;
  readonly targets: Omit<TargetReport, 'error'>[];
  readonly totals: {
    readonly deleted: number;
    readonly wouldDelete: number;
    readonly kept: number;
    readonly incompleteTargets: number;
    readonly refusedTargets: number;
    readonly failedTargets: number;
    /** Forged or altered objects found, over all targets. */
    readonly tampering: number;
  };
}

/** A new target report. */
export function targetReport(
  name: string,
  resource: TargetReport['resource'],
  policy: string,
  region?: string,
): TargetReport {
  return {
    name,
    resource,
    ...(region ? { region } : {}),
    policy,
    status: 'done',
    points: 0,
    kept: 0,
    decisions: [],
    deletions: [],
    notes: [],
  };
}

/** Records the plan's decisions (capped) and the kept count. */
export function recordDecisions(report: TargetReport, decisions: readonly RetentionDecision[]): void {
  report.points = decisions.length;
  report.kept = decisions.filter((decision) => decision.action === 'keep').length;
  report.decisions = decisions.slice(0, MAX_LISTED_DECISIONS).map((d) => ({ ...d, reasons: [...d.reasons] }));
  if (decisions.length > MAX_LISTED_DECISIONS)
    report.decisionsNotListed = decisions.length - MAX_LISTED_DECISIONS;
}

/** Marks a target incomplete when deletions were skipped or cut short (unless it already failed). */
export function settle(report: TargetReport): void {
  if (report.status !== 'done') return;
  if (report.deletions.some((d) => d.outcome === 'skipped' || d.outcome === 'partial'))
    report.status = 'incomplete';
}

/** The run's report from its targets. */
export function summarise(dryRun: boolean, now: Date, targets: readonly TargetReport[]): CleanupReport {
  const count = (outcome: Deletion['outcome']) =>
    targets.reduce((sum, t) => sum + t.deletions.filter((d) => d.outcome === outcome).length, 0);
  return {
    dryRun,
    now: now.toISOString(),
    targets: targets.map(({ error: _error, ...rest }) => rest),
    totals: {
      deleted: count('deleted'),
      wouldDelete: count('would-delete'),
      kept: targets.reduce((sum, t) => sum + t.kept, 0),
      incompleteTargets: targets.filter((t) => t.status === 'incomplete').length,
      refusedTargets: targets.filter((t) => t.status === 'refused').length,
      failedTargets: targets.filter((t) => t.status === 'failed').length,
      tampering: targets.reduce((sum, t) => sum + (t.tamperingCount ?? 0), 0),
    },
  };
}
