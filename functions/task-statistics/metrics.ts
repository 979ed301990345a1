/** Publishing the task statistics as metrics, one point per figure, through Powertools. */
import type { StatisticsResult } from '#common/maintenance/maintenance-results';
import { metrics } from '#common/runtime/observability';
import { STATISTICS_METRIC as M } from './metric-names.ts';

type Unit = 'Count' | 'Milliseconds';

function point(dimensions: Record<string, string>, name: string, unit: Unit, value: number | null): void {
  if (value === null || !Number.isFinite(value)) return;
  const single = metrics.singleMetric();
  single.addDimensions(dimensions);
  single.addMetric(name, unit, value);
}

export function publishStatistics(result: StatisticsResult): void {
  for (const flow of result.flows) {
    if (flow.error) continue;
    point(
      { flow: flow.flow },
      M.flowTaskFailures,
      'Count',
      flow.tasks.reduce((n, t) => n + t.failures, 0),
    );
    point(
      { flow: flow.flow },
      M.flowTaskRetries,
      'Count',
      flow.tasks.reduce((n, t) => n + t.retries, 0),
    );
    for (const task of flow.tasks) {
      const dimensions = { flow: flow.flow, task: task.task };
      point(dimensions, M.taskRuns, 'Count', task.runs);
      point(dimensions, M.taskFailures, 'Count', task.failures);
      point(dimensions, M.taskRetries, 'Count', task.retries);
      point(dimensions, M.taskMeanDuration, 'Milliseconds', task.meanMs);
      point(dimensions, M.taskMaxDuration, 'Milliseconds', task.maxMs);
    }
  }
}
