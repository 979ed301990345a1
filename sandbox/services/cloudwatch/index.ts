/**
 * CloudWatch metrics emulation (signing name `monitoring`, JSON 1.0 with `X-Amz-Target:
 * GraniteServiceVersion20100801.<Operation>`, query-compatible errors): the subset Caretaker reads,
 * GetMetricData over MetricStat queries (Average, Sum, Minimum, Maximum, SampleCount, per period),
 * plus PutMetricData (custom namespaces, as AWS allows) and ListMetrics. Metrics that AWS services
 * publish themselves (`AWS/RDS` FreeStorageSpace, …) are seeded through the in-process API or
 * `POST /_sandbox/monitoring/datapoints`. No alarms, dashboards or metric math. See docs/sandbox.md.
 */
import type { ServerResponse } from 'node:http';
import { accessDeniedMessage } from '../../core/access/messages.ts';
import { sendJson } from '../../core/responses.ts';
import type { SandboxContext } from '../../core/server.ts';
import { AwsError, type SandboxService } from '../../core/types.ts';
import { cloudWatchAccessChecks } from './authorization.ts';
import {
  aggregate,
  type Dimension,
  type MetricIdentity,
  MetricStore,
  STATISTICS,
  type Statistic,
} from './metrics.ts';

/** A value to seed: when, and what. */
export interface SeedPoint {
  readonly timestamp: Date | number;
  readonly value: number;
}

/** The CloudWatch service, with an in-process API for tests and rehearsals. */
export interface CloudWatchService extends SandboxService {
  readonly signingName: 'monitoring';
  /** Adds datapoints to a metric, in any namespace (as an AWS service publishes its own). */
  putDatapoints(region: string, metric: MetricIdentity, points: readonly SeedPoint[]): void;
}

const TARGET_PREFIX = 'GraniteServiceVersion20100801.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const MAX_REQUEST_BYTES = 1024 * 1024;
const MAX_QUERIES = 500;

/** Error shape → Query error code, as the CloudWatch model declares them (`awsQueryError`). */
const QUERY_CODES: Readonly<Record<string, string>> = {
  InvalidParameterValueException: 'InvalidParameterValue',
  MissingRequiredParameterException: 'MissingParameter',
  InvalidParameterCombinationException: 'InvalidParameterCombination',
  InvalidAction: 'InvalidAction',
  AccessDeniedException: 'AccessDenied',
  UnrecognizedClientException: 'InvalidClientTokenId',
};

const invalid = (message: string) => new AwsError('InvalidParameterValueException', message);
const missing = (field: string) =>
  new AwsError('MissingRequiredParameterException', `The parameter ${field} is required.`);

/** Writes a CloudWatch JSON 1.0 error with its query-compatible code (what the SDK shows as `Code`). */
function sendCloudWatchError(res: ServerResponse, error: AwsError): void {
  res.writeHead(error.status, {
    'content-type': CONTENT_TYPE,
    'x-amzn-query-error': `${QUERY_CODES[error.code] ?? error.code};${error.fault}`,
  });
  const framework = error.code === 'AccessDeniedException' || error.code === 'UnrecognizedClientException';
  res.end(
    JSON.stringify({
      __type: `${framework ? 'com.amazon.coral.service' : 'com.amazonaws.cloudwatch'}#${error.code}`,
      message: error.message,
    }),
  );
}

type Body = Record<string, unknown>;

/** A timestamp as the JSON protocol sends it (epoch seconds) or as text. */
function instant(value: unknown, field: string): number {
  const ms =
    typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw invalid(`The parameter ${field} must be a timestamp.`);
  return ms;
}

function dimensionsOf(value: unknown, field: string): Dimension[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 30)
    throw invalid(`The parameter ${field} must be a list of at most 30 dimensions.`);
  return value.map((entry, index) => {
    const d = entry as { Name?: unknown; Value?: unknown };
    if (typeof d.Name !== 'string' || typeof d.Value !== 'string') {
      throw invalid(`The parameter ${field}.${index + 1} must have a Name and a Value.`);
    }
    return { Name: d.Name, Value: d.Value };
  });
}

function metricOf(value: unknown, field: string): MetricIdentity {
  const metric = (value ?? {}) as { Namespace?: unknown; MetricName?: unknown; Dimensions?: unknown };
  if (typeof metric.Namespace !== 'string') throw missing(`${field}.Namespace`);
  if (typeof metric.MetricName !== 'string') throw missing(`${field}.MetricName`);
  return {
    namespace: metric.Namespace,
    metricName: metric.MetricName,
    dimensions: dimensionsOf(metric.Dimensions, `${field}.Dimensions`),
  };
}

function getMetricData(store: MetricStore, region: string, body: Body) {
  const queries = body.MetricDataQueries;
  if (!Array.isArray(queries) || queries.length === 0) throw missing('MetricDataQueries');
  if (queries.length > MAX_QUERIES) throw invalid(`At most ${MAX_QUERIES} MetricDataQueries are allowed.`);
  if (body.StartTime === undefined) throw missing('StartTime');
  if (body.EndTime === undefined) throw missing('EndTime');
  const start = instant(body.StartTime, 'StartTime');
  const end = instant(body.EndTime, 'EndTime');
  if (end <= start) throw invalid('The parameter StartTime must be less than the parameter EndTime.');
  const ascending = body.ScanBy === 'TimestampAscending';
  const results = queries.map((raw, index) => {
    const query = raw as {
      Id?: unknown;
      MetricStat?: unknown;
      Expression?: unknown;
      Label?: unknown;
      ReturnData?: unknown;
    };
    const at = `MetricDataQueries.member.${index + 1}`;
    if (typeof query.Id !== 'string' || !/^[a-z][a-zA-Z0-9_]*$/.test(query.Id)) {
      throw invalid(
        `The value for ${at}.Id must start with a lowercase letter and contain letters, digits and underscores.`,
      );
    }
    if (query.Expression !== undefined) {
      throw invalid(`${at}.Expression: the sandbox serves MetricStat queries only (no metric math).`);
    }
    const stat = (query.MetricStat ?? undefined) as
      | { Metric?: unknown; Period?: unknown; Stat?: unknown }
      | undefined;
    if (!stat) throw missing(`${at}.MetricStat`);
    const period = stat.Period;
    if (
      typeof period !== 'number' ||
      !Number.isInteger(period) ||
      period <= 0 ||
      (period >= 60 && period % 60 !== 0)
    ) {
      throw invalid(`The parameter ${at}.MetricStat.Period must be 1, 5, 10, 30 or a multiple of 60.`);
    }
    if (!STATISTICS.includes(stat.Stat as Statistic)) {
      throw invalid(`${at}.MetricStat.Stat: the sandbox serves ${STATISTICS.join(', ')}.`);
    }
    const metric = metricOf(stat.Metric, `${at}.MetricStat.Metric`);
    const points = aggregate(store.samples(region, metric), {
      start,
      end,
      periodSeconds: period,
      statistic: stat.Stat as Statistic,
    });
    if (!ascending) points.reverse();
    return {
      Id: query.Id,
      Label: typeof query.Label === 'string' ? query.Label : metric.metricName,
      Timestamps: points.map((point) => point.timestamp / 1000),
      Values: points.map((point) => point.value),
      StatusCode: 'Complete',
      returnData: query.ReturnData !== false,
    };
  });
  return {
    MetricDataResults: results.filter((r) => r.returnData).map(({ returnData: _, ...result }) => result),
    Messages: [],
  };
}

function putMetricData(store: MetricStore, region: string, body: Body) {
  const namespace = body.Namespace;
  if (typeof namespace !== 'string' || namespace.length === 0) throw missing('Namespace');
  if (namespace.startsWith('AWS/')) {
    throw invalid(
      `The value ${namespace} for parameter Namespace is invalid: the AWS/ prefix is reserved for AWS services.`,
    );
  }
  const data = body.MetricData;
  if (!Array.isArray(data) || data.length === 0) throw missing('MetricData');
  for (const [index, raw] of data.entries()) {
    const datum = raw as Record<string, unknown>;
    const at = `MetricData.member.${index + 1}`;
    const metric = metricOf({ ...datum, Namespace: namespace }, at);
    const t = datum.Timestamp === undefined ? Date.now() : instant(datum.Timestamp, `${at}.Timestamp`);
    const statistics = datum.StatisticValues as
      | { Sum?: number; SampleCount?: number; Minimum?: number; Maximum?: number }
      | undefined;
    if (statistics) {
      store.put(region, metric, [
        {
          t,
          sum: statistics.Sum ?? 0,
          count: statistics.SampleCount ?? 1,
          min: statistics.Minimum ?? 0,
          max: statistics.Maximum ?? 0,
        },
      ]);
    } else if (typeof datum.Value === 'number') {
      store.put(region, metric, [{ t, sum: datum.Value, count: 1, min: datum.Value, max: datum.Value }]);
    } else if (Array.isArray(datum.Values)) {
      const counts = Array.isArray(datum.Counts) ? (datum.Counts as number[]) : [];
      store.put(
        region,
        metric,
        (datum.Values as number[]).map((value, i) => {
          const count = counts[i] ?? 1;
          return { t, sum: value * count, count, min: value, max: value };
        }),
      );
    } else {
      throw missing(`${at}.Value`);
    }
  }
  return {};
}

function listMetrics(store: MetricStore, region: string, body: Body) {
  const filters = Array.isArray(body.Dimensions)
    ? (body.Dimensions as { Name: string; Value?: string }[])
    : undefined;
  const metrics = store.list(region, {
    ...(typeof body.Namespace === 'string' ? { namespace: body.Namespace } : {}),
    ...(typeof body.MetricName === 'string' ? { metricName: body.MetricName } : {}),
    ...(filters ? { dimensions: filters } : {}),
  });
  return {
    Metrics: metrics.map((m) => ({
      Namespace: m.namespace,
      MetricName: m.metricName,
      Dimensions: m.dimensions,
    })),
  };
}

const OPERATIONS: Readonly<Record<string, (store: MetricStore, region: string, body: Body) => unknown>> = {
  GetMetricData: getMetricData,
  PutMetricData: putMetricData,
  ListMetrics: listMetrics,
};

/** Creates the CloudWatch service; metrics of an earlier run with the same data directory are loaded. */
export function cloudWatchService(context: SandboxContext): CloudWatchService {
  const store = new MetricStore(context.dataDir);

  function seed(region: string, metric: MetricIdentity, points: readonly SeedPoint[]): void {
    store.put(
      region,
      metric,
      points.map((point) => {
        const t = point.timestamp instanceof Date ? point.timestamp.getTime() : point.timestamp;
        return { t, sum: point.value, count: 1, min: point.value, max: point.value };
      }),
    );
  }

  return {
    signingName: 'monitoring',
    protocol: 'json',
    sendError: (res, error) => sendCloudWatchError(res, error),
    // CloudWatch refuses with 403, the Query code AccessDenied in the header.
    accessDenied: (denial) => new AwsError('AccessDeniedException', accessDeniedMessage(denial), 403),
    async handle(req, res) {
      const target = req.headers['x-amz-target'];
      const name =
        typeof target === 'string' && target.startsWith(TARGET_PREFIX)
          ? target.slice(TARGET_PREFIX.length)
          : '';
      const operation = OPERATIONS[name];
      if (req.method !== 'POST' || !operation) {
        throw new AwsError(
          'InvalidAction',
          `The sandbox's CloudWatch serves GetMetricData, PutMetricData and ListMetrics over the JSON protocol (X-Amz-Target: ${TARGET_PREFIX}<Operation>); got "${String(target ?? req.url.search)}"`,
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
        throw invalid('The request body is not a JSON object.');
      }
      req.authorize(cloudWatchAccessChecks(name, body), name);
      sendJson(res, 200, operation(store, req.region, body), CONTENT_TYPE);
    },
    async handleInspection(req, res) {
      if (req.url.pathname !== '/_sandbox/monitoring/datapoints') {
        throw new AwsError(
          'NotFound',
          `No inspection route ${req.url.pathname}; try POST /_sandbox/monitoring/datapoints`,
          404,
        );
      }
      if (req.method !== 'POST') throw new AwsError('MethodNotAllowed', 'Use POST', 405);
      const body = JSON.parse((await req.readBody(MAX_REQUEST_BYTES)).toString('utf8')) as {
        region?: string;
        namespace?: string;
        metricName?: string;
        dimensions?: Record<string, string>;
        points?: { timestamp: string; value: number }[];
      };
      if (!body.namespace || !body.metricName || !Array.isArray(body.points)) {
        throw new AwsError(
          'BadRequest',
          'Expected { region?, namespace, metricName, dimensions?, points: [{ timestamp, value }] }',
          400,
        );
      }
      seed(
        body.region ?? context.defaultRegion,
        {
          namespace: body.namespace,
          metricName: body.metricName,
          dimensions: Object.entries(body.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value })),
        },
        body.points.map((point) => ({ timestamp: Date.parse(point.timestamp), value: point.value })),
      );
      sendJson(res, 200, { stored: body.points.length }, 'application/json');
    },
    putDatapoints: seed,
  };
}
