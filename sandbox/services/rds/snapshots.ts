/**
 * DB snapshot and DB cluster snapshot operations: Create, Describe, Delete, Copy (within a region
 * or from another one, re-encrypted under a KMS key of the sandbox's KMS).
 */
import { randomUUID } from 'node:crypto';
import type { XmlNode } from '../../core/responses.ts';
import type { AwsError } from '../../core/types.ts';
import { requireAvailableCluster } from './clusters.ts';
import { applyFilters, paginate } from './describe.ts';
import * as errors from './errors.ts';
import { newSnapshot, snapshotNow } from './lifecycle.ts';
import { mergeTags, parseRdsArn, rdsArn, type SnapshotRecord } from './model.ts';
import type { Operation, OperationContext } from './operation.ts';
import { renderClusterSnapshot, renderSnapshot } from './render.ts';
import type { ServerRecord } from './runtime.ts';
import type { SnapshotKind } from './store.ts';
import * as valid from './validate.ts';

/** What differs between DB snapshots and DB cluster snapshots. */
interface Flavour {
  readonly kind: SnapshotKind;
  readonly idParam: string;
  readonly sourceParam: string;
  readonly copySourceParam: string;
  readonly copyTargetParam: string;
  readonly element: string;
  readonly listElement: string;
  readonly render: (record: SnapshotRecord) => XmlNode;
  readonly alreadyExists: (id: string) => AwsError;
  readonly invalidState: (message: string) => AwsError;
  /** The instance or cluster to snapshot, ready for it. */
  readonly source: (context: OperationContext, id: string) => ServerRecord;
  readonly filterNames: { readonly source: string; readonly id: string; readonly resource: string };
}

const INSTANCE: Flavour = {
  kind: 'snapshot',
  idParam: 'DBSnapshotIdentifier',
  sourceParam: 'DBInstanceIdentifier',
  copySourceParam: 'SourceDBSnapshotIdentifier',
  copyTargetParam: 'TargetDBSnapshotIdentifier',
  element: 'DBSnapshot',
  listElement: 'DBSnapshots',
  render: renderSnapshot,
  alreadyExists: errors.dbSnapshotAlreadyExists,
  invalidState: errors.invalidDBSnapshotState,
  source: ({ store, region }, id) => {
    const record = store.requireInstance(region, id);
    if (record.clusterKey !== undefined) {
      throw errors.invalidParameterCombination(
        `${record.id} is a member of a DB cluster: create a DB cluster snapshot instead.`,
      );
    }
    if (record.status !== 'available') {
      throw errors.invalidDBInstanceState(
        `Cannot create a snapshot because the database instance ${record.id} is not currently in the available state (it is ${record.status}).`,
      );
    }
    return record;
  },
  filterNames: { source: 'db-instance-id', id: 'db-snapshot-id', resource: 'dbi-resource-id' },
};

const CLUSTER: Flavour = {
  kind: 'cluster-snapshot',
  idParam: 'DBClusterSnapshotIdentifier',
  sourceParam: 'DBClusterIdentifier',
  copySourceParam: 'SourceDBClusterSnapshotIdentifier',
  copyTargetParam: 'TargetDBClusterSnapshotIdentifier',
  element: 'DBClusterSnapshot',
  listElement: 'DBClusterSnapshots',
  render: renderClusterSnapshot,
  alreadyExists: errors.dbClusterSnapshotAlreadyExists,
  invalidState: errors.invalidDBClusterSnapshotState,
  source: ({ store, region }, id) => {
    const record = store.requireCluster(region, id);
    requireAvailableCluster(record);
    return record;
  },
  filterNames: { source: 'db-cluster-id', id: 'db-cluster-snapshot-id', resource: 'db-cluster-resource-id' },
};

function checkQuota({ rt, store }: OperationContext, region: string, kind: SnapshotKind): void {
  if (store.manualSnapshotCount(region, kind) >= rt.settings.snapshotQuota) {
    throw errors.snapshotQuotaExceeded(rt.settings.snapshotQuota);
  }
}

function create(flavour: Flavour): Operation {
  return async (context, input) => {
    const { region, rt, store } = context;
    const id = valid.snapshotIdentifier(input.required(flavour.idParam), flavour.idParam);
    const source = flavour.source(context, input.required(flavour.sourceParam));
    if (store.findSnapshot(region, flavour.kind, id)) throw flavour.alreadyExists(id);
    checkQuota(context, region, flavour.kind);
    // Tags given with the request win; otherwise CopyTagsToSnapshot copies the source's.
    const tags = input.tags() ?? (source.copyTagsToSnapshot ? [...source.tags] : []);
    const snapshot = newSnapshot(source, id, 'manual', tags, rt.endpointPort(source));
    await snapshotNow(rt, source, snapshot);
    return { [flavour.element]: flavour.render(snapshot) };
  };
}

function describe(flavour: Flavour): Operation {
  return (context, input) => {
    const { region, store } = context;
    const id = input.string(flavour.idParam);
    const sourceId = input.string(flavour.sourceParam);
    const type = input.string('SnapshotType');
    if (type !== undefined && !['manual', 'automated', 'shared', 'public', 'awsbackup'].includes(type)) {
      throw errors.invalidParameterValue(`Invalid SnapshotType: ${type}`);
    }
    let items =
      id === undefined
        ? store.snapshotsIn(region, flavour.kind)
        : [store.requireSnapshot(region, flavour.kind, id)];
    if (sourceId !== undefined) {
      const wanted = parseRdsArn(sourceId)?.id ?? sourceId;
      items = items.filter((item) => item.sourceId === wanted.toLowerCase());
    }
    // Without SnapshotType, manual and automated snapshots; nothing here is shared, public or AWS Backup's.
    items = items.filter((item) => (type === undefined ? true : item.snapshotType === type));
    const arnType = flavour.kind;
    const sourceType = flavour.kind === 'snapshot' ? 'db' : 'cluster';
    const filtered = applyFilters(items, input.filters(), {
      [flavour.filterNames.source]: (item) => [item.sourceId, rdsArn(region, sourceType, item.sourceId)],
      [flavour.filterNames.id]: (item) => [item.id, rdsArn(region, arnType, item.id)],
      [flavour.filterNames.resource]: (item) => [item.sourceResourceId],
      'snapshot-type': (item) => [item.snapshotType],
      engine: (item) => [item.engine],
    });
    const { page, marker } = paginate(
      filtered,
      input,
      (item) => `${new Date(item.createdAt).toISOString()}|${item.id}`,
    );
    return {
      Marker: marker,
      [flavour.listElement]: { [flavour.element]: page.map((item) => flavour.render(item)) },
    };
  };
}

function remove(flavour: Flavour): Operation {
  return async (context, input) => {
    const { region, rt, store } = context;
    const snapshot = store.requireSnapshot(region, flavour.kind, input.required(flavour.idParam));
    if (snapshot.snapshotType !== 'manual') {
      throw flavour.invalidState(
        'Only manual snapshots can be deleted: automated ones go with their retention period.',
      );
    }
    if (snapshot.status !== 'available' && snapshot.status !== 'failed') {
      throw flavour.invalidState(`Snapshot ${snapshot.id} is ${snapshot.status}: it cannot be deleted now.`);
    }
    store.snapshots.delete(snapshot.key);
    store.save();
    await rt.dropSnapshotData(snapshot);
    return { [flavour.element]: flavour.render({ ...snapshot, status: 'deleted' }) };
  };
}

/**
 * CopyDBSnapshot / CopyDBClusterSnapshot. The request's region is the target; a source in
 * another region is named by its ARN. KmsKeyId must name a usable key of the sandbox's KMS in
 * the target region; an encrypted snapshot copied across regions needs one.
 */
function copy(flavour: Flavour): Operation {
  return async (context, input) => {
    const { region, rt, store } = context;
    const sourceText = input.required(flavour.copySourceParam);
    const arn = parseRdsArn(sourceText);
    const sourceRegion = arn?.region ?? input.string('SourceRegion') ?? region;
    if (arn && arn.type !== flavour.kind) {
      throw errors.invalidParameterValue(
        `${flavour.copySourceParam} is not a ${flavour.element} ARN: ${sourceText}`,
      );
    }
    const source = store.requireSnapshot(sourceRegion, flavour.kind, arn ? arn.id : sourceText);
    if (source.status !== 'available') {
      throw flavour.invalidState(
        `Snapshot ${source.id} must be available to be copied (it is ${source.status}).`,
      );
    }
    const id = valid.snapshotIdentifier(input.required(flavour.copyTargetParam), flavour.copyTargetParam);
    if (store.findSnapshot(region, flavour.kind, id)) throw flavour.alreadyExists(id);
    checkQuota(context, region, flavour.kind);
    const crossRegion = sourceRegion !== region;
    const keyId = input.string('KmsKeyId');
    let kmsKeyId = source.kmsKeyId;
    if (keyId !== undefined) kmsKeyId = rt.kmsKeyArn(region, keyId);
    else if (crossRegion && source.encrypted) {
      throw errors.invalidParameterValue(
        'Must specify new KMS key for cross region encrypted snapshot copy.',
      );
    }
    const requested = input.tags() ?? [];
    if (!source.home) throw new Error(`Snapshot ${source.id} has no data`);
    // A snapshot's data never changes once taken: the copy shares its files, which go with the last of them.
    const target: SnapshotRecord = {
      ...source,
      key: randomUUID(),
      region,
      id,
      snapshotType: 'manual',
      status: 'creating',
      progress: 0,
      createdAt: Date.now(),
      encrypted: kmsKeyId !== undefined,
      kmsKeyId,
      optionGroup: input.string('OptionGroupName') ?? source.optionGroup,
      sourceRegion: crossRegion ? sourceRegion : undefined,
      sourceSnapshotArn: rdsArn(sourceRegion, flavour.kind, source.id),
      availabilityZone: crossRegion ? `${region}a` : source.availabilityZone,
      availabilityZones:
        crossRegion && source.availabilityZones.length > 0
          ? [`${region}a`, `${region}b`, `${region}c`]
          : source.availabilityZones,
      tags: input.boolean('CopyTags') ? mergeTags(source.tags, requested) : requested,
    };
    store.snapshots.set(target.key, target);
    store.save();
    rt.background(
      target.key,
      () => rt.completeSnapshot(target),
      () => {
        target.status = 'failed';
      },
    );
    return { [flavour.element]: flavour.render(target) };
  };
}

export const SNAPSHOT_OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateDBSnapshot: create(INSTANCE),
  DescribeDBSnapshots: describe(INSTANCE),
  DeleteDBSnapshot: remove(INSTANCE),
  CopyDBSnapshot: copy(INSTANCE),
  CreateDBClusterSnapshot: create(CLUSTER),
  DescribeDBClusterSnapshots: describe(CLUSTER),
  DeleteDBClusterSnapshot: remove(CLUSTER),
  CopyDBClusterSnapshot: copy(CLUSTER),
};
