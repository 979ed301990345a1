/**
 * `caretaker status`: reads the state of one deployed Caretaker environment — the last execution
 * of each flow, each flow's newest report and open incident, the health the newest report
 * recorded, the newest verified recovery point of every backup set and RDS target against its
 * RPO, and the manual snapshot quota. Every figure comes from the same code the functions use
 * (freshness as the health check judges it, the quota as rds-snapshot counts it), so status and
 * the alerts never disagree. A part that cannot be read is reported as unavailable with why;
 * the rest is still shown.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { RDSClient } from '@aws-sdk/client-rds';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { BackupCrypto } from '../../functions/common/backup/crypto.ts';
import { STATE_MACHINE_FLOWS, type StateMachineFlow } from '../../functions/common/flows/names.ts';
import { assessQuota } from '../../functions/common/rds/quota.ts';
import { listManualSnapshots } from '../../functions/common/rds/rds-lookup.ts';
import { isErrorNamed } from '../../functions/common/runtime/errors.ts';
import type { CheckOutcome } from '../../functions/health-check/evaluate.ts';
import {
  probeBackupFreshness,
  probeSnapshotFreshness,
} from '../../functions/health-check/probes/freshness.ts';
import { incidentKey } from '../../functions/report/incident.ts';
import type { CaretakerConfig } from '../config/schema.ts';
import { type Deployment, findDeployment } from './deployment.ts';

/** The clients status reads through (the standard AWS settings decide where they go). */
export interface StatusClients {
  readonly sfn: SFNClient;
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
  /** The RDS client of a region (undefined: the default region). */
  readonly rds: (region?: string) => RDSClient;
  /** The crypto that opens backup seals with the stack key (and the older trusted keys). */
  readonly sealCrypto: (keyArns: readonly string[]) => BackupCrypto;
}

/** Something that could not be read, and why. */
export interface Unavailable {
  readonly unavailable: string;
}

export interface LastExecution {
  readonly name: string;
  readonly executionArn: string;
  readonly status: string;
  readonly startDate: string;
  readonly stopDate?: string;
}

export interface FlowReport {
  readonly key: string;
  readonly severity: string;
  readonly failures: number;
  readonly warnings: number;
  readonly finishedAt?: string;
}

export interface FlowStatus {
  readonly flow: StateMachineFlow;
  readonly deployed: boolean;
  /** Its newest execution; null when it never ran. */
  readonly lastExecution?: LastExecution | null | Unavailable;
  /** Its newest report in the backup bucket; null when there is none. */
  readonly report?: FlowReport | null | Unavailable;
  /** Its open incident (a failed run not yet followed by a successful one); null when none. */
  readonly openIncident?: { readonly openedAt: string; readonly openedBy: string } | null | Unavailable;
}

export interface HealthStatus {
  readonly status: 'healthy' | 'degraded' | 'unhealthy';
  readonly checkedAt?: string;
  /** The report it was read from. */
  readonly reportKey: string;
  readonly checks: {
    readonly total: number;
    readonly pass: number;
    readonly warn: number;
    readonly fail: number;
  };
  /** The checks that did not pass: `name (status): summary`. */
  readonly notPassing: readonly string[];
}

export interface RecoveryPointStatus {
  /** Backup set or RDS target name. */
  readonly name: string;
  readonly kind: 'backup' | 'snapshot';
  readonly rpo: string;
  readonly rpoSeconds?: number;
  /** pass: the newest verified point is within the RPO; fail: older, none, or tampering met. */
  readonly status: 'pass' | 'fail';
  readonly summary: string;
  readonly newestVerified: {
    readonly id: string;
    readonly createdAt: string;
    readonly ageSeconds: number;
  } | null;
}

export interface QuotaStatus {
  readonly region: string;
  readonly type: 'instance' | 'cluster';
  readonly used: number;
  readonly limit: number;
  readonly headroom: number;
  readonly warnPercent: number;
  readonly warning: boolean;
}

export interface StatusReport {
  readonly environment: string;
  readonly checkedAt: string;
  readonly bucket: string | null;
  readonly flows: readonly FlowStatus[];
  /** From the newest report that recorded health; null when no report has. */
  readonly health: HealthStatus | null | Unavailable;
  readonly backups: readonly (RecoveryPointStatus | (Unavailable & { readonly name: string }))[];
  readonly snapshots: readonly (RecoveryPointStatus | (Unavailable & { readonly name: string }))[];
  readonly quotas: readonly (
    | QuotaStatus
    | (Unavailable & { readonly region: string; readonly type: string })
  )[];
  /** What needs attention, one line each; empty when everything is within its objectives. */
  readonly attention: readonly string[];
}

/** `Name: message` of an error, for an {@link Unavailable}. */
function why(error: unknown): string {
  const { name, message } = error as Error;
  return `${name}: ${message}`;
}

async function attempt<T>(read: () => Promise<T>): Promise<T | Unavailable> {
  try {
    return await read();
  } catch (error) {
    return { unavailable: why(error) };
  }
}

export function isUnavailable(value: unknown): value is Unavailable {
  return typeof value === 'object' && value !== null && 'unavailable' in value;
}

async function lastExecution(sfn: SFNClient, stateMachineArn: string): Promise<LastExecution | null> {
  const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1 }));
  const newest = listed.executions?.[0];
  if (!newest) return null;
  return {
    name: newest.name ?? '',
    executionArn: newest.executionArn ?? '',
    status: newest.status ?? 'UNKNOWN',
    startDate: newest.startDate?.toISOString() ?? '',
    ...(newest.stopDate ? { stopDate: newest.stopDate.toISOString() } : {}),
  };
}

async function readJson(s3: S3Client, bucket: string, key: string): Promise<unknown> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse((await got.Body?.transformToString()) ?? '');
}

/**
 * The key of the flow's newest report JSON: reports are `reports/<flow>/<yyyy-mm-dd>/<run>.json`
 * (functions/report/report-key.ts), so the newest day folder is listed, not every report ever.
 */
async function newestReportKey(
  s3: S3Client,
  bucket: string,
  flow: StateMachineFlow,
): Promise<string | undefined> {
  const days: string[] = [];
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: `reports/${flow}/`,
        Delimiter: '/',
        ContinuationToken: token,
      }),
    );
    for (const prefix of page.CommonPrefixes ?? []) if (prefix.Prefix) days.push(prefix.Prefix);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const newestDay = days
    .filter((day) => /\/\d{4}-\d{2}-\d{2}\/$/.test(day))
    .sort()
    .at(-1);
  if (!newestDay) return undefined;
  const reports: { key: string; at: number }[] = [];
  token = undefined;
  do {
    const page: ListObjectsV2CommandOutput = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: newestDay, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key?.endsWith('.json'))
        reports.push({ key: object.Key, at: object.LastModified?.getTime() ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return reports.sort((a, b) => a.at - b.at || a.key.localeCompare(b.key)).at(-1)?.key;
}

interface ReportDocument {
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly findings?: { severity?: string; failures?: unknown[]; warnings?: unknown[] };
  readonly health?: {
    status: HealthStatus['status'];
    checkedAt?: string;
    checks?: { name: string; status: 'pass' | 'warn' | 'fail'; summary: string }[];
  };
}

function healthOf(key: string, document: ReportDocument): HealthStatus | undefined {
  const health = document.health;
  if (!health) return undefined;
  const checks = health.checks ?? [];
  const count = (status: string) => checks.filter((check) => check.status === status).length;
  return {
    status: health.status,
    ...(health.checkedAt || document.startedAt ? { checkedAt: health.checkedAt ?? document.startedAt } : {}),
    reportKey: key,
    checks: { total: checks.length, pass: count('pass'), warn: count('warn'), fail: count('fail') },
    notPassing: checks
      .filter((check) => check.status !== 'pass')
      .map((check) => `${check.name} (${check.status}): ${check.summary}`),
  };
}

async function openIncident(
  s3: S3Client,
  bucket: string,
  flow: StateMachineFlow,
): Promise<FlowStatus['openIncident']> {
  try {
    const state = (await readJson(s3, bucket, incidentKey(flow))) as {
      open?: { openedAt: string; openedBy: string } | null;
    };
    return state.open ? { openedAt: state.open.openedAt, openedBy: state.open.openedBy } : null;
  } catch (error) {
    if (isErrorNamed(error, 'NoSuchKey', 'NotFound')) return null;
    throw error;
  }
}

function pointStatus(
  name: string,
  kind: RecoveryPointStatus['kind'],
  rpo: string,
  outcome: CheckOutcome,
): RecoveryPointStatus {
  const evidence = outcome.evidence as {
    rpoSeconds?: number;
    ageSeconds?: number | null;
    newestVerified?: { id: string; createdAt: string } | null;
  };
  return {
    name,
    kind,
    rpo,
    ...(evidence.rpoSeconds !== undefined ? { rpoSeconds: evidence.rpoSeconds } : {}),
    status: outcome.status === 'pass' ? 'pass' : 'fail',
    summary: outcome.summary,
    newestVerified: evidence.newestVerified
      ? { ...evidence.newestVerified, ageSeconds: evidence.ageSeconds ?? 0 }
      : null,
  };
}

async function flowStatuses(
  clients: StatusClients,
  deployment: Deployment,
): Promise<{ flows: FlowStatus[]; health: StatusReport['health'] }> {
  const { bucket } = deployment;
  let health: { status: HealthStatus; at: string } | undefined;
  let healthError: string | undefined;
  const flows = await Promise.all(
    STATE_MACHINE_FLOWS.map(async (flow): Promise<FlowStatus> => {
      const arn = deployment.stateMachines[flow];
      if (!arn) return { flow, deployed: false };
      const last = await attempt(() => lastExecution(clients.sfn, arn));
      if (!bucket) return { flow, deployed: true, lastExecution: last };
      const report = await attempt(async (): Promise<FlowReport | null> => {
        const key = await newestReportKey(clients.s3, bucket, flow);
        if (!key) return null;
        const document = (await readJson(clients.s3, bucket, key)) as ReportDocument;
        const recorded = healthOf(key, document);
        const at = recorded?.checkedAt ?? '';
        if (recorded && (!health || at > health.at)) health = { status: recorded, at };
        return {
          key,
          severity: document.findings?.severity ?? 'unknown',
          failures: document.findings?.failures?.length ?? 0,
          warnings: document.findings?.warnings?.length ?? 0,
          ...(document.finishedAt ? { finishedAt: document.finishedAt } : {}),
        };
      });
      if (isUnavailable(report)) healthError ??= report.unavailable;
      const incident = await attempt(() => openIncident(clients.s3, bucket, flow));
      return { flow, deployed: true, lastExecution: last, report, openIncident: incident };
    }),
  );
  const found = health as { status: HealthStatus } | undefined;
  return {
    flows,
    health: found
      ? found.status
      : healthError
        ? { unavailable: healthError }
        : bucket
          ? null
          : { unavailable: 'the backup bucket was not found' },
  };
}

async function recoveryPoints(
  clients: StatusClients,
  config: CaretakerConfig,
  deployment: Deployment,
  now: Date,
): Promise<Pick<StatusReport, 'backups' | 'snapshots'>> {
  const { bucket, keyArns } = deployment;
  const backups = await Promise.all(
    config.backupSets.map(async (set) => {
      if (!bucket || keyArns.length === 0) {
        return {
          name: set.name,
          unavailable: bucket ? 'the stack key was not found' : 'the backup bucket was not found',
        };
      }
      const outcome = await attempt(() =>
        probeBackupFreshness(
          clients.s3,
          bucket,
          { name: set.name, rpo: set.rpo },
          now,
          clients.sealCrypto(keyArns),
        ),
      );
      return isUnavailable(outcome)
        ? { name: set.name, ...outcome }
        : pointStatus(set.name, 'backup', set.rpo, outcome);
    }),
  );
  const snapshots = await Promise.all(
    config.rdsTargets.map(async (target) => {
      const outcome = await attempt(() =>
        probeSnapshotFreshness(
          clients.rds(),
          { name: target.name, type: target.type, identifier: target.identifier, rpo: target.rpo },
          now,
        ),
      );
      return isUnavailable(outcome)
        ? { name: target.name, ...outcome }
        : pointStatus(target.name, 'snapshot', target.rpo, outcome);
    }),
  );
  return { backups, snapshots };
}

/**
 * The manual snapshot quota of every region and snapshot type Caretaker snapshots into: the
 * targets' types in the stack's region, and in each cross-region copy's region.
 */
async function quotas(
  clients: StatusClients,
  config: CaretakerConfig,
  region: string,
): Promise<StatusReport['quotas']> {
  const places = new Map<string, { region: string; type: 'instance' | 'cluster'; client?: string }>();
  for (const target of config.rdsTargets) {
    places.set(`${region} ${target.type}`, { region, type: target.type });
    const copy = target.crossRegionCopy;
    if (copy)
      places.set(`${copy.region} ${target.type}`, {
        region: copy.region,
        type: target.type,
        client: copy.region,
      });
  }
  const { manualSnapshots: limit, snapshotWarnPercent: warnPercent } = config.quotas;
  return Promise.all(
    [...places.values()].map(async (place) => {
      const used = await attempt(
        async () => (await listManualSnapshots(clients.rds(place.client), place.type)).length,
      );
      if (isUnavailable(used)) return { region: place.region, type: place.type, ...used };
      const assessed = assessQuota('snapshots', place.region, used, limit, warnPercent);
      return {
        region: place.region,
        type: place.type,
        used,
        limit,
        headroom: Math.max(0, limit - used),
        warnPercent,
        warning: assessed.warning,
      };
    }),
  );
}

const FAILED_STATUSES = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/** What needs attention in a report, one line each (pure). */
export function attentionOf(
  report: Omit<StatusReport, 'attention'>,
  deploymentProblems: readonly string[],
): string[] {
  const lines = [...deploymentProblems];
  for (const flow of report.flows) {
    const last = flow.lastExecution;
    if (isUnavailable(last)) lines.push(`${flow.flow}: last execution unreadable (${last.unavailable})`);
    else if (last && FAILED_STATUSES.has(last.status))
      lines.push(`${flow.flow}: last execution ${last.name} ${last.status}`);
    if (isUnavailable(flow.report))
      lines.push(`${flow.flow}: newest report unreadable (${flow.report.unavailable})`);
    const incident = flow.openIncident;
    if (isUnavailable(incident))
      lines.push(`${flow.flow}: incident state unreadable (${incident.unavailable})`);
    else if (incident) lines.push(`${flow.flow}: incident open since ${incident.openedAt}`);
  }
  if (isUnavailable(report.health)) lines.push(`health: unreadable (${report.health.unavailable})`);
  else if (report.health?.status === 'unhealthy')
    lines.push(`health: unhealthy (${report.health.reportKey})`);
  for (const point of [...report.backups, ...report.snapshots]) {
    if (isUnavailable(point)) lines.push(`${point.name}: unreadable (${point.unavailable})`);
    else if (point.status === 'fail') lines.push(point.summary);
  }
  for (const quota of report.quotas) {
    if (isUnavailable(quota))
      lines.push(`snapshot quota ${quota.region} ${quota.type}: unreadable (${quota.unavailable})`);
    else if (quota.warning) {
      lines.push(
        `snapshot quota ${quota.region} ${quota.type}: ${quota.used} of ${quota.limit} used (warning at ${quota.warnPercent} %)`,
      );
    }
  }
  return lines;
}

/** Reads the status of the environment `config` describes. */
export async function collectStatus(
  clients: StatusClients,
  config: CaretakerConfig,
  options: { readonly now?: Date; readonly region: string },
): Promise<StatusReport> {
  const now = options.now ?? new Date();
  const deployment = await findDeployment(clients, config.environment.name);
  const [{ flows, health }, points, quotaStatus] = await Promise.all([
    flowStatuses(clients, deployment),
    recoveryPoints(clients, config, deployment, now),
    quotas(clients, config, options.region),
  ]);
  const report = {
    environment: config.environment.name,
    checkedAt: now.toISOString(),
    bucket: deployment.bucket ?? null,
    flows,
    health,
    ...points,
    quotas: quotaStatus,
  };
  return { ...report, attention: attentionOf(report, deployment.problems) };
}
