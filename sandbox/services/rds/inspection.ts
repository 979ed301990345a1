/**
 * Unsigned inspection routes under /_sandbox/rds/ for rehearsals run from another process:
 *   GET  /_sandbox/rds/servers              the PostgreSQL server behind each instance and cluster
 *   POST /_sandbox/rds/pending-maintenance  seeds a pending maintenance action
 *        { "region"?, "resource": id or ARN, "action": { "Action", "Description"?,
 *          "AutoAppliedAfterDate"?, "ForcedApplyDate"?, "CurrentApplyDate"?, "OptInStatus"? } }
 */

import type { ServerResponse } from 'node:http';
import { sendJson } from '../../core/responses.ts';
import { AwsError, type SandboxRequest } from '../../core/types.ts';
import type { MaintenanceAction } from './model.ts';
import type { RdsRuntime } from './runtime.ts';
import { seedPendingMaintenance } from './tags.ts';

const MAX_BODY = 64 * 1024;

export async function handleInspection(
  rt: RdsRuntime,
  req: SandboxRequest,
  res: ServerResponse,
): Promise<void> {
  const route = `${req.method} ${req.url.pathname}`;
  if (route === 'GET /_sandbox/rds/servers') {
    const records = [...rt.store.clusters.values(), ...rt.store.instances.values()];
    sendJson(
      res,
      200,
      {
        servers: records.map((record) => ({
          region: record.region,
          type: record.kind,
          id: record.id,
          status: record.status,
          port: rt.endpointPort(record) ?? null,
          pid: rt.server(record)?.pid ?? null,
          log: record.home ? `${record.home}/postgres.log` : null,
        })),
      },
      'application/json',
    );
    return;
  }
  if (route === 'POST /_sandbox/rds/pending-maintenance') {
    const body = parseBody(await req.readBody(MAX_BODY));
    const resourceArn = seedPendingMaintenance(
      rt.store,
      body.region ?? req.region,
      body.resource,
      body.action,
    );
    sendJson(res, 200, { resourceArn }, 'application/json');
    return;
  }
  throw new AwsError(
    'NotFound',
    `No inspection route ${route}; try GET /_sandbox/rds/servers or POST /_sandbox/rds/pending-maintenance`,
    404,
  );
}

function parseBody(raw: Buffer): { region?: string; resource: string; action: MaintenanceAction } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AwsError('InvalidRequest', 'The body must be JSON');
  }
  const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const action = (typeof body.action === 'object' && body.action !== null ? body.action : {}) as Record<
    string,
    unknown
  >;
  if (typeof body.resource !== 'string' || typeof action.Action !== 'string') {
    throw new AwsError(
      'InvalidRequest',
      'Expected { "resource": "<id or ARN>", "action": { "Action": "…" } }',
    );
  }
  const text = (name: string): string | undefined =>
    typeof action[name] === 'string' ? action[name] : undefined;
  const time = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new AwsError('InvalidRequest', `${name} must be an ISO 8601 date`);
    return ms;
  };
  return {
    region: typeof body.region === 'string' ? body.region : undefined,
    resource: body.resource,
    action: {
      Action: action.Action,
      Description: text('Description'),
      AutoAppliedAfterDate: time('AutoAppliedAfterDate'),
      ForcedApplyDate: time('ForcedApplyDate'),
      CurrentApplyDate: time('CurrentApplyDate'),
      OptInStatus: text('OptInStatus'),
    },
  };
}
