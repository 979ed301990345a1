/**
 * Execution history in AWS's GetExecutionHistory shapes: events numbered from 1, each with the
 * id of the event that led to it, and `<type>EventDetails` named as the API names them.
 */

export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: Date;
  readonly type: string;
  /** e.g. `{ taskScheduledEventDetails: {...} }`. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** `TaskStateEntered` → `stateEnteredEventDetails`; the API groups events under shared names. */
function detailsKey(type: string): string | undefined {
  if (/StateEntered$/.test(type)) return 'stateEnteredEventDetails';
  if (/StateExited$/.test(type)) return 'stateExitedEventDetails';
  if (/^MapIteration/.test(type)) return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
  if (
    [
      'ParallelStateStarted',
      'ParallelStateSucceeded',
      'MapStateSucceeded',
      'MapRunSucceeded',
      'LambdaFunctionStarted',
      'ParallelStateAborted',
      'MapStateAborted',
      'MapRunAborted',
      'TaskStateAborted',
      'WaitStateAborted',
    ].includes(type)
  ) {
    return undefined;
  }
  return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
}

/** An execution's history; closed once the execution ends, after which events are dropped. */
export class HistoryLog {
  readonly events: HistoryEvent[] = [];
  #closed = false;
  /** The last `<Type>StateEntered` id per state name, so task events can point at it. */
  readonly #entered = new Map<string, number>();

  get closed(): boolean {
    return this.#closed;
  }

  /** Appends an event; `previousEventId` defaults to the event before it. Returns its id. */
  add(type: string, details?: Record<string, unknown>, previousEventId?: number): number {
    if (this.#closed) return 0;
    const id = this.events.length + 1;
    const key = detailsKey(type);
    this.events.push({
      id,
      previousEventId: previousEventId ?? id - 1,
      timestamp: new Date(),
      type,
      details: key && details ? { [key]: details } : {},
    });
    if (type.endsWith('StateEntered') && details && typeof details.name === 'string') {
      this.#entered.set(details.name, id);
    }
    return id;
  }

  /** The id of the last time `stateName` was entered. */
  enteredId(stateName: string): number | undefined {
    return this.#entered.get(stateName);
  }

  /** Appends the final event and closes the log. */
  close(type: string, details?: Record<string, unknown>): void {
    this.add(type, details);
    this.#closed = true;
  }
}

/** JSON text of a value, as history and DescribeExecution carry data. */
export function json(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

const DATA_FIELDS = new Set(['input', 'output', 'inputDetails', 'outputDetails', 'parameters']);

/** Renders an event for the wire; `includeData: false` leaves inputs and outputs out. */
export function renderEvent(event: HistoryEvent, includeData: boolean): Record<string, unknown> {
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event.details)) {
    if (includeData || value === null || typeof value !== 'object') {
      details[key] = value;
      continue;
    }
    details[key] = Object.fromEntries(
      Object.entries(value as Record<string, unknown>).filter(([field]) => !DATA_FIELDS.has(field)),
    );
  }
  return {
    timestamp: event.timestamp.getTime() / 1000,
    type: event.type,
    id: event.id,
    previousEventId: event.previousEventId,
    ...details,
  };
}
