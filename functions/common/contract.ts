/**
 * The contract between the stack (lib/) and the functions (functions/): the names both sides must
 * spell the same, defined once here and imported by both, so a rename breaks at compile time
 * instead of at run time. Pure constants.
 *
 * - {@link ENV}: environment variables the stack sets and the functions read.
 * - Tag keys: {@link TAG} (caretaker-tags.ts re-exports it with the helpers that use it).
 * - Error names: errors.ts (ERROR_KINDS), the names the flows Retry and Catch on.
 * - Event fields: the flows' inputs (flows/inputs.ts) and the run record (report/run-record.ts)
 *   are zod schemas, each the single definition of its shape.
 */

/** Environment variables of the Caretaker functions, by what they hold. */
export const ENV = {
  /** The alert topic's ARN (notify, report, escalation). */
  alertTopicArn: 'ALERT_TOPIC_ARN',
  /** The backup bucket's name (backups, manifests, reports, incident state). */
  backupBucket: 'BACKUP_BUCKET',
  /** The stack key's ARN: seals records and encrypts backups. */
  backupKeyArn: 'BACKUP_KEY_ARN',
  /** Comma-separated key ARNs older backups were sealed or encrypted under. */
  backupTrustedKeyArns: 'BACKUP_TRUSTED_KEY_ARNS',
  /** The stack key's ARN, for its rotation status (security maintenance). */
  stackKeyArn: 'STACK_KEY_ARN',
  /** `environment.name` of the config. */
  environmentName: 'CARETAKER_ENVIRONMENT',
  /** The stack's name, for the `caretaker:stack` tag. */
  stackName: 'CARETAKER_STACK',
  /** The configured backup sets, as JSON. */
  backupSets: 'BACKUP_SETS',
  /** The configured RDS targets, as JSON. */
  rdsTargets: 'RDS_TARGETS',
  /** The retention policies by name, as JSON. */
  retentionPolicies: 'RETENTION_POLICIES',
  /** health-check's check set (the health checks with the backup sets' and targets' RPOs), as JSON. */
  healthChecks: 'HEALTH_CHECKS',
  /** How query and database-maintenance connections use TLS: verify-full, require or disable. */
  databaseTls: 'DATABASE_TLS',
  /** Extra CA certificates Node trusts (the RDS bundle of the Lambda runtime). */
  nodeExtraCaCerts: 'NODE_EXTRA_CA_CERTS',
  /** Manual snapshots allowed per region. */
  snapshotQuota: 'SNAPSHOT_QUOTA',
  /** Warn when manual snapshots reach this percentage of the quota. */
  snapshotWarnPercent: 'SNAPSHOT_WARN_PERCENT',
  /** Concurrent cross-region snapshot copies allowed per destination region. */
  maxConcurrentCopies: 'MAX_CONCURRENT_COPIES',
  /** Lambda functions (unqualified ARNs) whose aliases Update may shift, as JSON. */
  lambdaFunctions: 'LAMBDA_FUNCTIONS',
  /** The `disasterRecovery` config section, as JSON. */
  disasterRecovery: 'DISASTER_RECOVERY',
  /** The maintenance window with its time zone resolved, as JSON (null: none). */
  maintenanceWindow: 'MAINTENANCE_WINDOW',
  /** RDS target names whose databases routine maintenance maintains, as JSON. */
  databaseMaintenanceTargets: 'DATABASE_MAINTENANCE_TARGETS',
  /** db-maintenance's resolved targets, as JSON. */
  databaseMaintenance: 'DATABASE_MAINTENANCE',
  /** The `capacity` config section, as JSON. */
  capacity: 'CAPACITY',
  /** The `securityMaintenance` config section, as JSON. */
  securityMaintenance: 'SECURITY_MAINTENANCE',
  /** `arn:…:stateMachine:Caretaker-<environment>-`: the flows task-statistics reads. */
  stateMachineArnPrefix: 'STATE_MACHINE_ARN_PREFIX',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
