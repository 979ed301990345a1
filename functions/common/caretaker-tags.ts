/**
 * The `caretaker:*` tags of the shared data contract (keys in contract.ts), as RDS resources carry
 * them. Pure.
 *
 * Every resource Caretaker creates carries the managed, stack, execution, kind and target tags. The execution tag is what makes
 * a re-run recognise its own work: an identifier derived from the execution may only be reused
 * when the resource behind it carries that execution.
 */
import type { Tag } from '@aws-sdk/client-rds';
import { MANAGED_VALUE, TAG, TAG_PREFIX } from './contract.ts';

/** Tag keys Caretaker reads and writes: defined in the contract (contract.ts), shared with the stack. */
export { TAG };

/** The tag keys the switch-over may add (its journal and promotion): never the managed tag. */
export const SWITCH_OVER_TAG_KEYS = [
  TAG.promotedAt,
  TAG.parkedBy,
  TAG.parkedAt,
  TAG.switchSource,
  TAG.switchParking,
  TAG.switchCopy,
  TAG.tookSourceName,
  // A parked failed update (parkedOriginalTags).
  TAG.kind,
  TAG.stack,
  TAG.target,
] as const;

/**
 * `caretaker:kind` of the database an Update rolled back by restore: the updated original, parked
 * under `<id>-old-<time>` and kept (never the managed tag, so nothing Caretaker does deletes it).
 */
export const FAILED_UPDATE_KIND = 'failed-update';

/** The kinds of the shared data contract. */
export const CARETAKER_KINDS = ['snapshot', 'backup', 'rollback-point', 'drill'] as const;
export type CaretakerKind = (typeof CARETAKER_KINDS)[number];

/** AWS allows at most this many tags on one RDS resource. */
export const MAX_TAGS = 50;

/** RDS (and S3) tag values: at most 256 of these characters. */
const TAG_VALUE_CHARACTERS = /[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu;

/** A value RDS accepts as a tag value: other characters become `_`, cut to 256 characters. */
export function tagValue(value: string): string {
  return value.replace(TAG_VALUE_CHARACTERS, '_').slice(0, 256);
}

export interface Ownership {
  readonly stack: string;
  readonly executionId: string;
  readonly kind: CaretakerKind;
  readonly target: string;
}

/** The contract tags of a resource created by `executionId` for `target`. */
export function caretakerTags(owner: Ownership): Record<string, string> {
  return {
    [TAG.managed]: MANAGED_VALUE,
    [TAG.stack]: tagValue(owner.stack),
    [TAG.execution]: tagValue(owner.executionId),
    [TAG.kind]: owner.kind,
    [TAG.target]: tagValue(owner.target),
  };
}

/** Tag list → map (later duplicates win, keys without a name are dropped). */
export function tagMap(tags: readonly Tag[] | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) map[tag.Key] = tag.Value ?? '';
  return map;
}

/** Tag map → list, as the RDS API takes it. */
export function tagList(tags: Readonly<Record<string, string>>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Whether a tag key is Caretaker's (never copied from a source onto what Caretaker creates). */
export function isCaretakerKey(key: string): boolean {
  return key.startsWith(TAG_PREFIX);
}

/** Tags AWS reserves (`aws:`, `rds:`) cannot be set through the API. */
function isReservedKey(key: string): boolean {
  return /^(aws|rds):/i.test(key);
}

/** The source's own tags: neither Caretaker's nor reserved ones. */
export function userTags(tags: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tags).filter(([key]) => !isCaretakerKey(key) && !isReservedKey(key)),
  );
}

/** Carries the managed tag (`TAG.managed`). */
export function isManaged(tags: Readonly<Record<string, string>>): boolean {
  return tags[TAG.managed] === MANAGED_VALUE;
}

/** Tagged as created by this execution (managed or not: a promoted resource drops `managed`). */
export function isFromExecution(tags: Readonly<Record<string, string>>, executionId: string): boolean {
  return tags[TAG.execution] === tagValue(executionId);
}

/**
 * Merges Caretaker's tags with a source's user tags within AWS's 50-tag limit: Caretaker's tags
 * always fit; user tags that do not are dropped (in key order) and returned so the caller can say so.
 */
export function withinTagLimit(
  caretaker: Readonly<Record<string, string>>,
  user: Readonly<Record<string, string>>,
): { tags: Record<string, string>; dropped: string[] } {
  const room = Math.max(0, MAX_TAGS - Object.keys(caretaker).length);
  const userKeys = Object.keys(user)
    .filter((key) => !(key in caretaker))
    .sort();
  const kept = userKeys.slice(0, room);
  const tags: Record<string, string> = {};
  for (const key of kept) tags[key] = user[key]!;
  return { tags: { ...tags, ...caretaker }, dropped: userKeys.slice(room) };
}
