/**
 * One alert per incident (DESIGN §6), decided per flow: a run with failures opens an incident (or
 * keeps the open one going), and the next run of the same flow that started after the last failed
 * one and has no failures resolves it. The state is a small object per flow that `report` alone
 * reads and writes (incident-store.ts); this module is the pure decision.
 *
 * Idempotent per run: a report retried for the same run replays the decision it made the first
 * time (and, once its alert went out, does not publish again), so a retry can neither resolve an
 * incident twice nor turn its own "opened" into "ongoing".
 *
 * The state decides only how an alert is worded (opened, still failing, resolved), never whether a
 * failure is alerted: a failed run always alerts. So a state someone else wrote or deleted can at
 * worst add or lose a "resolved" message; everything in it is checked by the schema below, and
 * nothing but execution references, times and counts is taken from it into a message.
 */
import * as z from 'zod';
import { FLOWS } from '#common/alerts/alert-schema';

export const INCIDENT_STATE_FORMAT = 'caretaker.report.incident-state';

/** The file name of a flow's incident state, under `reports/<flow>/` (the stack grants reading it). */
export const INCIDENT_STATE_FILE = 'incident.json';

/** The key of `flow`'s incident state in the backup bucket. */
export function incidentKey(flow: string): string {
  return `reports/${flow}/${INCIDENT_STATE_FILE}`;
}

const isoTime = z.iso.datetime({ offset: true });
/** An execution ARN, or the run key of a report without one. */
const runRef = z.string().regex(/^[\w.:/-]{1,700}$/, 'expected an execution ARN or a run key');

const incident = z
  .object({
    /** The run that opened the incident, and when it started. */
    openedBy: runRef,
    openedAt: isoTime,
    /** Failed runs in a row, the opening one included. */
    failedRuns: z.number().int().positive(),
    /** The latest failed run, and when it started. */
    lastFailedBy: runRef,
    lastFailedAt: isoTime,
    /** When the opening run's report alerted: escalation times count from here (DESIGN §11). */
    reportedAt: isoTime.optional(),
    /** The escalation levels paged so far (functions/escalation), one message each. */
    escalations: z
      .array(
        z
          .object({
            level: z.number().int().min(2).max(10),
            at: isoTime,
            /** The escalation alert's SNS message id, once it was published. */
            messageId: z.string().max(200).optional(),
          })
          .strict(),
      )
      .max(10)
      .optional(),
  })
  .strict();

export type Incident = z.output<typeof incident>;

export const DECISIONS = ['opened', 'ongoing', 'resolved', 'none'] as const;
export type Decision = (typeof DECISIONS)[number];

export const incidentStateSchema = z
  .object({
    format: z.literal(INCIDENT_STATE_FORMAT),
    flow: z.enum(FLOWS),
    /** The open incident, or null. */
    open: incident.nullable(),
    /** The last run reported, with what was decided for it (replayed when it is reported again). */
    last: z
      .object({
        run: runRef,
        startedAt: isoTime,
        decision: z.enum(DECISIONS),
        /** The incident the decision concerns (opened, continued or resolved); null for `none`. */
        incident: incident.nullable(),
        /** The alert's SNS message id, once it was published. */
        messageId: z.string().max(200).optional(),
      })
      .strict()
      .nullable(),
  })
  .strict();

export type IncidentState = z.output<typeof incidentStateSchema>;

export interface ReportedRun {
  readonly flow: IncidentState['flow'];
  /** The execution ARN (or run key) of the run being reported. */
  readonly run: string;
  readonly startedAt: string;
  /** Whether the run had failures. */
  readonly failed: boolean;
  /** When the run is reported (its alert goes out): an opened incident escalates from here. */
  readonly reportedAt?: string;
  /**
   * Whether a clean run of this kind shows the cause is gone: a cleanup dry run deletes nothing,
   * so it cannot resolve a failed real cleanup.
   * @default true
   */
  readonly canResolve?: boolean;
}

export interface IncidentDecision {
  readonly decision: Decision;
  /** The incident the alert is about: opened, still open, or just resolved. */
  readonly incident: Incident | null;
  /** The state to store. */
  readonly next: IncidentState;
  /** True when this run was reported before and its alert already went out. */
  readonly alreadyPublished: boolean;
  /** The earlier alert's message id, when it already went out. */
  readonly messageId?: string;
}

const time = (iso: string) => new Date(iso).getTime();

/** What reporting `run` means for its flow's incident, given the stored state (undefined: none). */
export function decideIncident(previous: IncidentState | undefined, run: ReportedRun): IncidentDecision {
  const state: IncidentState = previous ?? {
    format: INCIDENT_STATE_FORMAT,
    flow: run.flow,
    open: null,
    last: null,
  };
  if (state.last && state.last.run === run.run) {
    return {
      decision: state.last.decision,
      incident: state.last.incident,
      next: state,
      alreadyPublished: state.last.messageId !== undefined,
      ...(state.last.messageId !== undefined ? { messageId: state.last.messageId } : {}),
    };
  }

  let decision: Decision = 'none';
  let concerned: Incident | null = null;
  let open = state.open;
  if (run.failed) {
    concerned = open
      ? {
          ...open,
          failedRuns: open.failedRuns + 1,
          // A failed run that started before the latest failure does not move it back.
          ...(time(run.startedAt) >= time(open.lastFailedAt)
            ? { lastFailedBy: run.run, lastFailedAt: run.startedAt }
            : {}),
        }
      : {
          openedBy: run.run,
          openedAt: run.startedAt,
          failedRuns: 1,
          lastFailedBy: run.run,
          lastFailedAt: run.startedAt,
          ...(run.reportedAt ? { reportedAt: run.reportedAt } : {}),
        };
    decision = open ? 'ongoing' : 'opened';
    open = concerned;
  } else if (open && run.canResolve !== false && time(run.startedAt) > time(open.lastFailedAt)) {
    // Only a run that started after the latest failure says the cause is gone.
    decision = 'resolved';
    concerned = open;
    open = null;
  }
  return {
    decision,
    incident: concerned,
    next: {
      ...state,
      open,
      last: { run: run.run, startedAt: run.startedAt, decision, incident: concerned },
    },
    alreadyPublished: false,
  };
}

/** The state after the run's alert went out as `messageId`. */
export function withPublished(state: IncidentState, messageId: string): IncidentState {
  return state.last ? { ...state, last: { ...state.last, messageId } } : state;
}
