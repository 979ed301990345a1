/**
 * The record of every request IAM refused: who, what, on which resources, and the statement that
 * decided (or that none allowed). Kept in memory (the newest 10,000), readable in process
 * (`sandbox.denials()`), at `GET /_sandbox/iam/denials`, and printed by `caretaker sandbox up`.
 */
import type { DecidingStatement, DecisionReason } from '../../iam/index.ts';

/** Where the denied call came from. */
export type DenialOrigin =
  /** A request over HTTP(S), signed with a role session's credentials (a function's). */
  | 'request'
  /** A state machine's own call (Lambda invoke, nested execution), evaluated in process. */
  | 'states'
  /** A schedule delivering to its target, evaluated in process. */
  | 'scheduler';

export interface Denial {
  readonly time: Date;
  /** The caller as AWS names it: `arn:aws:sts::<account>:assumed-role/<role>/<session>`. */
  readonly principal: string;
  readonly roleArn: string;
  readonly sessionName: string;
  /** The IAM action refused, e.g. `s3:PutObject` (maybe one the operation needs besides its own). */
  readonly action: string;
  /** The resources the action was refused on. */
  readonly resources: readonly string[];
  readonly decision: 'ExplicitDeny' | 'ImplicitDeny';
  readonly reason: DecisionReason;
  /** The statements that denied (explicit deny), or that allowed but were not enough (KMS). */
  readonly statements: readonly DecidingStatement[];
  /** One line per refused resource, naming the deciding statement (explainDenial). */
  readonly explanation: readonly string[];
  /** The signing name of the service called (`s3`), or the service acting in process. */
  readonly service: string;
  /** The API operation, when known (`PutObject`, `StartExecution`). */
  readonly operation?: string;
  readonly origin: DenialOrigin;
  readonly requestId?: string;
  /** False when the sandbox only reports (settings.iam.enforcement 'report') and let the call through. */
  readonly enforced: boolean;
}

/** A denial as JSON (the time as ISO 8601), for the inspection route and logs. */
export function denialJson(denial: Denial): Record<string, unknown> {
  return { ...denial, time: denial.time.toISOString() };
}

/** One line for a terminal: `DENIED <principal> <action> on <resource>: <why>`. */
export function denialLine(denial: Denial): string {
  const verdict = denial.enforced ? 'DENIED' : 'WOULD DENY';
  const why = denial.explanation[0]?.replace(/^.*? on resource: \S+ /, '') ?? denial.reason;
  return `${verdict} ${denial.principal} ${denial.action} on ${denial.resources.join(', ')} (${denial.operation ?? denial.service}): ${why}`;
}

export class DenialLog {
  readonly #denials: Denial[] = [];
  readonly #listeners = new Set<(denial: Denial) => void>();

  constructor(private readonly limit = 10_000) {}

  add(denial: Denial): void {
    this.#denials.push(denial);
    if (this.#denials.length > this.limit) this.#denials.splice(0, this.#denials.length - this.limit);
    for (const listener of this.#listeners) {
      try {
        listener(denial);
      } catch (error) {
        console.error('[sandbox] a denial listener failed:', error);
      }
    }
  }

  /** Every denial kept, oldest first. */
  list(): Denial[] {
    return [...this.#denials];
  }

  /** Calls `listener` for each new denial; returns a function that stops it. */
  subscribe(listener: (denial: Denial) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  clear(): void {
    this.#denials.length = 0;
  }
}
