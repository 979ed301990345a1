/**
 * The Backup flow's input: a configured backup set by name, and what may vary per run. The plan
 * carries the set as configured, so the flow never backs up anything the config does not name.
 *
 * A parent flow (RoutineMaintenance) starts Backup as a nested execution with its own execution
 * id under {@link STARTED_BY_EXECUTION_ID}, as AWS documents for linking the two in the console;
 * the plan then says `nested: true` and the flow leaves reporting (and alerting) to its parent.
 */
import * as z from 'zod';
import { isBackupId } from '../backup/layout.ts';
import { backupSet } from '../config/config-sections.ts';
import { type FlowContext, oneOf } from './context.ts';

/** The input field naming the execution that started this one (AWS's name for the association). */
export const STARTED_BY_EXECUTION_ID = 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID';

const executionArn = z
  .string()
  .regex(
    /^arn:aws[\w-]*:states:[\w-]+:\d{12}:execution:[\w-]+:[\w.-]+$/,
    'expected a Step Functions execution ARN',
  );

const backupId = z.string().refine(isBackupId, 'expected a backup id (yyyyMMddTHHmmssZ-<8 hex>)');

export const backupFlowInput = (context: FlowContext) =>
  z
    .object({
      /** The backup set's name. */
      set: oneOf(
        context.backupSets.map((set) => set.name),
        'backup set',
      ),
      /** Start a new chain with a full backup, whatever the set's mode says. */
      forceFull: z.boolean().default(false),
      /** What to read back after the backup; default: the set's `verifySubset`. */
      verifySubset: backupSet.shape.verifySubset.unwrap().optional(),
      /** Continue or re-run this backup (after a failed run). */
      backupId: backupId.optional(),
      /** Make each call stop after this long (tests, slow sources). */
      timeBudgetMs: z.number().int().min(1).max(900_000).optional(),
      /** The parent execution, when another flow started this one (it reports the backup). */
      [STARTED_BY_EXECUTION_ID]: executionArn.optional(),
    })
    .strict()
    .transform(({ set: name, verifySubset, backupId, timeBudgetMs, forceFull, ...rest }) => {
      const startedBy = rest[STARTED_BY_EXECUTION_ID];
      const set = context.backupSets.find((candidate) => candidate.name === name)!;
      return {
        set: {
          name: set.name,
          sourceBucket: set.sourceBucket,
          prefix: set.prefix,
          mode: set.mode,
          fullEvery: set.fullEvery,
        },
        forceFull,
        verifySubset: verifySubset ?? set.verifySubset,
        backupId: backupId ?? null,
        timeBudgetMs: timeBudgetMs ?? null,
        nested: startedBy !== undefined,
        startedBy: startedBy ?? null,
      };
    });
