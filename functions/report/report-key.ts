import type { RunRecord } from './run-record.ts';

/**
 * Where a run's report goes, without extension: `reports/<flow>/<yyyy-mm-dd>/<run>`. The run is
 * the execution name (the last part of its ARN or id), else the start time, so a retried report
 * step writes the same keys.
 */
export function reportKey(record: RunRecord): string {
  const day = record.startedAt.slice(0, 10);
  const execution = record.executionArn ?? record.executionId;
  const run = execution
    ? (execution.split(':').pop() ?? execution)
    : record.startedAt.replace(/[-:]/g, '').replace(/\.\d+/, '');
  return `reports/${record.flow}/${day}/${run.replace(/[^\w.-]/g, '_')}`;
}
