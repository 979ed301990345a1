/**
 * security-maintenance: what routine maintenance reports under security (DESIGN §11): the pending
 * maintenance actions of every RDS target (security patches first, with the dates AWS applies them
 * by itself) and the automatic rotation of the KMS keys Caretaker relies on (the stack's key, the
 * DR copy keys, and the keys the config names). Read-only. TLS certificate expiry is the health
 * checks' and appears in the same report section.
 */

import { DescribeKeyCommand, GetKeyRotationStatusCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  DescribePendingMaintenanceActionsCommand,
  type PendingMaintenanceAction,
  type RDSClient,
} from '@aws-sdk/client-rds';
import * as z from 'zod';
import { isKmsAliasArn } from '#common/config/kms-arn';
import { ENV, LAMBDA_ENV } from '#common/contract';
import { securityMaintenanceConfig } from '#common/maintenance/maintenance-config';
import type { PendingAction, SecurityResult } from '#common/maintenance/maintenance-results';
import { findCluster, findInstance } from '#common/rds/rds-lookup';
import { type RdsTarget, rdsTargetsFromEnv } from '#common/rds/rds-targets';
import { kms, kmsIn, rds } from '#common/runtime/clients';
import { optionalEnv, requireEnv } from '#common/runtime/env';
import { permanentErrorInfo } from '#common/runtime/error-info';
import { jsonEnv } from '#common/runtime/json-env';
import { caretakerHandler } from '#common/runtime/middleware';
import { logger } from '#common/runtime/observability';
import { byUrgency, isSecurityAction } from './classify.ts';

const TARGETS = rdsTargetsFromEnv();
const STACK_KEY_ARN = requireEnv(ENV.stackKeyArn);
const CONFIG = jsonEnv(ENV.securityMaintenance, securityMaintenanceConfig, '{}');
const REGION = optionalEnv(LAMBDA_ENV.region, 'us-east-1');

const eventSchema = z.object({ executionId: z.string().min(1).max(256).optional() }).strict();

export interface SecurityDeps {
  readonly rds: RDSClient;
  /** KMS in `region` (the function's own when undefined). */
  readonly kms: (region?: string) => KMSClient;
  readonly now: Date;
}

export interface KeyToCheck {
  readonly keyArn: string;
  readonly role: 'stack' | 'dr-copy' | 'configured';
}

/** The keys to look at: the stack's, each DR copy key, each configured one; each once. */
export function keysToCheck(
  stackKeyArn: string,
  targets: readonly RdsTarget[],
  configured: readonly string[],
): KeyToCheck[] {
  const keys: KeyToCheck[] = [{ keyArn: stackKeyArn, role: 'stack' }];
  const add = (keyArn: string, role: KeyToCheck['role']) => {
    if (!keys.some((key) => key.keyArn === keyArn)) keys.push({ keyArn, role });
  };
  for (const target of targets) if (target.crossRegionCopy) add(target.crossRegionCopy.kmsKeyArn, 'dr-copy');
  for (const keyArn of configured) add(keyArn, 'configured');
  return keys;
}

const iso = (date?: Date) => (date ? date.toISOString() : undefined);

function pendingAction(action: PendingMaintenanceAction): PendingAction {
  const name = action.Action ?? 'unknown';
  return {
    action: name,
    ...(action.Description ? { description: action.Description } : {}),
    security: isSecurityAction(name, action.Description),
    ...(action.AutoAppliedAfterDate ? { autoAppliedAfter: iso(action.AutoAppliedAfterDate)! } : {}),
    ...(action.ForcedApplyDate ? { forcedApplyDate: iso(action.ForcedApplyDate)! } : {}),
    ...(action.CurrentApplyDate ? { currentApplyDate: iso(action.CurrentApplyDate)! } : {}),
    ...(action.OptInStatus ? { optInStatus: action.OptInStatus } : {}),
  };
}

async function pendingOf(
  deps: SecurityDeps,
  target: RdsTarget,
): Promise<SecurityResult['pendingMaintenance'][number]> {
  const base = { target: target.name, type: target.type, identifier: target.identifier };
  try {
    const found =
      target.type === 'instance'
        ? (await findInstance(deps.rds, target.identifier))?.DBInstanceArn
        : (await findCluster(deps.rds, target.identifier))?.DBClusterArn;
    if (!found) {
      return {
        ...base,
        actions: [],
        error: { name: 'NotFoundError', message: `DB ${target.type} ${target.identifier} does not exist` },
      };
    }
    const actions: PendingAction[] = [];
    let Marker: string | undefined;
    do {
      const out = await deps.rds.send(
        new DescribePendingMaintenanceActionsCommand({
          ResourceIdentifier: found,
          ...(Marker ? { Marker } : {}),
        }),
      );
      for (const resource of out.PendingMaintenanceActions ?? []) {
        for (const action of resource.PendingMaintenanceActionDetails ?? [])
          actions.push(pendingAction(action));
      }
      Marker = out.Marker;
    } while (Marker);
    return { ...base, resourceArn: found, actions: actions.sort(byUrgency) };
  } catch (error) {
    return { ...base, actions: [], error: permanentErrorInfo(error) };
  }
}

async function rotationOf(
  deps: SecurityDeps,
  key: KeyToCheck,
  region: string,
): Promise<SecurityResult['keys'][number]> {
  const keyRegion = key.keyArn.split(':')[3] || region;
  const base = { keyArn: key.keyArn, region: keyRegion, role: key.role };
  try {
    const client = deps.kms(keyRegion === region ? undefined : keyRegion);
    // GetKeyRotationStatus takes a key id or key ARN, never an alias: a key named by alias ARN is
    // looked up first (the role may describe keys by that alias only: kms:ResourceAliases).
    const keyId = isKmsAliasArn(key.keyArn)
      ? (await client.send(new DescribeKeyCommand({ KeyId: key.keyArn }))).KeyMetadata?.Arn
      : key.keyArn;
    if (!keyId) throw new Error(`KMS described no key for ${key.keyArn}`);
    const out = await client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
    return {
      ...base,
      rotationEnabled: out.KeyRotationEnabled ?? false,
      ...(out.RotationPeriodInDays ? { rotationPeriodDays: out.RotationPeriodInDays } : {}),
      ...(out.NextRotationDate ? { nextRotationDate: out.NextRotationDate.toISOString() } : {}),
    };
  } catch (error) {
    return { ...base, rotationEnabled: null, error: permanentErrorInfo(error) };
  }
}

/** The security maintenance report of `targets` and keys. */
export async function securityReport(
  deps: SecurityDeps,
  targets: readonly RdsTarget[] = TARGETS,
  keys: readonly KeyToCheck[] = keysToCheck(STACK_KEY_ARN, TARGETS, CONFIG.kmsKeys),
  region = REGION,
): Promise<SecurityResult> {
  const [pendingMaintenance, rotation] = await Promise.all([
    Promise.all(targets.map((target) => pendingOf(deps, target))),
    Promise.all(keys.map((key) => rotationOf(deps, key, region))),
  ]);
  return { checkedAt: deps.now.toISOString(), pendingMaintenance, keys: rotation };
}

export const handler = caretakerHandler('security-maintenance', eventSchema, async () => {
  const result = await securityReport({
    rds: rds(),
    kms: (region) => (region ? kmsIn(region) : kms()),
    now: new Date(),
  });
  logger.info('Security maintenance checked', {
    securityPatches: result.pendingMaintenance.reduce(
      (n, t) => n + t.actions.filter((a) => a.security).length,
      0,
    ),
    keysWithoutRotation: result.keys.filter((k) => k.rotationEnabled === false).map((k) => k.keyArn),
  });
  return result;
});
