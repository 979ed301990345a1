/**
 * The RoutineMaintenance flow's input: `{}` from the nightly schedule (every configured backup set
 * and RDS target), or a subset by name for a run by hand. The plan names each backup set the flow
 * backs up (as a nested Backup execution) and each RDS target it snapshots, with its DR region when
 * the target copies across regions, and the poll schedules the flow walks while RDS works.
 */
import * as z from 'zod';
import { planWindow } from '../time/maintenance-window.ts';
import { type FlowContext, oneOf } from './context.ts';
import { pollSchedules } from './polling.ts';

/** A list of configured names, each at most once (a name twice would back up or snapshot twice). */
function names(configured: readonly string[], what: string) {
  return z.array(oneOf(configured, what)).superRefine((list, ctx) => {
    list.forEach((name, index) => {
      if (list.indexOf(name) !== index) {
        ctx.addIssue({ code: 'custom', path: [index], message: `${what} ${name} is named twice` });
      }
    });
  });
}

/**
 * `now` is when the plan is made (the run's start): the maintenance window's deadlines are
 * computed from it for a scheduled run.
 */
export const routineMaintenanceFlowInput = (context: FlowContext, now: () => Date = () => new Date()) =>
  z
    .object({
      /** Back up only these sets (`[]`: none); default every configured set. */
      backupSets: names(
        context.backupSets.map((set) => set.name),
        'backup set',
      ).optional(),
      /** Snapshot only these RDS targets (`[]`: none); default every configured target. */
      rdsTargets: names(
        context.rdsTargets.map((target) => target.name),
        'RDS target',
      ).optional(),
      /**
       * Set by the nightly schedule: keep to the maintenance window (no task starts that cannot
       * finish before it closes). A run by hand leaves it out and runs everything it names.
       */
      scheduled: z.boolean().default(false),
    })
    .strict()
    .transform(({ backupSets, rdsTargets, scheduled }) => {
      const sets = backupSets ?? context.backupSets.map((set) => set.name);
      const targets = rdsTargets ?? context.rdsTargets.map((target) => target.name);
      const { snapshot, snapshotCopy } = pollSchedules();
      return {
        backupSets: sets,
        rdsTargets: targets.map((name) => {
          const target = context.rdsTargets.find((candidate) => candidate.name === name)!;
          // null, not absent: the flow's Choice tests the field with IsString.
          return { name, copyRegion: target.crossRegionCopy?.region ?? null };
        }),
        poll: { snapshot, snapshotCopy },
        // The targets (of this run) whose databases are maintained: ANALYZE/VACUUM, bloat, long queries.
        databaseTargets: targets.filter((name) => (context.databaseMaintenance ?? []).includes(name)),
        window: planWindow(context.maintenanceWindow ?? null, now().getTime(), { enforce: scheduled }),
      };
    });
