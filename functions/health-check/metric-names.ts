/**
 * Names health-check publishes its metrics and checks under. Pure constants, shared with the
 * stack, which builds alarms and dashboards on exactly these names.
 */

export const METRIC = {
  /** Per check (`check`, `kind`): 1 pass, 0.5 warn, 0 fail. */
  checkStatus: 'CheckStatus',
  /** Per HTTP check: p95 latency of the samples that got a response. */
  latencyP95: 'LatencyP95',
  /** Per HTTP check: percentage of failed samples. */
  errorRate: 'ErrorRate',
  /** Per TLS check: days until the certificate expires. */
  certDaysLeft: 'CertDaysLeft',
  /** Per freshness check: age of the newest verified recovery point. */
  backupAgeSeconds: 'BackupAgeSeconds',
  /** Per log analysis check: errors as a percentage of the window's events. */
  logErrorRate: 'LogErrorRate',
  /** Per log analysis check: error events in the window. */
  logErrors: 'LogErrors',
  /** Per run: 1 when healthy, else 0. */
  healthy: 'Healthy',
  /** Per run: 1 when unhealthy, else 0 (the critical condition). */
  unhealthy: 'Unhealthy',
} as const;

/** Check names for freshness, distinct from the configured check names' namespace. */
export const freshnessCheckName = {
  backupSet: (name: string) => `backup-set:${name}`,
  rdsTarget: (name: string) => `rds-target:${name}`,
};
