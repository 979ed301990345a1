/**
 * The log analysis probe: its Insights queries and its verdict (pure), then whole checks against
 * the sandbox's CloudWatch Logs over loopback: error count, rate and the most frequent messages of
 * a window, a spike, a missing log group, and a query that does not finish in the check's time.
 */
import { CloudWatchLogsClient, GetQueryResultsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { logsCheck } from '#common/config/config-sections';
import { evaluateLogs, logQueries, probeLogs } from '../../../../../functions/health-check/probes/logs.ts';
import { type LogsService, logsService } from '../../../../../sandbox/services/logs/index.ts';
import { withSandbox } from '../../../../support/sandbox.ts';

const handle = withSandbox([logsService], { settings: { logs: { runningPolls: 1 } } });
const NOW = new Date('2026-11-21T02:00:00Z');
const check = (fields: Record<string, unknown> = {}) =>
  logsCheck.parse({ name: 'api-logs', logGroups: ['/app/api'], minEvents: 10, ...fields });

beforeAll(() => {
  const logs = handle.sandbox.context.service<LogsService>('logs')!;
  const minute = 60_000;
  // The last 15 minutes: 180 events, 6 errors (3.3 %). An hour before: a burst of errors.
  logs.putEvents('us-east-1', '/app/api', 'web-1', [
    ...Array.from({ length: 174 }, (_, i) => ({
      timestamp: NOW.getTime() - (i % 14) * minute - 1000,
      message: `INFO GET /orders/${i} 200`,
    })),
    ...Array.from({ length: 4 }, () => ({
      timestamp: NOW.getTime() - 5 * minute,
      message: 'ERROR payments: timeout after 3000 ms',
    })),
    ...Array.from({ length: 2 }, () => ({
      timestamp: NOW.getTime() - 6 * minute,
      message: 'ERROR db: too many connections',
    })),
    ...Array.from({ length: 60 }, () => ({
      timestamp: NOW.getTime() - 70 * minute,
      message: 'FATAL out of memory',
    })),
  ]);
  logs.putEvents('us-east-1', '/app/worker', 'w', [
    { timestamp: NOW.getTime() - minute, message: '{"level":"error","message":"job 7 failed"}' },
  ]);
});

describe('logQueries', () => {
  it('filters with the pattern (slashes escaped, (?i) when case does not matter) and groups by the message field', () => {
    const queries = logQueries(
      check({
        errorPattern: 'HTTP/1.1 5\\d\\d',
        caseSensitive: false,
        messageField: 'message',
        topMessages: 3,
      }),
    );

    expect(queries).toEqual({
      events: 'stats count(*) as events',
      errors: 'filter message like /(?i)HTTP\\/1.1 5\\d\\d/ | stats count(*) as errors',
      top: 'filter message like /(?i)HTTP\\/1.1 5\\d\\d/ | stats count(*) as occurrences by message | sort occurrences desc | limit 3',
    });
  });
});

describe('evaluateLogs', () => {
  const counts = (events: number, errors: number) => ({ events, errors, topMessages: [], scanned: events });

  it('passes at or under the threshold, degrades above it, fails from 50 %', () => {
    expect(evaluateLogs(check(), counts(100, 5)).status).toBe('pass');
    expect(evaluateLogs(check(), counts(100, 6)).status).toBe('warn');
    expect(evaluateLogs(check(), counts(100, 50)).status).toBe('fail');
  });

  it('gives no rate verdict under minEvents, and says so', () => {
    const outcome = evaluateLogs(check({ minEvents: 20 }), counts(4, 4));

    expect(outcome.status).toBe('pass');
    expect(outcome.summary).toContain('fewer than 20 events: no rate verdict');
    expect(outcome.evidence).toMatchObject({ events: 4, errors: 4, errorRatePercent: 100 });
  });
});

describe('probeLogs on the sandbox', () => {
  const client = () => new CloudWatchLogsClient({});

  it('counts the errors of the window and lists the most frequent messages', async () => {
    const outcome = await probeLogs(check(), client(), { now: NOW });

    expect(outcome.status).toBe('pass');
    expect(outcome.evidence).toMatchObject({
      events: 180,
      errors: 6,
      errorRatePercent: 3.33,
      topMessages: [
        { message: 'ERROR payments: timeout after 3000 ms', count: 4 },
        { message: 'ERROR db: too many connections', count: 2 },
      ],
    });
  });

  it('degrades on an error-rate spike over a wider window', async () => {
    const outcome = await probeLogs(check({ windowMinutes: 90 }), client(), { now: NOW });

    expect(outcome.status).toBe('warn');
    expect(outcome.evidence).toMatchObject({ events: 240, errors: 66, errorRatePercent: 27.5 });
    expect(outcome.summary).toBe(
      '/app/api: 66 errors in 240 events over 90 min, 27.50 % errors (threshold 5 %)',
    );
  });

  it('reads JSON logs by their message field, case-insensitively', async () => {
    const outcome = await probeLogs(
      check({
        logGroups: ['/app/worker'],
        messageField: 'level',
        errorPattern: 'ERROR',
        caseSensitive: false,
        minEvents: 0,
      }),
      client(),
      { now: NOW },
    );

    expect(outcome.evidence).toMatchObject({
      events: 1,
      errors: 1,
      topMessages: [{ message: 'error', count: 1 }],
    });
  });

  it('fails with the reason when a log group does not exist', async () => {
    const outcome = await probeLogs(check({ logGroups: ['/app/gone'] }), client(), { now: NOW });

    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toBe(
      '/app/gone: logs not analysed (NotFoundError: ResourceNotFoundException: The specified log group does not exist.)',
    );
  });

  it('stops a query that does not complete in the check time, and fails the check as timed out', async () => {
    // A query that keeps running: every GetQueryResults answers Running.
    const never = new CloudWatchLogsClient({});
    const send = never.send.bind(never) as (command: unknown) => Promise<Record<string, unknown>>;
    never.send = (async (command: unknown) => {
      const out = await send(command);
      return command instanceof GetQueryResultsCommand ? { ...out, status: 'Running' } : out;
    }) as typeof never.send;

    const outcome = await probeLogs(check({ timeoutMs: 600 }), never, { now: NOW });

    expect(outcome.status).toBe('fail');
    expect(outcome.summary).toContain('TimeoutError: no answer within');
  });
});
