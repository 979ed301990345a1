/**
 * The contract between the stack (lib/) and the functions (functions/): the names both sides must
 * spell the same, defined once here and imported by both, so a rename breaks at compile time
 * instead of at run time. Pure constants.
 *
 * - {@link ENV}: environment variables the stack sets and the functions read.
 * - {@link TAG}: tag keys (caretaker-tags.ts re-exports them with the helpers that use them).
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
  /** `arn:…:stateMachine:`: with a name from STATE_MACHINE_NAMES, a flow task-statistics reads. */
  stateMachineArnPrefix: 'STATE_MACHINE_ARN_PREFIX',
  /** The flows' state machine names by flow, as JSON (task-statistics). */
  stateMachineNames: 'STATE_MACHINE_NAMES',
  /** The escalation levels' response times, as JSON (escalation). */
  escalationLevels: 'ESCALATION_LEVELS',
  /** Powertools' service name (the `service` of every log line and metric). */
  powertoolsServiceName: 'POWERTOOLS_SERVICE_NAME',
  /** Powertools' metrics namespace. */
  powertoolsMetricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Node's options (source maps in stack traces). */
  nodeOptions: 'NODE_OPTIONS',
} as const;

/** A variable the stack sets. */
export type EnvName = (typeof ENV)[keyof typeof ENV];

/**
 * Variables the functions read with a default and the stack does not set: an operator may set
 * them on the function (tuning: docs/backup-scaling.md; older keys after moving to a new stack
 * key: docs/backup-format.md).
 */
export const OPERATOR_ENV = {
  /** Comma-separated key ARNs older backups were sealed or encrypted under. */
  backupTrustedKeyArns: 'BACKUP_TRUSTED_KEY_ARNS',
  backupConcurrency: 'BACKUP_CONCURRENCY',
  backupMemoryMb: 'BACKUP_MEMORY_MB',
  backupPartSizeMb: 'BACKUP_PART_SIZE_MB',
  backupQueueSize: 'BACKUP_QUEUE_SIZE',
  backupFrameKb: 'BACKUP_FRAME_KB',
  backupDataKeyMaxAgeS: 'BACKUP_DATA_KEY_MAX_AGE_S',
  backupDataKeyMaxObjects: 'BACKUP_DATA_KEY_MAX_OBJECTS',
  backupDataKeyMaxGib: 'BACKUP_DATA_KEY_MAX_GIB',
  backupPackObjectKb: 'BACKUP_PACK_OBJECT_KB',
  backupPackMb: 'BACKUP_PACK_MB',
  backupBatchObjects: 'BACKUP_BATCH_OBJECTS',
  backupSafetyMarginMs: 'BACKUP_SAFETY_MARGIN_MS',
  backupThroughputMbps: 'BACKUP_THROUGHPUT_MBPS',
  cleanupSafetyMarginMs: 'CLEANUP_SAFETY_MARGIN_MS',
} as const;

/** Variables the Lambda runtime sets. */
export const LAMBDA_ENV = {
  region: 'AWS_REGION',
  functionMemorySize: 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  runtimeApi: 'AWS_LAMBDA_RUNTIME_API',
} as const;

/** Any environment variable a Caretaker function reads. */
export type EnvVariable =
  | EnvName
  | (typeof OPERATOR_ENV)[keyof typeof OPERATOR_ENV]
  | (typeof LAMBDA_ENV)[keyof typeof LAMBDA_ENV];

/**
 * Tag keys Caretaker reads and writes (caretaker-tags.ts has the helpers that use them).
 *
 * Every resource Caretaker creates carries `managed` (value {@link MANAGED_VALUE}), `stack`,
 * `execution`, `kind` and `target`; nothing without `managed` is ever modified or deleted.
 */
export const TAG = {
  managed: 'caretaker:managed',
  kind: 'caretaker:kind',
  target: 'caretaker:target',
  /** On a snapshot a DisasterRecovery drill restored and verified: when. */
  drillVerified: 'caretaker:drill-verified',
  stack: 'caretaker:stack',
  execution: 'caretaker:execution',
  /** On a report or incident-state object: its flow. */
  flow: 'caretaker:flow',
  /** On a restored instance or cluster: the snapshot it was restored from. */
  restoredFrom: 'caretaker:restored-from',
  /** On a restored instance or cluster that a switch-over made the production database. */
  promotedAt: 'caretaker:promoted-at',
  /** On a restored instance or cluster: turn deletion protection on when it is promoted. */
  protectOnPromote: 'caretaker:protect-on-promote',
  /** On a cross-region copy: the region of the snapshot it was copied from. */
  copiedFrom: 'caretaker:copied-from',
  /** On an original a switch-over parked as `<id>-old-<time>`: the execution that parked it. */
  parkedBy: 'caretaker:parked-by',
  /** On a parked original: when the switch-over parked it. */
  parkedAt: 'caretaker:parked-at',
  /** On a deployed Lambda function: which Caretaker function it is (its folder under functions/). */
  function: 'caretaker:function',
  /** Switch-over journal, on the copy: the identifier it switches over to. */
  switchSource: 'caretaker:switch-source',
  /** Switch-over journal, on the copy: where the original is (or will be) parked. */
  switchParking: 'caretaker:switch-parking',
  /** Switch-over journal, on the original: the copy that takes its name. */
  switchCopy: 'caretaker:switch-copy',
  /**
   * On a copy that was about to take (and may have held) the production name: writes may have
   * reached it, so it is never deleted without a final snapshot. Never removed.
   */
  tookSourceName: 'caretaker:took-source-name',
  /** On a snapshot: the source's settings (parameter group, subnet group, …) it was taken with. */
  settings: 'caretaker:settings',
  /** On an object a restore wrote: the restore that wrote it (its rollback may only undo those). */
  restore: 'caretaker:restore',
} as const;

/** Every Caretaker tag key starts with this; keys with it are never copied from a source. */
export const TAG_PREFIX = 'caretaker:';

/** The value of {@link TAG}.managed on everything Caretaker creates. */
export const MANAGED_VALUE = 'true';

/** The encryption-context key naming what a seal is for (the key policy's conditions read it). */
export const PURPOSE_KEY = 'caretaker:purpose';

/** What each kind of seal is for, as written under {@link PURPOSE_KEY}. */
export const SEAL_PURPOSES = {
  manifest: 'manifest-seal',
  verification: 'verification-record',
  catalogHead: 'catalog-head',
} as const;

/** Tags (the managed tag and the others) as an S3 `Tagging` header value (URL query encoding). */
export function s3Tagging(tags: Readonly<Record<string, string>>): string {
  return new URLSearchParams(Object.entries(tags)).toString();
}
