/**
 * RDS emulation (Query protocol, XML responses, namespace 2014-10-31): DB instances and Aurora
 * PostgreSQL clusters that are real PostgreSQL servers on 127.0.0.1, snapshots that are real
 * copies of their data, per region. See docs/sandbox-rds.md.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Denial } from '../../core/access/denials.ts';
import { accessDeniedMessage, quotedServiceError } from '../../core/access/messages.ts';
import { sendXml } from '../../core/responses.ts';
import type { SandboxContext } from '../../core/server.ts';
import { AwsError, type SandboxService } from '../../core/types.ts';
import { PostgresManager } from '../../postgres/manager.ts';
import type { KmsService } from '../kms/index.ts';
import { type RdsAuthorizationView, rdsAccessChecks } from './authorization.ts';
import { CLUSTER_OPERATIONS } from './clusters.ts';
import { RdsInput } from './input.ts';
import { handleInspection } from './inspection.ts';
import { INSTANCE_OPERATIONS } from './instances.ts';
import { MAINTENANCE_OPERATIONS } from './maintenance.ts';
import { SERVICE_NAMESPACE } from './model.ts';
import { type Operation, type OperationContext, renderContext } from './operation.ts';
import { resume } from './resume.ts';
import { RdsRuntime, readSettings } from './runtime.ts';
import { SNAPSHOT_OPERATIONS } from './snapshots.ts';
import { RdsStore } from './store.ts';
import { seedPendingMaintenance, TAG_OPERATIONS } from './tags.ts';

export type { RdsSettings } from './runtime.ts';

const MAX_REQUEST_BYTES = 1024 * 1024;
const OPERATIONS: ReadonlyMap<string, Operation> = new Map(
  Object.entries({
    ...INSTANCE_OPERATIONS,
    ...CLUSTER_OPERATIONS,
    ...SNAPSHOT_OPERATIONS,
    ...TAG_OPERATIONS,
    ...MAINTENANCE_OPERATIONS,
  }),
);

/** A pending maintenance action to seed, as DescribePendingMaintenanceActions reports it. */
export interface PendingMaintenanceActionSeed {
  readonly Action: string;
  readonly Description?: string;
  readonly AutoAppliedAfterDate?: Date;
  readonly ForcedApplyDate?: Date;
  readonly CurrentApplyDate?: Date;
  readonly OptInStatus?: string;
}

/** The RDS service, with an in-process API for tests and rehearsals. */
export interface RdsService extends SandboxService {
  readonly signingName: 'rds';
  /**
   * Adds (or replaces, by Action) a pending maintenance action on an instance or cluster named by
   * identifier or ARN in `region`; returns the resource ARN.
   */
  seedPendingMaintenanceAction(
    region: string,
    resource: string,
    action: PendingMaintenanceActionSeed,
  ): string;
}

/**
 * RDS's answer to a denied call: AccessDenied; KMSKeyNotAccessibleFault when the caller may not
 * use the KMS key the request names.
 */
function deniedError(denial: Denial): AwsError {
  if (denial.action.startsWith('kms:')) {
    const message = quotedServiceError(
      accessDeniedMessage(denial),
      'AWSKMS',
      400,
      'AccessDeniedException',
      randomUUID(),
    );
    return new AwsError('KMSKeyNotAccessibleFault', message, 400);
  }
  return new AwsError('AccessDenied', accessDeniedMessage(denial), 403);
}

/**
 * Creates the RDS service. Servers left behind by a crashed earlier run on the same data directory
 * are stopped first; records of an earlier run come back, and their servers start again.
 */
export async function rdsService(context: SandboxContext): Promise<RdsService> {
  const settings = readSettings(context.options.settings?.rds);
  const rootDir = join(context.dataDir, 'rds');
  const manager = new PostgresManager(rootDir, context.dataDir);
  const stale = await manager.open();
  if (stale.length > 0) {
    console.error(
      `[sandbox rds] stopped ${stale.length} PostgreSQL server(s) left running by an earlier run`,
    );
  }
  const store = new RdsStore(rootDir, manager.filesRoot);
  const rt = new RdsRuntime(store, manager, settings, context);
  await resume(rt);
  const view = renderContext(rt);

  function authorizationView(region: string): RdsAuthorizationView {
    return {
      region,
      accountId: context.accountId,
      find(kind, identifier) {
        if (kind === 'db') return store.findInstance(region, identifier);
        if (kind === 'cluster') return store.findCluster(region, identifier);
        return store.findSnapshot(region, kind, identifier);
      },
      kmsKey: (keyRegion, keyId) => context.service<KmsService>('kms')?.keyFacts(keyRegion, keyId),
    };
  }

  return {
    signingName: 'rds',
    protocol: 'query',
    accessDenied: deniedError,
    async handle(req, res) {
      const input = new RdsInput(req.url, await req.readBody(MAX_REQUEST_BYTES));
      const action = input.action;
      const operation = action === undefined ? undefined : OPERATIONS.get(action);
      if (action === undefined || !operation) {
        throw new AwsError(
          'InvalidAction',
          `The action ${action ?? '(none)'} is not valid for this web service (the sandbox's RDS).`,
        );
      }
      req.authorize(rdsAccessChecks(action, input, authorizationView(req.region)), action);
      const operationContext: OperationContext = { region: req.region, rt, store, view };
      const result = await operation(operationContext, input);
      sendXml(
        res,
        200,
        `${action}Response`,
        { [`${action}Result`]: result, ResponseMetadata: { RequestId: req.requestId } },
        { xmlns: SERVICE_NAMESPACE },
      );
    },
    handleInspection: (req, res) => handleInspection(rt, req, res),
    seedPendingMaintenanceAction(region, resource, action) {
      return seedPendingMaintenance(store, region, resource, {
        Action: action.Action,
        Description: action.Description,
        AutoAppliedAfterDate: action.AutoAppliedAfterDate?.getTime(),
        ForcedApplyDate: action.ForcedApplyDate?.getTime(),
        CurrentApplyDate: action.CurrentApplyDate?.getTime(),
        OptInStatus: action.OptInStatus,
      });
    },
    close: () => rt.close(),
  };
}
