/**
 * Log analysis probe (DESIGN §11): the error count and error rate of CloudWatch Logs groups over a
 * window, from Logs Insights queries, with the most frequent error messages as evidence. Three
 * queries run at once over the same window (all events, the errors, the errors by message), each
 * polled with growing pauses until it completes, and stopped if the check's time runs out.
 *
 * Rules (pure, {@link evaluateLogs}): error rate above the threshold → warn (a spike while
 * serving); at or above 50 % → fail, as for HTTP checks; fewer events than `minEvents` → no rate
 * verdict (pass, counts still reported). A query that cannot run fails the check with its reason.
 */
import {
  type CloudWatchLogsClient,
  GetQueryResultsCommand,
  StartQueryCommand,
  StopQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { LogsCheck } from '../check-set.ts';
import { type CheckOutcome, FAIL_ERROR_RATE_PERCENT } from '../evaluate.ts';
import { describeError, ProbeTimeoutError } from './errors.ts';

/** The three queries of a check: events, errors, errors by message. */
export function logQueries(check: LogsCheck): { events: string; errors: string; top: string } {
  // Insights reads the pattern between slashes: a slash inside it must be escaped.
  const pattern = `${check.caseSensitive ? '' : '(?i)'}${check.errorPattern.replace(/(?<!\\)\//g, '\\/')}`;
  const field = check.messageField;
  const filter = `filter ${field} like /${pattern}/`;
  return {
    events: 'stats count(*) as events',
    errors: `${filter} | stats count(*) as errors`,
    top: `${filter} | stats count(*) as occurrences by ${field} | sort occurrences desc | limit ${check.topMessages}`,
  };
}

export interface LogCounts {
  readonly events: number;
  readonly errors: number;
  readonly topMessages: readonly { readonly message: string; readonly count: number }[];
  /** Events Insights scanned for the three queries. */
  readonly scanned: number;
}

/** Decides the check from the counts (pure). */
export function evaluateLogs(check: LogsCheck, counts: LogCounts): CheckOutcome {
  const groups = check.logGroups.join(', ');
  const rate = counts.events > 0 ? (counts.errors * 100) / counts.events : null;
  const judged = rate !== null && counts.events >= check.minEvents;
  const status =
    judged && rate >= FAIL_ERROR_RATE_PERCENT
      ? 'fail'
      : judged && rate > check.errorRateThresholdPercent
        ? 'warn'
        : 'pass';
  const rateText = rate === null ? 'no events' : `${rate.toFixed(2)} % errors`;
  const verdict = judged
    ? `(threshold ${check.errorRateThresholdPercent} %)`
    : `(fewer than ${check.minEvents} events: no rate verdict)`;
  return {
    status,
    summary: `${groups}: ${counts.errors} errors in ${counts.events} events over ${check.windowMinutes} min, ${rateText} ${verdict}`,
    evidence: {
      logGroups: check.logGroups,
      windowMinutes: check.windowMinutes,
      errorPattern: check.errorPattern,
      events: counts.events,
      errors: counts.errors,
      errorRatePercent: rate === null ? null : Math.round(rate * 100) / 100,
      thresholdPercent: check.errorRateThresholdPercent,
      minEvents: check.minEvents,
      topMessages: counts.topMessages,
      recordsScanned: counts.scanned,
    },
  };
}

/** Pauses between polls of a query: short first, growing to a second. */
const POLL_DELAYS_MS = [100, 200, 400, 800, 1000];

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

type Rows = { field?: string; value?: string }[][];

/** Runs one Insights query to completion (or stops it when `deadline` passes or `signal` aborts). */
export async function runInsightsQuery(
  client: CloudWatchLogsClient,
  query: { logGroups: readonly string[]; start: number; end: number; queryString: string; limit?: number },
  deadline: number,
  signal?: AbortSignal,
): Promise<{ rows: Rows; scanned: number }> {
  const started = Date.now();
  const { queryId } = await client.send(
    new StartQueryCommand({
      logGroupNames: [...query.logGroups],
      startTime: Math.floor(query.start / 1000),
      endTime: Math.floor(query.end / 1000),
      queryString: query.queryString,
      ...(query.limit ? { limit: query.limit } : {}),
    }),
    signal ? { abortSignal: signal } : {},
  );
  for (let poll = 0; ; poll++) {
    if (Date.now() >= deadline || signal?.aborted) {
      await client.send(new StopQueryCommand({ queryId })).catch(() => undefined);
      throw new ProbeTimeoutError(Math.max(0, deadline - started));
    }
    const out = await client.send(new GetQueryResultsCommand({ queryId }));
    if (out.status === 'Complete') {
      return { rows: (out.results ?? []) as Rows, scanned: out.statistics?.recordsScanned ?? 0 };
    }
    if (out.status !== 'Running' && out.status !== 'Scheduled') {
      throw new Error(`Logs Insights query ${queryId} ended ${out.status}`);
    }
    await sleep(Math.min(POLL_DELAYS_MS[poll] ?? 1000, Math.max(0, deadline - Date.now())), signal);
  }
}

const field = (row: Rows[number], name: string) => row.find((cell) => cell.field === name)?.value;
const count = (rows: Rows, name: string) => Number(field(rows[0] ?? [], name) ?? 0);

/** Runs the check's queries over the window ending at `now` and evaluates them. */
export async function probeLogs(
  check: LogsCheck,
  client: CloudWatchLogsClient,
  options: { readonly now: Date; readonly signal?: AbortSignal },
): Promise<CheckOutcome> {
  const end = options.now.getTime();
  const window = { logGroups: check.logGroups, start: end - check.windowMinutes * 60_000, end };
  const deadline = Date.now() + check.timeoutMs;
  const queries = logQueries(check);
  try {
    const [events, errors, top] = await Promise.all([
      runInsightsQuery(client, { ...window, queryString: queries.events }, deadline, options.signal),
      runInsightsQuery(client, { ...window, queryString: queries.errors }, deadline, options.signal),
      runInsightsQuery(
        client,
        { ...window, queryString: queries.top, limit: check.topMessages },
        deadline,
        options.signal,
      ),
    ]);
    return evaluateLogs(check, {
      events: count(events.rows, 'events'),
      errors: count(errors.rows, 'errors'),
      topMessages: top.rows.map((row) => ({
        message: (field(row, check.messageField) ?? '').slice(0, 500),
        count: Number(field(row, 'occurrences') ?? 0),
      })),
      scanned: events.scanned,
    });
  } catch (error) {
    const reason = describeError(error);
    return {
      status: 'fail',
      summary: `${check.logGroups.join(', ')}: logs not analysed (${reason})`,
      evidence: { logGroups: check.logGroups, windowMinutes: check.windowMinutes, error: reason },
    };
  }
}
