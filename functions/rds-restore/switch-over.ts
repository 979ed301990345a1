/**
 * `switch-over` and `undo-switch-over`: the restored copy takes the original's identifier, so the
 * endpoint applications use (its DNS name follows the identifier) serves the restored data.
 *
 * A switch-over is two renames that each take minutes, so every call looks at where the three
 * names stand (the original name S, the parking name O = `<S>-old-<execution start>`, the
 * restored name R), does the one next step, and says whether it is done; the flow calls again
 * after a Wait. Because the next step is read from RDS rather than remembered, a retried or
 * repeated call never renames twice. Deciding the step is pure ({@link nextSwitchOverStep},
 * {@link nextUndoStep}); the rest reads and renames.
 *
 * The promoted copy drops `caretaker:managed` (it is production now, and nothing Caretaker
 * deletes may be production) and gets back deletion protection if the original had it; the undo
 * reverses both before renaming it back, so a rollback can then delete it.
 *
 * When the copy is an Update's rollback point (`caretaker:kind=rollback-point`), the original it
 * replaces is the failed update: before the promotion, the parked original is tagged as such
 * ({@link parkedOriginalTags}) so that whoever finds `<id>-old-<time>` knows what it is and which
 * execution parked it. It never gets `caretaker:managed`, so nothing Caretaker does deletes it.
 */
import {
  AddTagsToResourceCommand,
  ModifyDBClusterCommand,
  ModifyDBInstanceCommand,
  type RDSClient,
  RemoveTagsFromResourceCommand,
} from '@aws-sdk/client-rds';
import { FAILED_UPDATE_KIND, isFromExecution, TAG, tagValue } from '#common/caretaker-tags';
import { NotFoundError, PreconditionFailedError } from '#common/errors';
import { logger } from '#common/observability';
import { type DatabaseView, findDatabase } from '#common/rds-lookup';
import { oldIdentifier } from '#common/rds-names';
import type { RdsTarget } from '#common/rds-targets';
import type { RestoreDeps } from './deps.ts';
import type { SwitchAction } from './input.ts';

/** What one name shows. */
export interface Seen {
  readonly status: string;
  /** A rename of it is waiting or being applied. */
  readonly renaming: boolean;
  /** The copy this execution restored. */
  readonly restoredByUs: boolean;
  /** Carries `caretaker:promoted-at` (a switch-over finished with it). */
  readonly promoted: boolean;
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
  if (source) return source.renaming ? { kind: 'wait', phase: 'renaming-source-back' } : { kind: 'done' };
  if (!old) {
    if (restored?.renaming) return { kind: 'wait', phase: 'renaming-restored-back' };
    return { kind: 'fail', error: 'not-found', message: 'neither S nor O exists' };
  }
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

export interface SwitchResult {
  readonly target: string;
  readonly action: 'switch-over' | 'undo-switch-over';
  /** Finished: call again after a Wait until it is. */
  readonly done: boolean;
  /** What is under way: `renaming-source`, `renaming-restored`, `promoted`, `done`, … */
  readonly phase: string;
  readonly sourceIdentifier: string;
  readonly oldIdentifier: string;
  readonly restoredIdentifier: string;
  /** When the restored copy took over the original's name (set once the switch-over is done). */
  readonly completedAt?: string;
  /** Tags put on the parked original (a rollback point's switch-over). */
  readonly parkedTags?: Record<string, string>;
}

function seen(view: DatabaseView | undefined, executionId: string): Seen | undefined {
  if (!view) return undefined;
  return {
    status: view.status,
    renaming: view.status === 'renaming' || view.pendingIdentifier !== undefined,
    restoredByUs: isFromExecution(view.tags, executionId) && view.tags[TAG.restoredFrom] !== undefined,
    promoted: view.tags[TAG.promotedAt] !== undefined,
  };
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

/** Runs the next step of a switch-over or its undo and reports where things stand. */
export async function switchOver(
  deps: RestoreDeps,
  target: RdsTarget,
  event: SwitchAction,
  now: () => Date = () => new Date(),
): Promise<SwitchResult> {
  const db = new Databases(deps.rds, target.type);
  const names: Record<Name, string> = {
    source: target.identifier.toLowerCase(),
    old: oldIdentifier(target.identifier, new Date(event.startedAt)),
    restored: event.restoredIdentifier.toLowerCase(),
  };
  const [source, old, restored] = await Promise.all([
    db.find(names.source),
    db.find(names.old),
    db.find(names.restored),
  ]);
  const views = { source, old, restored };
  const state = {
    source: seen(source, event.executionId),
    old: seen(old, event.executionId),
    restored: seen(restored, event.executionId),
  };
  const undo = event.action === 'undo-switch-over';
  const step = undo ? nextUndoStep(state) : nextSwitchOverStep(state);
  const result = (done: boolean, phase: string, extra: Partial<SwitchResult> = {}): SwitchResult => ({
    target: target.name,
    action: event.action,
    done,
    phase,
    sourceIdentifier: names.source,
    oldIdentifier: names.old,
    restoredIdentifier: names.restored,
    ...extra,
  });
  const details = { ...names, state };

  switch (step.kind) {
    case 'done': {
      const promotedAt = !undo ? source?.tags[TAG.promotedAt] : undefined;
      return result(true, 'done', promotedAt ? { completedAt: promotedAt } : {});
    }
    case 'wait':
      return result(false, step.phase);
    case 'fail': {
      const message = `Cannot ${undo ? 'undo the switch-over of' : 'switch over'} ${names.source} (O = ${names.old}, R = ${names.restored}): ${step.message}`;
      throw step.error === 'not-found'
        ? new NotFoundError(message, details)
        : new PreconditionFailedError(message, details);
    }
    case 'promote': {
      const promoted = views.source!;
      const at = now();
      // Tagged before the promotion, so a retry after a failure in between tags it again.
      const parked = old
        ? parkedOriginalTags(
            promoted.tags,
            { executionId: event.executionId, stack: deps.stack, target: target.name },
            at,
          )
        : undefined;
      if (old && parked) {
        await db.tag(old.arn, parked, []);
        logger.info('Parked original tagged as the failed update', { identifier: names.old, tags: parked });
      }
      await db.tag(promoted.arn, { [TAG.promotedAt]: at.toISOString() }, [TAG.managed]);
      if (promoted.tags[TAG.protectOnPromote] === 'true')
        await db.modify(names.source, { deletionProtection: true });
      logger.info('Switch-over done: the restored copy serves the original endpoint', details);
      return result(true, 'promoted', {
        completedAt: at.toISOString(),
        ...(parked ? { parkedTags: parked } : {}),
      });
    }
    case 'rename': {
      const from = views[step.from]!;
      if (step.holder === 'restored' && undo) {
        // Back to a disposable copy before it leaves the production name: managed, unprotected.
        await db.tag(from.arn, { [TAG.managed]: 'true' }, [TAG.promotedAt]);
        await db.modify(names[step.from], { newIdentifier: names[step.to], deletionProtection: false });
      } else {
        await db.modify(names[step.from], { newIdentifier: names[step.to] });
      }
      logger.info('Renaming', { from: names[step.from], to: names[step.to], holder: step.holder });
      return result(
        false,
        `renaming-${step.holder === 'original' ? 'source' : 'restored'}${undo ? '-back' : ''}`,
      );
    }
  }
}
