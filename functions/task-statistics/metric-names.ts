/**
 * Names the task-statistics function publishes its metrics under (namespace `Caretaker`,
 * dimensions `service`, `function: task-statistics`, `flow`, and `task` for per-task figures).
 * Pure constants, shared with the dashboard.
 */
export const STATISTICS_METRIC = {
  /** Per flow and task, over the window: runs, failed runs, retries; mean and longest duration. */
  taskRuns: 'TaskRuns',
  taskFailures: 'TaskFailures',
  taskRetries: 'TaskRetries',
  taskMeanDuration: 'TaskMeanDuration',
  taskMaxDuration: 'TaskMaxDuration',
  /** Per flow (all its tasks): failed runs and retries over the window. */
  flowTaskFailures: 'FlowTaskFailures',
  flowTaskRetries: 'FlowTaskRetries',
} as const;
