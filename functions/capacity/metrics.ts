/** Publishing the capacity metrics (one point per target and figure), through Powertools. */
import type { CapacityResult } from '#common/maintenance/maintenance-results';
import { metrics } from '#common/runtime/observability';
import { CAPACITY_METRIC } from './metric-names.ts';

export function publishCapacity(result: CapacityResult): void {
  for (const target of result.targets) {
    const add = (name: string, unit: 'Count' | 'Bytes', value: number | null | undefined) => {
      if (value === null || value === undefined || !Number.isFinite(value)) return;
      const single = metrics.singleMetric();
      single.addDimensions({ target: target.target });
      single.addMetric(name, unit, value);
    };
    add(CAPACITY_METRIC.daysUntilFull, 'Count', target.daysUntilFull);
    add(CAPACITY_METRIC.growthBytesPerDay, 'Bytes', target.growthBytesPerDay);
  }
}
