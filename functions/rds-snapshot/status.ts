/** `status`: where a snapshot (or a DR copy, with `region`) stands, for the flow's polling loop. */

import { findSnapshot } from '#common/rds/rds-lookup';
import type { RdsTarget } from '#common/rds/rds-targets';
import { NotFoundError, PreconditionFailedError } from '#common/runtime/errors';
import { snapshotFields } from './create.ts';
import type { SnapshotDeps } from './deps.ts';
import type { StatusEvent } from './input.ts';

export interface StatusResult {
  readonly target: string;
  readonly snapshotIdentifier: string;
  readonly region: string;
  /** RDS's status: `creating`, `copying`, `available`, … */
  readonly status: string;
  readonly percentProgress: number;
  /** Available: the flow can go on. */
  readonly done: boolean;
  readonly snapshotArn: string;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
}

/** The snapshot's status; a failed snapshot is a PreconditionFailedError (nothing will fix it by waiting). */
export async function snapshotStatus(
  deps: SnapshotDeps,
  target: RdsTarget,
  event: StatusEvent,
): Promise<StatusResult> {
  const region = event.region ?? deps.region;
  const rds = region === deps.region ? deps.rds : deps.rdsIn(region);
  const snapshot = await findSnapshot(rds, target.type, event.snapshotIdentifier);
  if (!snapshot) {
    throw new NotFoundError(`Snapshot ${event.snapshotIdentifier} does not exist in ${region}`, {
      snapshotIdentifier: event.snapshotIdentifier,
      region,
    });
  }
  if (snapshot.status === 'failed') {
    throw new PreconditionFailedError(`Snapshot ${snapshot.id} in ${region} failed`, {
      snapshotIdentifier: snapshot.id,
      region,
    });
  }
  return {
    target: target.name,
    snapshotIdentifier: snapshot.id,
    region,
    ...snapshotFields(snapshot),
    done: snapshot.status === 'available',
  };
}
