/**
 * The sandbox's CloudWatch Logs, driven by the AWS SDK v3's CloudWatchLogsClient: groups, streams
 * and events, Logs Insights queries in the subset Caretaker's log analysis sends (counts, a regex
 * filter, counts by message, sort and limit, JSON fields), queries that run before they complete,
 * malformed queries refused, and IAM on a role's queries.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  PutLogEventsCommand,
  StartQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { iamRegistryService } from '../../sandbox/iam-registry/index.ts';
import { type LogsService, logsService } from '../../sandbox/services/logs/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import { roleSession } from './support-role.ts';

const handle = withSandbox([logsService, iamRegistryService], {
  settings: { iam: { enforcement: 'enforce' }, logs: { runningPolls: 2 } },
});
let logs: CloudWatchLogsClient;
const NOW = Date.now();
const seconds = (ms: number) => Math.floor(ms / 1000);

beforeAll(async () => {
  logs = new CloudWatchLogsClient({});
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/app/api' }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: '/app/api', logStreamName: 'a' }));
  const messages = [
    ...Array.from({ length: 90 }, (_, i) => `INFO request ${i} served`),
    ...Array.from({ length: 7 }, () => 'ERROR timeout calling payments'),
    ...Array.from({ length: 3 }, () => 'ERROR connection refused'),
  ];
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: '/app/api',
      logStreamName: 'a',
      logEvents: messages.map((message, i) => ({ timestamp: NOW - 60_000 + i, message })),
    }),
  );
  handle.sandbox.context.service<LogsService>('logs')!.putEvents('us-east-1', '/app/json', 's', [
    {
      timestamp: NOW - 1000,
      message: JSON.stringify({ level: 'ERROR', message: 'disk full', requestId: 'r1' }),
    },
    {
      timestamp: NOW - 900,
      message: JSON.stringify({ level: 'ERROR', message: 'disk full', requestId: 'r2' }),
    },
    { timestamp: NOW - 800, message: JSON.stringify({ level: 'INFO', message: 'ok', requestId: 'r3' }) },
    // Outside the queried window.
    {
      timestamp: NOW - 3_600_000,
      message: JSON.stringify({ level: 'ERROR', message: 'old', requestId: 'r0' }),
    },
  ]);
});

async function query(queryString: string, logGroupNames: string[], client = logs) {
  const { queryId } = await client.send(
    new StartQueryCommand({
      logGroupNames,
      startTime: seconds(NOW - 600_000),
      endTime: seconds(NOW),
      queryString,
    }),
  );
  const statuses: string[] = [];
  let out: GetQueryResultsCommandOutput;
  do {
    out = await client.send(new GetQueryResultsCommand({ queryId }));
    statuses.push(out.status!);
  } while (out.status === 'Running');
  const rows = (out.results ?? []).map((row) => Object.fromEntries(row.map((f) => [f.field, f.value])));
  return { rows, statuses, statistics: out.statistics };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('Logs Insights queries', () => {
  it('counts the events of the window, after running for a while', async () => {
    const result = await query('stats count(*) as events', ['/app/api']);

    expect(result.statuses).toEqual(['Running', 'Running', 'Complete']);
    expect(result.rows).toEqual([{ events: '100' }]);
    expect(result.statistics).toMatchObject({ recordsScanned: 100, recordsMatched: 100 });
  });

  it('filters by a regular expression and counts by message, most frequent first', async () => {
    const result = await query(
      'filter @message like /ERROR/ | stats count(*) as occurrences by @message | sort occurrences desc | limit 5',
      ['/app/api'],
    );

    expect(result.rows).toEqual([
      { '@message': 'ERROR timeout calling payments', occurrences: '7' },
      { '@message': 'ERROR connection refused', occurrences: '3' },
    ]);
  });

  it('matches case-insensitively with (?i) and reads the fields of JSON messages', async () => {
    const result = await query(
      'filter level like /(?i)error/ | stats count(*) as occurrences by message | sort occurrences desc',
      ['/app/json'],
    );

    expect(result.rows).toEqual([{ message: 'disk full', occurrences: '2' }]);
  });

  it('refuses a query outside its subset as AWS refuses one it cannot parse', async () => {
    const error = await failure(
      logs.send(
        new StartQueryCommand({
          logGroupNames: ['/app/api'],
          startTime: seconds(NOW - 600_000),
          endTime: seconds(NOW),
          queryString: 'stats avg(latency) by bin(5m)',
        }),
      ),
    );

    expect(error.name).toBe('MalformedQueryException');
  });

  it('answers ResourceNotFoundException for a log group that does not exist', async () => {
    const error = await failure(
      logs.send(
        new StartQueryCommand({
          logGroupName: '/app/missing',
          startTime: seconds(NOW - 600_000),
          endTime: seconds(NOW),
          queryString: 'stats count(*) as events',
        }),
      ),
    );

    expect(error.name).toBe('ResourceNotFoundException');
  });
});

describe('IAM', () => {
  it('lets a role query the log groups it may and refuses the others', async () => {
    const { credentials } = roleSession(handle.sandbox, 'log-reader', [
      {
        Effect: 'Allow',
        Action: 'logs:StartQuery',
        Resource: 'arn:aws:logs:us-east-1:000000000000:log-group:/app/api',
      },
      { Effect: 'Allow', Action: ['logs:GetQueryResults', 'logs:StopQuery'], Resource: '*' },
    ]);
    const role = new CloudWatchLogsClient({ credentials });

    const allowed = await query('stats count(*) as events', ['/app/api'], role);
    const denied = await failure(query('stats count(*) as events', ['/app/api', '/app/json'], role));

    expect(allowed.rows).toEqual([{ events: '100' }]);
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toContain('log-group:/app/json');
  });
});
