/**
 * `switch-over` and `undo-switch-over`: the restored copy takes the original's identifier, so the
 * endpoint applications use (its DNS name follows the identifier) serves the restored data.
 *
 * A switch-over is two renames that each take minutes, so every call looks at where the three
 * names stand (the original name S, the parking name O = `<S>-old-<time>`, the restored name R),
 * does the one next step, and says whether it is done; the flow calls again after a Wait. Because
 * the next step is read from RDS rather than remembered, a retried or repeated call never renames
 * twice. Deciding the step is pure ({@link nextSwitchOverStep}, {@link nextUndoStep}).
 *
 * **The journal.** Before anything is renamed, the copy is tagged with S and O
 * (`caretaker:switch-source`, `caretaker:switch-parking`) and the original with who parks it
 * (`caretaker:parked-by`, `caretaker:parked-at`, `caretaker:switch-copy`); before the copy takes
 * S, it is tagged `caretaker:took-source-name` (kept for good: writes may have reached it under
 * the production name, so it is never deleted without a final snapshot). Tags travel with a
 * rename, so from any partial state an undo needs only the execution id: O is read from the copy's
 * tags, or found among `<S>-old-*` by the original's `caretaker:parked-by`. A step that cannot go
 * on while the original is parked says, in its error, the exact commands that bring it back.
 *
 * The promoted copy drops the managed tag (it is production now, and nothing Caretaker
 * deletes may be production) and gets back deletion protection if the original had it; the undo
 * turns protection off before renaming it back. This function's role may rename and tag these
 * names only with journal keys: it can neither add the managed tag nor delete anything
 * (lib/functions/rds-functions.ts); rds-restore's `delete` makes a copy disposable again.
 *
 * When the copy is an Update's rollback point (`caretaker:kind=rollback-point`), the original it
 * replaces is the failed update: on promotion the parked original is tagged as such
 * ({@link parkedOriginalTags}). It never gets the managed tag, so nothing Caretaker does deletes it.
 */
import {
  AddTagsToResourceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  type RDSClient,
  RemoveTagsFromResourceCommand,
} from '@aws-sdk/client-rds';
import { FAILED_UPDATE_KIND, isFromExecution, TAG, tagMap, tagValue } from '#common/caretaker-tags';
import { type DatabaseView, findDatabase } from '#common/rds/rds-lookup';
import { oldIdentifier, restoredIdentifier } from '#common/rds/rds-names';
import type { RdsTarget } from '#common/rds/rds-targets';
import { NotFoundError, PreconditionFailedError } from '#common/runtime/errors';
import { logger } from '#common/runtime/observability';
import type { SwitchAction } from './input.ts';

/** The journal's tag keys (caretaker-tags.ts SWITCH_OVER_TAG_KEYS: the only keys this function's role may add). */
const JOURNAL = {
  source: TAG.switchSource,
  parking: TAG.switchParking,
  copy: TAG.switchCopy,
  tookSourceName: TAG.tookSourceName,
} as const;

/** What one name shows. */
export interface Seen {
  readonly status: string;
  /** A rename of it is waiting or being applied. */
  readonly renaming: boolean;
  /** The copy this execution restored. */
  readonly restoredByUs: boolean;
  /** Carries `caretaker:promoted-at` (a switch-over finished with it). */
  readonly promoted: boolean;
  /** The original, tagged as parked by this execution. */
  readonly parkedByUs?: boolean;
}

/** The three names: S (the original's), O (where the original is parked), R (the restored copy's). */
export interface SwitchState {
  readonly source?: Seen;
  readonly old?: Seen;
  readonly restored?: Seen;
}

type Name = 'source' | 'old' | 'restored';

export type SwitchStep =
  | {
      readonly kind: 'rename';
      readonly from: Name;
      readonly to: Name;
      readonly holder: 'original' | 'restored';
    }
  | { readonly kind: 'promote' }
  | { readonly kind: 'tidy' }
  | { readonly kind: 'wait'; readonly phase: string }
  | { readonly kind: 'done' }
  | { readonly kind: 'fail'; readonly error: 'not-found' | 'precondition'; readonly message: string };

const settled = (seen: Seen) => !seen.renaming && seen.status === 'available';

/** The next step of a switch-over. Pure. */
export function nextSwitchOverStep({ source, old, restored }: SwitchState): SwitchStep {
  if (source?.restoredByUs) {
    if (!settled(source)) return { kind: 'wait', phase: 'renaming-restored' };
    return source.promoted ? { kind: 'done' } : { kind: 'promote' };
  }
  if (source) {
    if (source.renaming) return { kind: 'wait', phase: 'renaming-source' };
    if (old) return { kind: 'fail', error: 'precondition', message: 'the parking name O is already taken' };
    if (!restored) return { kind: 'fail', error: 'not-found', message: 'the restored copy R does not exist' };
    if (!restored.restoredByUs) {
      return { kind: 'fail', error: 'precondition', message: 'R was not restored by this execution' };
    }
    if (!settled(restored)) return { kind: 'wait', phase: 'waiting-for-restored' };
    if (source.status !== 'available') return { kind: 'wait', phase: 'waiting-for-source' };
    return { kind: 'rename', from: 'source', to: 'old', holder: 'original' };
  }
  if (!old) return { kind: 'fail', error: 'not-found', message: 'neither S nor O exists' };
  if (!settled(old)) return { kind: 'wait', phase: 'renaming-source' };
  if (!restored) {
    return {
      kind: 'fail',
      error: 'not-found',
      message: 'the restored copy R is gone while the original is parked as O: undo the switch-over',
    };
  }
  if (!restored.restoredByUs) {
    return { kind: 'fail', error: 'precondition', message: 'R was not restored by this execution' };
  }
  if (!settled(restored)) return { kind: 'wait', phase: 'renaming-restored' };
  return { kind: 'rename', from: 'restored', to: 'source', holder: 'restored' };
}

/** The next step of undoing a switch-over (also fine when it never started or never finished). Pure. */
export function nextUndoStep({ source, old, restored }: SwitchState): SwitchStep {
  if (source?.restoredByUs) {
    if (!settled(source)) return { kind: 'wait', phase: 'renaming-restored-back' };
    if (restored) return { kind: 'fail', error: 'precondition', message: 'the name R is taken' };
    return { kind: 'rename', from: 'source', to: 'restored', holder: 'restored' };
  }
  if (source) {
    if (source.renaming) return { kind: 'wait', phase: 'renaming-source-back' };
    return source.parkedByUs ? { kind: 'tidy' } : { kind: 'done' };
  }
  // The copy may be on its way to S (a switch-over interrupted right after renaming it): S is
  // not free until that rename settles.
  if (restored?.renaming) return { kind: 'wait', phase: 'renaming-restored' };
  if (!old) return { kind: 'fail', error: 'not-found', message: 'neither S nor O exists' };
  if (!settled(old)) return { kind: 'wait', phase: 'renaming-source-back' };
  return { kind: 'rename', from: 'old', to: 'source', holder: 'original' };
}

/**
 * Tags for the original a rollback-point switch-over parks: the failed update of `executionId`.
 * Pure; undefined when the promoted copy is not a rollback point (a DR failover parks the original
 * as it is).
 */
export function parkedOriginalTags(
  promotedTags: Readonly<Record<string, string>>,
  owner: { readonly executionId: string; readonly stack: string; readonly target: string },
  at: Date,
): Record<string, string> | undefined {
  if (promotedTags[TAG.kind] !== 'rollback-point') return undefined;
  return {
    [TAG.kind]: FAILED_UPDATE_KIND,
    [TAG.parkedBy]: tagValue(owner.executionId),
    [TAG.parkedAt]: at.toISOString(),
    [TAG.stack]: tagValue(owner.stack),
    [TAG.target]: tagValue(owner.target),
  };
}

/** The AWS CLI command that renames `from` to `to`. Pure. */
export function renameCommand(type: 'instance' | 'cluster', from: string, to: string): string {
  return type === 'cluster'
    ? `aws rds modify-db-cluster --db-cluster-identifier ${from} --new-db-cluster-identifier ${to} --apply-immediately`
    : `aws rds modify-db-instance --db-instance-identifier ${from} --new-db-instance-identifier ${to} --apply-immediately`;
}

/**
 * The commands that bring the original back under S by hand, given where things stand: the copy
 * off S first when it holds it, then the original from O. Empty when the original holds S. Pure.
 */
export function manualRecovery(
  type: 'instance' | 'cluster',
  names: { readonly source: string; readonly old: string | null; readonly restored: string },
  state: SwitchState,
): string[] {
  if (state.source && !state.source.restoredByUs) return [];
  const steps: string[] = [];
  if (state.source?.restoredByUs) steps.push(renameCommand(type, names.source, names.restored));
  steps.push(
    names.old
      ? renameCommand(type, names.old, names.source)
      : `the original's name O is unknown: find it with aws rds describe-db-${type === 'cluster' ? 'clusters' : 'instances'} (identifier ${names.source}-old-…, tag ${TAG.parkedBy}), then ${renameCommand(type, '<O>', names.source)}`,
  );
  return steps;
}

export interface SwitchResult {
  readonly target: string;
  readonly action: 'switch-over' | 'undo-switch-over';
  /** Finished: call again after a Wait until it is. */
  readonly done: boolean;
  /** What is under way: `renaming-source`, `renaming-restored`, `promoted`, `done`, … */
  readonly phase: string;
  readonly sourceIdentifier: string;
  /** Where the original is parked; null only for an undo with nothing journaled (nothing was parked). */
  readonly oldIdentifier: string | null;
  readonly restoredIdentifier: string;
  /** When the restored copy took over the original's name (set once the switch-over is done). */
  readonly completedAt?: string;
  /** Tags put on the parked original (a rollback point's switch-over). */
  readonly parkedTags?: Record<string, string>;
}

/** Renames, tags and protects instances or clusters. */
class Databases {
  constructor(
    private readonly rds: RDSClient,
    readonly type: 'instance' | 'cluster',
  ) {}

  find(id: string): Promise<DatabaseView | undefined> {
    return findDatabase(this.rds, this.type, id);
  }

  /** Databases named `<prefix>…` whose tags satisfy `match` (a parked original found by its journal). */
  async findByPrefix(
    prefix: string,
    match: (tags: Record<string, string>) => boolean,
  ): Promise<string | undefined> {
    let marker: string | undefined;
    do {
      if (this.type === 'cluster') {
        const page = await this.rds.send(new DescribeDBClustersCommand({ Marker: marker }));
        const hit = (page.DBClusters ?? []).find(
          (c) => c.DBClusterIdentifier?.startsWith(prefix) && match(tagMap(c.TagList)),
        );
        if (hit) return hit.DBClusterIdentifier;
        marker = page.Marker;
      } else {
        const page = await this.rds.send(new DescribeDBInstancesCommand({ Marker: marker }));
        const hit = (page.DBInstances ?? []).find(
          (db) => db.DBInstanceIdentifier?.startsWith(prefix) && match(tagMap(db.TagList)),
        );
        if (hit) return hit.DBInstanceIdentifier;
        marker = page.Marker;
      }
    } while (marker);
    return undefined;
  }

  async modify(id: string, change: { newIdentifier?: string; deletionProtection?: boolean }): Promise<void> {
    if (this.type === 'cluster') {
      await this.rds.send(
        new ModifyDBClusterCommand({
          DBClusterIdentifier: id,
          NewDBClusterIdentifier: change.newIdentifier,
          DeletionProtection: change.deletionProtection,
          ApplyImmediately: true,
        }),
      );
    } else {
      await this.rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: id,
          NewDBInstanceIdentifier: change.newIdentifier,
          DeletionProtection: change.deletionProtection,
          ApplyImmediately: true,
        }),
      );
    }
  }

  async tag(arn: string, add: Record<string, string>, remove: string[]): Promise<void> {
    if (Object.keys(add).length) {
      await this.rds.send(
        new AddTagsToResourceCommand({
          ResourceName: arn,
          Tags: Object.entries(add).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    }
    if (remove.length) {
      await this.rds.send(new RemoveTagsFromResourceCommand({ ResourceName: arn, TagKeys: remove }));
    }
  }
}

/** Reads of a state that looks failed before it is believed (renames land between reads). */
const REREADS = 2;
const REREAD_DELAY_MS = 250;

/** What a switch-over works with. */
export interface SwitchDeps {
  readonly rds: RDSClient;
  /** Stack name for the tags of a parked failed update. */
  readonly stack: string;
}

function seen(view: DatabaseView | undefined, executionId: string): Seen | undefined {
  if (!view) return undefined;
  return {
    status: view.status,
    renaming: view.status === 'renaming' || view.pendingIdentifier !== undefined,
    restoredByUs: isFromExecution(view.tags, executionId) && view.tags[TAG.restoredFrom] !== undefined,
    promoted: view.tags[TAG.promotedAt] !== undefined,
    parkedByUs: view.tags[TAG.parkedBy] === tagValue(executionId) && view.tags[JOURNAL.copy] !== undefined,
  };
}

/**
 * Where the original is (or goes) parked: the journal on the copy (wherever it is), else the
 * execution's start time, else — for an undo — the original found among `<S>-old-*` by its journal,
 * else — for a switch-over not started — now.
 */
async function parkingName(
  db: Databases,
  names: { source: string; restored: string },
  copies: readonly (DatabaseView | undefined)[],
  event: SwitchAction,
  now: () => Date,
): Promise<string | null> {
  for (const copy of copies) {
    const journaled =
      copy && isFromExecution(copy.tags, event.executionId) ? copy.tags[JOURNAL.parking] : undefined;
    if (journaled) return journaled;
  }
  if (event.startedAt) return oldIdentifier(names.source, new Date(event.startedAt));
  const prefix = `${names.source}-old-`;
  const parked = await db.findByPrefix(
    prefix,
    (tags) => tags[TAG.parkedBy] === tagValue(event.executionId) && tags[JOURNAL.copy] === names.restored,
  );
  if (parked) return parked;
  return event.action === 'switch-over' ? oldIdentifier(names.source, now()) : null;
}

/** Runs the next step of a switch-over or its undo and reports where things stand. */
export async function switchOver(
  deps: SwitchDeps,
  target: RdsTarget,
  event: SwitchAction,
  now: () => Date = () => new Date(),
): Promise<SwitchResult> {
  const db = new Databases(deps.rds, target.type);
  const source = target.identifier.toLowerCase();
  const restoredName = (
    event.restoredIdentifier ?? restoredIdentifier(target.identifier, event.executionId)
  ).toLowerCase();
  const undo = event.action === 'undo-switch-over';
  /** The three names as RDS shows them now, and the step that follows. */
  const read = async () => {
    const [sourceView, restoredView] = await Promise.all([db.find(source), db.find(restoredName)]);
    const old = await parkingName(
      db,
      { source, restored: restoredName },
      [sourceView, restoredView],
      event,
      now,
    );
    const oldView = old ? await db.find(old) : undefined;
    const state: SwitchState = {
      source: seen(sourceView, event.executionId),
      old: seen(oldView, event.executionId),
      restored: seen(restoredView, event.executionId),
    };
    const step = undo ? nextUndoStep(state) : nextSwitchOverStep(state);
    return { old, views: { source: sourceView, old: oldView, restored: restoredView }, state, step };
  };
  // The names are read one after another, so a rename landing between two reads can hide a
  // database from both: a failure is only believed when reading again shows it too.
  let current = await read();
  for (let attempt = 1; attempt <= REREADS && current.step.kind === 'fail'; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, REREAD_DELAY_MS));
    current = await read();
  }
  const { old, views, state, step } = current;
  const sourceView = views.source;
  const oldView = views.old;
  const names = { source, old, restored: restoredName };
  const result = (done: boolean, phase: string, extra: Partial<SwitchResult> = {}): SwitchResult => ({
    target: target.name,
    action: event.action,
    done,
    phase,
    sourceIdentifier: source,
    oldIdentifier: old,
    restoredIdentifier: restoredName,
    ...extra,
  });
  const details = { ...names, state };

  switch (step.kind) {
    case 'done': {
      const promotedAt = !undo ? sourceView?.tags[TAG.promotedAt] : undefined;
      return result(true, 'done', promotedAt ? { completedAt: promotedAt } : {});
    }
    case 'wait':
      return result(false, step.phase);
    case 'fail': {
      const recovery = manualRecovery(target.type, names, state);
      const message = `Cannot ${undo ? 'undo the switch-over of' : 'switch over'} ${source} (O = ${old ?? 'unknown'}, R = ${restoredName}): ${step.message}${
        recovery.length
          ? `. The original is not under ${source}: to bring it back by hand, run ${recovery.join(' ; then ')}`
          : ''
      }`;
      const failure = { ...details, manualRecovery: recovery };
      throw step.error === 'not-found'
        ? new NotFoundError(message, failure)
        : new PreconditionFailedError(message, failure);
    }
    case 'tidy': {
      // The original is back under its name: its journal tags go.
      const original = sourceView!;
      const keys: string[] = [TAG.parkedBy, TAG.parkedAt, JOURNAL.copy];
      if (original.tags[TAG.kind] === FAILED_UPDATE_KIND) keys.push(TAG.kind, TAG.stack, TAG.target);
      await db.tag(
        original.arn,
        {},
        keys.filter((key) => original.tags[key] !== undefined),
      );
      logger.info('Undo done: the original holds its name again', details);
      return result(true, 'done');
    }
    case 'promote': {
      const promoted = sourceView!;
      const at = now();
      // Tagged before the promotion, so a retry after a failure in between tags it again.
      const parked = oldView
        ? parkedOriginalTags(
            promoted.tags,
            { executionId: event.executionId, stack: deps.stack, target: target.name },
            at,
          )
        : undefined;
      if (oldView && parked) {
        await db.tag(oldView.arn, parked, []);
        logger.info('Parked original tagged as the failed update', { identifier: old, tags: parked });
      }
      await db.tag(promoted.arn, { [TAG.promotedAt]: at.toISOString() }, [TAG.managed]);
      if (promoted.tags[TAG.protectOnPromote] === 'true')
        await db.modify(source, { deletionProtection: true });
      logger.info('Switch-over done: the restored copy serves the original endpoint', details);
      return result(true, 'promoted', {
        completedAt: at.toISOString(),
        ...(parked ? { parkedTags: parked } : {}),
      });
    }
    case 'rename': {
      const from = views[step.from]!;
      const to = names[step.to]!;
      if (!undo && step.holder === 'original') {
        // The journal first: from here on an undo finds O from either database's tags.
        const copy = views.restored!;
        if (copy.tags[JOURNAL.parking] !== old || copy.tags[JOURNAL.source] !== source) {
          await db.tag(copy.arn, { [JOURNAL.source]: source, [JOURNAL.parking]: old! }, []);
        }
        if (
          from.tags[TAG.parkedBy] !== tagValue(event.executionId) ||
          from.tags[JOURNAL.copy] !== restoredName
        ) {
          await db.tag(
            from.arn,
            {
              [TAG.parkedBy]: tagValue(event.executionId),
              [TAG.parkedAt]: now().toISOString(),
              [JOURNAL.copy]: restoredName,
            },
            [],
          );
        }
        await db.modify(names.source, { newIdentifier: to });
      } else if (!undo) {
        // Writes may reach the copy once it holds the production name: marked for a final snapshot.
        if (from.tags[JOURNAL.tookSourceName] === undefined) {
          await db.tag(from.arn, { [JOURNAL.tookSourceName]: now().toISOString() }, []);
        }
        await db.modify(names.restored, { newIdentifier: to });
      } else if (step.holder === 'restored') {
        // Leaving the production name: no longer promoted, unprotected so that it can be deleted.
        if (from.tags[TAG.promotedAt] !== undefined) await db.tag(from.arn, {}, [TAG.promotedAt]);
        await db.modify(names.source, { newIdentifier: to, deletionProtection: false });
      } else {
        await db.modify(old!, { newIdentifier: to });
      }
      logger.info('Renaming', { from: names[step.from], to, holder: step.holder });
      return result(
        false,
        `renaming-${step.holder === 'original' ? 'source' : 'restored'}${undo ? '-back' : ''}`,
      );
    }
  }
}
