/**
 * The retention planner's input: recovery points, their zod schema (for files and events), and
 * the planner's own up-front check, which refuses a bad plan before anything is decided.
 *
 * The check is a hand-written loop rather than the zod schema because it runs on every plan,
 * over up to millions of points; both use the same time parser and the same messages.
 */
import * as z from 'zod';
import { type FieldProblem, ValidationError } from '../runtime/errors.ts';
import { toFieldProblems } from '../runtime/validation.ts';
import { ISO_TIME_EXPECTED, parseIsoTime } from '../time/iso-time.ts';
import { duplicateIds } from './duplicate-ids.ts';
import { type RetentionPolicy, retentionPolicySchema } from './retention-policy.ts';

/**
 * A snapshot or backup as the planner sees it. Inventory records with more fields (kind, tags,
 * a `Date` createdAt) can be passed as they are.
 */
export interface RetentionPoint {
  /** Unique among the points of one plan. */
  readonly id: string;
  /** ISO 8601 time with `Z` or an offset (as in files), or a Date (as from the AWS SDK). */
  readonly createdAt: string | Date;
  /** Carries the managed tag (`TAG.managed`); unmanaged points are never deleted. */
  readonly managed: boolean;
  /** A verified recovery point (a verification record, or an available managed snapshot). */
  readonly verified: boolean;
}

const ID_EXPECTED = 'expected a non-empty string';

/** One recovery point. Extra fields (kind, tags, …) are allowed and ignored. */
export const recoveryPointSchema = z.object({
  id: z.string().min(1, ID_EXPECTED),
  createdAt: z.string().refine((text) => parseIsoTime(text) !== undefined, ISO_TIME_EXPECTED),
  managed: z.boolean(),
  verified: z.boolean(),
});

/** A list of recovery points, ids unique. */
export const recoveryPointsSchema = z.array(recoveryPointSchema).superRefine(
  (points, ctx) => {
    // Runs even when some points are invalid, so a duplicate is reported with the other problems.
    const first = new Map<string, number>();
    (points as readonly unknown[]).forEach((point, index) => {
      const id = (point as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || id === '') return;
      const earlier = first.get(id);
      if (earlier === undefined) first.set(id, index);
      else ctx.addIssue({ code: 'custom', path: [index, 'id'], message: duplicateMessage(id, earlier) });
    });
  },
  { when: (payload) => Array.isArray(payload.value) },
);

function duplicateMessage(id: string, earlier: number): string {
  return `duplicate id ${JSON.stringify(id)} (also points[${earlier}])`;
}

/** Listing a million bad points helps nobody: the first ones, then a count. */
const MAX_POINT_PROBLEMS = 20;

export interface PlanInput {
  readonly policy: RetentionPolicy;
  /** createdAt of each point as epoch milliseconds, by input index. */
  readonly times: Float64Array;
  /** Input indices of the managed points, ascending. */
  readonly managed: Uint32Array;
  readonly now: number;
}

/** Checks everything the planner needs, or throws one ValidationError listing every problem. */
export function validatePlanInput(points: unknown, policy: unknown, now: unknown): PlanInput {
  const problems: FieldProblem[] = [];
  const parsed = retentionPolicySchema.safeParse(policy, { reportInput: true });
  if (!parsed.success) {
    for (const problem of toFieldProblems(parsed.error.issues)) {
      problems.push({ path: underField('policy', problem.path), message: problem.message });
    }
  }
  const nowMillis = now instanceof Date ? now.getTime() : Number.NaN;
  if (Number.isNaN(nowMillis)) problems.push({ path: 'now', message: 'expected a valid Date' });
  let checked: Pick<PlanInput, 'times' | 'managed'> = {
    times: new Float64Array(0),
    managed: new Uint32Array(0),
  };
  if (Array.isArray(points)) checked = checkPoints(points, problems);
  else problems.push({ path: 'points', message: 'expected an array of recovery points' });

  if (problems.length > 0 || !parsed.success) throw new ValidationError(problems, 'retention plan input');
  return { policy: parsed.data, ...checked, now: nowMillis };
}

function underField(field: string, path: string): string {
  if (path === '(root)') return field;
  return path.startsWith('[') ? `${field}${path}` : `${field}.${path}`;
}

/** One pass over the points: every problem, each point's time, and which points are managed. */
function checkPoints(
  points: readonly unknown[],
  problems: FieldProblem[],
): Pick<PlanInput, 'times' | 'managed'> {
  const times = new Float64Array(points.length);
  const managedIndices = new Uint32Array(points.length);
  let managedCount = 0;
  const duplicates = duplicateIds(points.length, (index) => (points[index] as { id?: unknown } | null)?.id);
  let found = 0;
  const report = (path: string, message: string): void => {
    if (found++ < MAX_POINT_PROBLEMS) problems.push({ path, message });
  };
  for (let i = 0; i < points.length; i++) {
    const point = points[i];
    if (typeof point !== 'object' || point === null || Array.isArray(point)) {
      report(`points[${i}]`, 'expected an object with id, createdAt, managed and verified');
      continue;
    }
    const { id, createdAt, managed, verified } = point as Record<string, unknown>;
    if (typeof id !== 'string' || id === '') report(`points[${i}].id`, ID_EXPECTED);
    else if (duplicates.size > 0) {
      const earlier = duplicates.get(i);
      if (earlier !== undefined) report(`points[${i}].id`, duplicateMessage(id, earlier));
    }
    const time = createdAt instanceof Date ? createdAt.getTime() : parseTime(createdAt);
    if (time === undefined || Number.isNaN(time)) report(`points[${i}].createdAt`, ISO_TIME_EXPECTED);
    else times[i] = time;
    if (managed === true) managedIndices[managedCount++] = i;
    else if (managed !== false) report(`points[${i}].managed`, expectedBoolean(managed));
    if (typeof verified !== 'boolean') report(`points[${i}].verified`, expectedBoolean(verified));
  }
  if (found > MAX_POINT_PROBLEMS) {
    problems.push({ path: 'points', message: `${found - MAX_POINT_PROBLEMS} more problems not listed` });
  }
  return { times, managed: managedIndices.subarray(0, managedCount) };
}

function parseTime(value: unknown): number | undefined {
  return typeof value === 'string' ? parseIsoTime(value) : undefined;
}

function expectedBoolean(value: unknown): string {
  const received =
    value === undefined ? 'nothing (the field is missing)' : value === null ? 'null' : typeof value;
  return `expected boolean, received ${received}`;
}
