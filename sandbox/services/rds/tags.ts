/**
 * Tagging by ARN (AddTagsToResource, ListTagsForResource, RemoveTagsFromResource) and
 * DescribePendingMaintenanceActions over actions seeded through the service's in-process API
 * (maintenance.ts applies them).
 */
import { paginate } from './describe.ts';
import * as errors from './errors.ts';
import type { MaintenanceAction, Tag } from './model.ts';
import { mergeTags, parseRdsArn, rdsArn } from './model.ts';
import type { Operation, OperationContext } from './operation.ts';
import { tagList } from './render.ts';
import type { RdsStore } from './store.ts';

/** The tagged record an ARN names in `region`, with the right not-found error for its type. */
export function taggable(store: RdsStore, region: string, resourceName: string): { tags: Tag[] } {
  const arn = parseRdsArn(resourceName);
  if (!arn || arn.region !== region) {
    throw errors.invalidParameterValue(
      `The specified resource name does not match an RDS resource in this region: ${resourceName}`,
    );
  }
  switch (arn.type) {
    case 'db':
      return store.requireInstance(region, resourceName);
    case 'cluster':
      return store.requireCluster(region, resourceName);
    case 'snapshot':
    case 'cluster-snapshot':
      return store.requireSnapshot(region, arn.type, resourceName);
  }
}

const addTagsToResource: Operation = ({ region, store }, input) => {
  const record = taggable(store, region, input.required('ResourceName'));
  record.tags = mergeTags(record.tags, input.tags() ?? []);
  store.save();
  return undefined;
};

const listTagsForResource: Operation = ({ region, store }, input) => {
  const record = taggable(store, region, input.required('ResourceName'));
  return { TagList: tagList(record.tags) };
};

const removeTagsFromResource: Operation = ({ region, store }, input) => {
  const record = taggable(store, region, input.required('ResourceName'));
  const keys = new Set(input.list('TagKeys', 'member') ?? []);
  record.tags = record.tags.filter((tag) => !keys.has(tag.Key));
  store.save();
  return undefined;
};

/** Seeds a pending maintenance action on an instance or cluster (in-process API for tests). */
export function seedPendingMaintenance(
  store: RdsStore,
  region: string,
  resource: string,
  action: MaintenanceAction,
): string {
  const arn = parseRdsArn(resource);
  const type = arn?.type ?? 'db';
  if (type !== 'db' && type !== 'cluster') {
    throw errors.invalidParameterValue('Pending maintenance applies to DB instances and clusters only');
  }
  const record =
    type === 'db' ? store.requireInstance(region, resource) : store.requireCluster(region, resource);
  const resourceArn = rdsArn(region, type, record.id);
  const actions = store.maintenance.get(resourceArn) ?? [];
  store.maintenance.set(resourceArn, [
    ...actions.filter((existing) => existing.Action !== action.Action),
    action,
  ]);
  store.save();
  return resourceArn;
}

const describePendingMaintenanceActions: Operation = (context: OperationContext, input) => {
  const { region, store } = context;
  const resource = input.string('ResourceIdentifier');
  let entries = [...store.maintenance].filter(([arn]) => parseRdsArn(arn)?.region === region);
  if (resource !== undefined) {
    const wanted = parseRdsArn(resource);
    if (!wanted || wanted.region !== region || (wanted.type !== 'db' && wanted.type !== 'cluster')) {
      throw errors.resourceNotFound(`The resource ${resource} could not be found.`);
    }
    const exists =
      wanted.type === 'db' ? store.findInstance(region, resource) : store.findCluster(region, resource);
    if (!exists) throw errors.resourceNotFound(`The resource ${resource} could not be found.`);
    entries = entries.filter(([arn]) => arn === rdsArn(region, wanted.type, wanted.id.toLowerCase()));
  }
  for (const filter of input.filters()) {
    const type =
      filter.name === 'db-instance-id' ? 'db' : filter.name === 'db-cluster-id' ? 'cluster' : undefined;
    if (!type) throw errors.invalidParameterValue(`Unrecognized filter name: ${filter.name}`);
    const wanted = new Set(
      filter.values.map((value) => rdsArn(region, type, (parseRdsArn(value)?.id ?? value).toLowerCase())),
    );
    entries = entries.filter(([arn]) => wanted.has(arn));
  }
  const { page, marker } = paginate(entries, input, ([arn]) => arn);
  return {
    PendingMaintenanceActions: {
      ResourcePendingMaintenanceActions: page.map(([arn, actions]) => ({
        ResourceIdentifier: arn,
        PendingMaintenanceActionDetails: {
          PendingMaintenanceAction: renderActions(actions),
        },
      })),
    },
    Marker: marker,
  };
};

/** Pending maintenance actions as RDS renders them (`PendingMaintenanceAction` members). */
export function renderActions(actions: readonly MaintenanceAction[]) {
  return actions.map((action) => ({
    Action: action.Action,
    AutoAppliedAfterDate: toDate(action.AutoAppliedAfterDate),
    ForcedApplyDate: toDate(action.ForcedApplyDate),
    OptInStatus: action.OptInStatus,
    CurrentApplyDate: toDate(action.CurrentApplyDate),
    Description: action.Description,
  }));
}

function toDate(ms: number | undefined): Date | undefined {
  return ms === undefined ? undefined : new Date(ms);
}

export const TAG_OPERATIONS: Readonly<Record<string, Operation>> = {
  AddTagsToResource: addTagsToResource,
  ListTagsForResource: listTagsForResource,
  RemoveTagsFromResource: removeTagsFromResource,
  DescribePendingMaintenanceActions: describePendingMaintenanceActions,
};
