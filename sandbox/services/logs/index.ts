/**
 * CloudWatch Logs emulation (signing name `logs`, JSON 1.1, `X-Amz-Target: Logs_20140328.<Operation>`):
 * log groups and streams, PutLogEvents, and Logs Insights queries (StartQuery, GetQueryResults,
 * StopQuery) in the subset of the query language insights.ts runs — what Caretaker's log analysis
 * check sends. Events live in memory: a restarted sandbox starts without logs. Function logs are not
 * sent here (they go to files, docs/sandbox.md). See docs/sandbox.md.
 */
import { randomUUID } from 'node:crypto';
import { sendJson } from '../../core/responses.ts';
import type { SandboxContext } from '../../core/server.ts';
import { AwsError, type SandboxService } from '../../core/types.ts';
import { logGroupArn, logsAccessChecks, queriedGroups } from './authorization.ts';
import { type LogEvent, MalformedQueryError, parseQuery, type Row, runQuery } from './insights.ts';

/** Settings read from `settings.logs`. */
export interface LogsSettings {
  /** How many GetQueryResults calls answer `Running` before a query is `Complete`. @default 1 */
  readonly runningPolls?: number;
}

/** The Logs service, with an in-process API for tests and rehearsals. */
export interface LogsService extends SandboxService {
  readonly signingName: 'logs';
  /** Writes events to a stream, creating the group and stream when needed. */
  putEvents(
    region: string,
    logGroup: string,
    logStream: string,
    events: readonly { readonly timestamp: Date | number; readonly message: string }[],
  ): void;
}

interface Group {
  readonly name: string;
  readonly region: string;
  readonly creationTime: number;
  readonly streams: Map<string, LogEvent[]>;
}

interface Query {
  readonly region: string;
  readonly rows: Row[];
  readonly matched: number;
  readonly scanned: number;
  readonly bytes: number;
  polls: number;
  status: 'Running' | 'Complete' | 'Cancelled';
}

const TARGET_PREFIX = 'Logs_20140328.';
const MAX_REQUEST_BYTES = 1024 * 1024;
const MAX_QUERY_GROUPS = 50;

const invalid = (message: string) => new AwsError('InvalidParameterException', message);
const notFound = (message: string) => new AwsError('ResourceNotFoundException', message);

type Body = Record<string, unknown>;

function requiredText(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0)
    throw invalid(
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

/** Creates the Logs service. */
export function logsService(context: SandboxContext): LogsService {
  const settings = (context.options.settings?.logs ?? {}) as LogsSettings;
  const runningPolls = settings.runningPolls ?? 1;
  const groups = new Map<string, Group>();
  const queries = new Map<string, Query>();
  const key = (region: string, name: string) => `${region}\u0000${name}`;

  function group(region: string, name: string): Group {
    const found = groups.get(key(region, name));
    if (!found) throw notFound('The specified log group does not exist.');
    return found;
  }

  function createGroup(region: string, name: string): Group {
    const created: Group = { name, region, creationTime: Date.now(), streams: new Map() };
    groups.set(key(region, name), created);
    return created;
  }

  function append(
    target: Group,
    stream: string,
    events: readonly { timestamp: number; message: string }[],
  ): void {
    const list = target.streams.get(stream);
    if (!list) throw notFound('The specified log stream does not exist.');
    for (const event of events) list.push({ ...event, logStream: stream, logGroup: target.name });
  }

  const operations: Readonly<Record<string, (region: string, body: Body) => unknown>> = {
    CreateLogGroup(region, body) {
      const name = requiredText(body, 'logGroupName');
      if (!/^[\w\-/.#]{1,512}$/.test(name)) throw invalid(`Invalid log group name: ${name}`);
      if (groups.has(key(region, name))) {
        throw new AwsError('ResourceAlreadyExistsException', 'The specified log group already exists');
      }
      createGroup(region, name);
      return {};
    },
    CreateLogStream(region, body) {
      const target = group(region, requiredText(body, 'logGroupName'));
      const stream = requiredText(body, 'logStreamName');
      if (target.streams.has(stream)) {
        throw new AwsError('ResourceAlreadyExistsException', 'The specified log stream already exists');
      }
      target.streams.set(stream, []);
      return {};
    },
    PutLogEvents(region, body) {
      const target = group(region, requiredText(body, 'logGroupName'));
      const events = body.logEvents;
      if (!Array.isArray(events) || events.length === 0)
        throw invalid('logEvents must hold at least one event');
      append(
        target,
        requiredText(body, 'logStreamName'),
        events.map((event) => {
          const e = event as { timestamp?: unknown; message?: unknown };
          if (typeof e.timestamp !== 'number' || typeof e.message !== 'string') {
            throw invalid('Each log event needs a timestamp (epoch milliseconds) and a message');
          }
          return { timestamp: e.timestamp, message: e.message };
        }),
      );
      return { nextSequenceToken: randomUUID().replace(/-/g, '') };
    },
    DescribeLogGroups(region, body) {
      const prefix = typeof body.logGroupNamePrefix === 'string' ? body.logGroupNamePrefix : '';
      return {
        logGroups: [...groups.values()]
          .filter((g) => g.region === region && g.name.startsWith(prefix))
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((g) => ({
            logGroupName: g.name,
            arn: `${logGroupArn({ region, accountId: context.accountId }, g.name)}:*`,
            creationTime: g.creationTime,
            storedBytes: [...g.streams.values()].flat().reduce((n, e) => n + Buffer.byteLength(e.message), 0),
          })),
      };
    },
    StartQuery(region, body) {
      const names = queriedGroups(body);
      if (names.length === 0) throw invalid('Specify logGroupName, logGroupNames or logGroupIdentifiers');
      if (names.length > MAX_QUERY_GROUPS)
        throw invalid(`At most ${MAX_QUERY_GROUPS} log groups can be queried at once`);
      const start = body.startTime;
      const end = body.endTime;
      if (typeof start !== 'number' || typeof end !== 'number')
        throw invalid('startTime and endTime (epoch seconds) are required');
      if (end < start) throw invalid('endTime must be greater than or equal to startTime');
      let commands: ReturnType<typeof parseQuery>;
      try {
        commands = parseQuery(requiredText(body, 'queryString'));
      } catch (error) {
        if (error instanceof MalformedQueryError)
          throw new AwsError('MalformedQueryException', error.message);
        throw error;
      }
      const events = names
        .flatMap((name) => [...group(region, name).streams.values()].flat())
        .filter((event) => event.timestamp >= start * 1000 && event.timestamp < (end + 1) * 1000)
        .sort((a, b) => b.timestamp - a.timestamp);
      const { rows, matched } = runQuery(commands, events);
      const limit = typeof body.limit === 'number' ? body.limit : 1000;
      const queryId = randomUUID();
      queries.set(queryId, {
        region,
        rows: rows.slice(0, limit),
        matched,
        scanned: events.length,
        bytes: events.reduce((n, e) => n + Buffer.byteLength(e.message), 0),
        polls: 0,
        status: 'Running',
      });
      return { queryId };
    },
    GetQueryResults(region, body) {
      const query = queries.get(requiredText(body, 'queryId'));
      if (!query || query.region !== region) throw notFound('The specified query does not exist.');
      if (query.status === 'Running' && ++query.polls > runningPolls) query.status = 'Complete';
      const done = query.status === 'Complete';
      return {
        status: query.status,
        results: done ? query.rows : [],
        statistics: {
          recordsMatched: done ? query.matched : 0,
          recordsScanned: done ? query.scanned : 0,
          bytesScanned: done ? query.bytes : 0,
        },
      };
    },
    StopQuery(region, body) {
      const query = queries.get(requiredText(body, 'queryId'));
      if (!query || query.region !== region) throw notFound('The specified query does not exist.');
      const stopped = query.status === 'Running';
      if (stopped) query.status = 'Cancelled';
      return { success: stopped };
    },
  };

  return {
    signingName: 'logs',
    protocol: 'json',
    async handle(req, res) {
      const target = req.headers['x-amz-target'];
      const name =
        typeof target === 'string' && target.startsWith(TARGET_PREFIX)
          ? target.slice(TARGET_PREFIX.length)
          : '';
      const operation = operations[name];
      if (req.method !== 'POST' || !operation) {
        throw new AwsError(
          'UnknownOperationException',
          `The sandbox's CloudWatch Logs serves ${Object.keys(operations).join(', ')}; got "${String(target)}"`,
        );
      }
      const raw = (await req.readBody(MAX_REQUEST_BYTES)).toString('utf8');
      let body: Body;
      try {
        const parsed: unknown = raw.trim() === '' ? {} : JSON.parse(raw);
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
          throw new Error('not an object');
        body = parsed as Body;
      } catch {
        throw new AwsError('SerializationException', 'The request body is not a JSON object.');
      }
      req.authorize(logsAccessChecks(name, body, { region: req.region, accountId: context.accountId }), name);
      sendJson(res, 200, operation(req.region, body));
    },
    putEvents(region, logGroup, logStream, events) {
      const target = groups.get(key(region, logGroup)) ?? createGroup(region, logGroup);
      if (!target.streams.has(logStream)) target.streams.set(logStream, []);
      append(
        target,
        logStream,
        events.map((event) => ({
          timestamp: event.timestamp instanceof Date ? event.timestamp.getTime() : event.timestamp,
          message: event.message,
        })),
      );
    },
  };
}
