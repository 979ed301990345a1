/**
 * Names the capacity function publishes its metrics under (namespace `Caretaker`, dimensions
 * `service`, `function: capacity` and `target`). Pure constants, shared with the dashboard.
 */
export const CAPACITY_METRIC = {
  /** Per RDS target: days until storage is full at the fitted growth (none when not growing). */
  daysUntilFull: 'DaysUntilFull',
  /** Per RDS target: fitted growth of the used storage, bytes a day. */
  growthBytesPerDay: 'StorageGrowthBytesPerDay',
} as const;
