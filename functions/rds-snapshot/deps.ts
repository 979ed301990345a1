/** What the rds-snapshot actions work with, passed in so tests can substitute any part. */
import type { RDSClient } from '@aws-sdk/client-rds';
import { metrics } from '#common/runtime/observability';

export interface QuotaSettings {
  /** Manual snapshots allowed per region and kind (config `quotas.manualSnapshots`). */
  readonly manualSnapshots: number;
  /** Warn at or above this percentage (config `quotas.snapshotWarnPercent`). */
  readonly warnPercent: number;
  /** Cross-region copies in progress per destination region (config `quotas.maxConcurrentCopies`). */
  readonly maxConcurrentCopies: number;
}

export interface SnapshotDeps {
  /** RDS in the stack's region. */
  readonly rds: RDSClient;
  /** RDS in another region (the DR copies). */
  readonly rdsIn: (region: string) => RDSClient;
  /** The stack's region. */
  readonly region: string;
  /** Stack name for the `caretaker:stack` tag. */
  readonly stack: string;
  readonly quota: QuotaSettings;
  /** Who manages a KMS key (`AWS` for aws/rds, `CUSTOMER`), or undefined when it cannot be told. */
  readonly keyManager: (keyId: string) => Promise<string | undefined>;
}

/** Publishes `ManualSnapshotCount` (namespace Caretaker) with a `region` dimension. */
export function publishSnapshotCount(region: string, type: 'instance' | 'cluster', count: number): void {
  const single = metrics.singleMetric();
  single.addDimensions({ region, snapshotType: type });
  single.addMetric('ManualSnapshotCount', 'Count', count);
}
