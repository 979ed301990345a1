/**
 * Turns a run plan (which checks) into runnable checks (how), with each check's budget and the
 * probe's dependencies injected: SDK clients, the password provider, database TLS, and in tests
 * a DNS lookup and extra trusted CAs.
 */
import type { LookupFunction } from 'node:net';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import { ENV } from '#common/contract';
import type { RunPlan } from './check-set.ts';
import { freshnessCheckName } from './metric-names.ts';
import { probeBackupFreshness, probeSnapshotFreshness } from './probes/freshness.ts';
import { probeHttp } from './probes/http.ts';
import { probeLogs } from './probes/logs.ts';
import { type DatabaseTls, probeQuery } from './probes/query.ts';
import { probeRds } from './probes/rds.ts';
import { probeTls } from './probes/tls.ts';
import type { PlannedCheck } from './runner.ts';
import type { PasswordProvider } from './secrets.ts';

export interface ProbeDeps {
  /** RDS in the function's region, or in `region` (an override's restored copy in the DR region). */
  readonly rds: (region?: string) => RDSClient;
  readonly s3: () => S3Client;
  /** CloudWatch Logs, for the log analysis checks. */
  readonly logs?: () => CloudWatchLogsClient;
  /** The backup bucket; required when the plan has backup sets. */
  readonly backupBucket?: string;
  readonly password: PasswordProvider;
  readonly databaseTls: DatabaseTls;
  readonly lookup?: LookupFunction;
  readonly ca?: string | readonly string[];
  readonly now?: () => Date;
}

/** Budget for one RDS check: two describe calls with the SDK's own retries. */
export const RDS_TIMEOUT_MS = 20_000;
/** Budget for one freshness check: a few S3/RDS listings. */
export const FRESHNESS_TIMEOUT_MS = 30_000;
/** Slack on top of a probe's own timeouts, so the probe reports its own (more precise) timeout first. */
const SLACK_MS = 1000;

/** One runnable check per configured check, backup set and RDS target in the plan. */
export function buildChecks(plan: RunPlan, deps: ProbeDeps): PlannedCheck[] {
  const now = deps.now ?? (() => new Date());
  const net = { ...(deps.lookup ? { lookup: deps.lookup } : {}), ...(deps.ca ? { ca: deps.ca } : {}) };
  const checks: PlannedCheck[] = [];
  for (const check of plan.http) {
    checks.push({
      name: check.name,
      kind: 'http',
      target: `${check.method} ${check.url}`,
      timeoutMs: check.samples * check.timeoutMs + SLACK_MS,
      run: (signal) => probeHttp(check, { ...net, signal }),
    });
  }
  for (const check of plan.tls) {
    checks.push({
      name: check.name,
      kind: 'tls',
      target: `${check.host}:${check.port}`,
      timeoutMs: check.timeoutMs + SLACK_MS,
      run: (signal) => probeTls(check, { ...net, signal }, now),
    });
  }
  for (const check of plan.rds) {
    checks.push({
      name: check.name,
      kind: 'rds',
      target: `${check.type} ${check.identifier}`,
      timeoutMs: RDS_TIMEOUT_MS,
      run: () => probeRds(deps.rds(check.region ?? undefined), check),
    });
  }
  for (const check of plan.queries) {
    checks.push({
      name: check.name,
      kind: 'query',
      target: `${check.database}@${check.type} ${check.identifier}`,
      // Describe + secret, then connect and query, each under the check's timeout.
      timeoutMs: RDS_TIMEOUT_MS + 2 * check.timeoutMs + SLACK_MS,
      run: (signal) =>
        probeQuery(check, {
          rds: deps.rds(check.region ?? undefined),
          password: deps.password,
          tls: deps.databaseTls,
          signal,
        }),
    });
  }
  for (const check of plan.logs) {
    const logs = deps.logs;
    checks.push({
      name: check.name,
      kind: 'logs',
      target: `logs of ${check.logGroups.join(', ')}`,
      timeoutMs: check.timeoutMs + SLACK_MS,
      run: async (signal) => {
        if (!logs) throw new Error('no CloudWatch Logs client');
        return probeLogs(check, logs(), { now: now(), signal });
      },
    });
  }
  for (const set of plan.backupSets) {
    const bucket = deps.backupBucket;
    checks.push({
      name: freshnessCheckName.backupSet(set.name),
      kind: 'freshness',
      target: `backup set ${set.name}`,
      timeoutMs: FRESHNESS_TIMEOUT_MS,
      run: async () => {
        if (!bucket) throw new Error(`no backup bucket configured (${ENV.backupBucket})`);
        return probeBackupFreshness(deps.s3(), bucket, set, now());
      },
    });
  }
  for (const target of plan.rdsTargets) {
    checks.push({
      name: freshnessCheckName.rdsTarget(target.name),
      kind: 'freshness',
      target: `RDS ${target.type} ${target.identifier} (target ${target.name})`,
      timeoutMs: FRESHNESS_TIMEOUT_MS,
      run: () => probeSnapshotFreshness(deps.rds(), target, now()),
    });
  }
  return checks;
}
