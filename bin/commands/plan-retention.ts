/**
 * `caretaker plan-retention`: the retention dry-run. Reads recovery points and a policy from JSON
 * files and prints, for every point, whether the policy keeps or deletes it and why. Deletes
 * nothing and calls no AWS API.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type * as z from 'zod';
import { planRetention, type RetentionDecision, recoveryPointsSchema } from '#common/retention/retention';
import { retentionPolicySchema } from '#common/retention/retention-policy';
import { type FieldProblem, ValidationError } from '#common/runtime/errors';
import { toFieldProblems } from '#common/runtime/validation';
import { parseIsoTime } from '#common/time/iso-time';

const USAGE = `Usage: caretaker plan-retention --points <file.json> --policy <file.json> [--now <ISO time>] [--json]

Prints which recovery points a retention policy keeps or deletes, and why. Deletes nothing.

  --points <file>   JSON array of { "id", "createdAt" (ISO 8601 with Z or offset), "managed", "verified" }
  --policy <file>   JSON retention policy (keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly,
                    keepYearly, keepWithin, timeZone, minKeep, minAge) — see docs/retention.md
  --now <time>      plan as of this ISO 8601 time (default: the current time)
  --json            print a JSON array of decisions { id, action, reasons } instead of a table

Exit codes: 0 planned, 2 bad arguments or input (nothing is printed on stdout).`;

/** Bad input: reported on stderr with exit code 2. */
class InputError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('; '));
    this.problems = problems;
  }
}

export async function run(args: string[]): Promise<number> {
  try {
    const options = parseOptions(args);
    if (options === 'help') {
      console.log(USAGE);
      return 0;
    }
    const [pointsJson, policyJson] = await Promise.all([
      readJson(options.points, '--points'),
      readJson(options.policy, '--policy'),
    ]);
    const points = recoveryPointsSchema.safeParse(pointsJson, { reportInput: true });
    const policy = retentionPolicySchema.safeParse(policyJson, { reportInput: true });
    const now = options.now === undefined ? Date.now() : parseIsoTime(options.now);
    const problems = [...problemsOf(points, 'points'), ...problemsOf(policy, 'policy')];
    if (now === undefined) problems.push('--now: expected an ISO 8601 time, such as 2026-03-29T12:00:00Z');
    if (!points.success || !policy.success || now === undefined) throw new InputError(problems);

    const decisions = planRetention(points.data, policy.data, { now: new Date(now) });
    const output = options.json ? renderJson(decisions) : renderTable(decisions, points.data);
    process.stdout.write(`${output}\n`);
    return 0;
  } catch (error) {
    if (error instanceof InputError) return reportInputProblems(error.problems);
    if (error instanceof ValidationError) {
      return reportInputProblems(error.problems.map((problem) => `${problem.path}: ${problem.message}`));
    }
    throw error;
  }
}

/** A million bad points help nobody: the first ones, then a count. */
const MAX_PROBLEMS_SHOWN = 20;

function reportInputProblems(problems: readonly string[]): number {
  if (problems.length === 1) console.error(`caretaker plan-retention: ${problems[0]}`);
  else {
    console.error('caretaker plan-retention: invalid input:');
    for (const problem of problems.slice(0, MAX_PROBLEMS_SHOWN)) console.error(`  ${problem}`);
    if (problems.length > MAX_PROBLEMS_SHOWN) {
      console.error(`  … and ${problems.length - MAX_PROBLEMS_SHOWN} more problems`);
    }
  }
  return 2;
}

interface Options {
  readonly points: string;
  readonly policy: string;
  readonly now: string | undefined;
  readonly json: boolean;
}

function parseOptions(args: string[]): Options | 'help' {
  let values: { points?: string; policy?: string; now?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        points: { type: 'string' },
        policy: { type: 'string' },
        now: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new InputError([`${(error as Error).message}\n\n${USAGE}`]);
  }
  if (values.help) return 'help';
  const missing = (['points', 'policy'] as const).filter((name) => values[name] === undefined);
  if (missing.length > 0) {
    throw new InputError([
      `missing ${missing.map((name) => `--${name} <file.json>`).join(' and ')}\n\n${USAGE}`,
    ]);
  }
  return { points: values.points!, policy: values.policy!, now: values.now, json: values.json ?? false };
}

async function readJson(file: string, option: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new InputError([`${option} ${file}: cannot read the file (${why})`]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError([`${option} ${file}: not valid JSON (${(error as Error).message})`]);
  }
}

/** The problems of a parse, each located under `field` (`points[3].createdAt`). */
function problemsOf(result: z.ZodSafeParseResult<unknown>, field: string): string[] {
  if (result.success) return [];
  return toFieldProblems(result.error.issues).map(({ path, message }: FieldProblem) => {
    const located = path === '(root)' ? field : path.startsWith('[') ? `${field}${path}` : `${field}.${path}`;
    return `${located}: ${message}`;
  });
}

function renderJson(decisions: readonly RetentionDecision[]): string {
  if (decisions.length === 0) return '[]';
  return `[\n${decisions.map((decision) => `  ${JSON.stringify(decision)}`).join(',\n')}\n]`;
}

function renderTable(
  decisions: readonly RetentionDecision[],
  points: readonly { readonly createdAt: string }[],
): string {
  const header = ['ID', 'CREATED AT', 'ACTION', 'REASONS'] as const;
  const rows = decisions.map((decision, i) => [
    decision.id,
    points[i]!.createdAt,
    decision.action === 'keep' ? 'KEEP' : 'DELETE',
    decision.reasons.join('; '),
  ]);
  const widths = [0, 1, 2].map((column) =>
    rows.reduce((widest, row) => Math.max(widest, row[column]!.length), header[column]!.length),
  );
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column < 3 ? cell.padEnd(widths[column]!) : cell)).join('  ');
  const kept = decisions.filter((decision) => decision.action === 'keep').length;
  return [line(header), ...rows.map(line), '', `${kept} kept, ${decisions.length - kept} deleted`].join('\n');
}
