import { CfnOutput, Duration, Stack, Tags } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, type EnvName, MANAGED_VALUE, TAG } from '../functions/common/contract.ts';
import { type FlowContext, flowContextEnvironment } from '../functions/common/flows/context.ts';
import { flowInputSchema } from '../functions/common/flows/inputs.ts';
import type { StateMachineFlow } from '../functions/common/flows/names.ts';
import { toFieldProblems } from '../functions/common/runtime/validation.ts';
import { AlertTopic } from './alerts/alert-topic.ts';
import { DeadLetters } from './alerts/dead-letters.ts';
import { Escalation } from './alerts/escalation.ts';
import { flowContextOf } from './config/flow-context.ts';
import { parseConfig } from './config/load.ts';
import type { CaretakerConfig, CaretakerConfigInput } from './config/schema.ts';
import { FEATURE_FLAGS } from './feature-flags.ts';
import { CaretakerFlow } from './flows/caretaker-flow.ts';
import { BackupFunctions } from './functions/backup-functions.ts';
import { CaretakerFunction, type CaretakerFunctionProps } from './functions/caretaker-function.ts';
import { CleanupFunction } from './functions/cleanup-function.ts';
import { HealthCheckFunction } from './functions/health-check-function.ts';
import { MaintenanceFunctions } from './functions/maintenance-functions.ts';
import { RdsFunctions } from './functions/rds-functions.ts';
import { ReportFunction } from './functions/report-function.ts';
import { type AlarmAlert, AlarmNotifications } from './observability/alarm-notifications.ts';
import { AnomalyAlarms } from './observability/anomaly-alarms.ts';
import { CaretakerDashboard } from './observability/dashboard.ts';
import { functionErrorsAlarm } from './observability/function-alarms.ts';
import { HealthAlarms, watchedChecks } from './observability/health-alarms.ts';
import { FlowSchedule } from './schedules/flow-schedule.ts';
import { StackKey } from './security/stack-key.ts';
import { BackupStorage } from './storage/backup-storage.ts';

export interface CaretakerProps {
  /**
   * What to look after and how: a config as written in JSON (defaults are applied) or one already
   * validated. It is validated here, before anything is created: a bad config throws ConfigError
   * listing every problem with its path (`backupSets[2].prefix: …`), as `cdk synth` does.
   * docs/config-reference.md describes every field.
   */
  readonly config: CaretakerConfigInput | CaretakerConfig;
  /**
   * Where the config came from, for the first line of a ConfigError.
   * @default 'the Caretaker config'
   */
  readonly configSource?: string;
}

/** Tags on everything Caretaker creates (DESIGN §4). */
export const MANAGED_TAG = { key: TAG.managed, value: MANAGED_VALUE } as const;

/**
 * Caretaker for one environment, inside any CDK stack: key, backup storage, alert topic,
 * functions, flows, schedules, alarms, dashboard and outputs. Each concern is its own construct;
 * this class only wires them. The functions are bundled by esbuild at synth from the package's
 * TypeScript sources (no Docker).
 *
 * ```ts
 * new Caretaker(stack, 'Caretaker', { config: { environment: { name: 'prod' } } });
 * ```
 */
export class Caretaker extends Construct {
  /** The validated config, with every default applied. */
  public readonly config: CaretakerConfig;
  /** The KMS key that encrypts backups, logs, the topic and the queues. */
  public readonly key: StackKey;
  /** The backup bucket (backups, manifests, reports) and its access-log bucket. */
  public readonly storage: BackupStorage;
  /** The alert topic every alert goes out through. */
  public readonly alerts: AlertTopic;
  /** The dead-letter queue of schedules and alarm deliveries, with its alarm. */
  public readonly deadLetters: DeadLetters;
  /** The notify function: publishes one alert (used by alarms). */
  public readonly notifyFunction: CaretakerFunction;
  /** Routes alarms to notify, which alerts once when one starts and once when it clears. */
  public readonly alarmNotifications: AlarmNotifications;
  /** The health-check function (scheduled every few minutes, and used by the flows). */
  public readonly healthCheck: HealthCheckFunction;
  /** Alarms on the health checks and backup freshness. */
  public readonly healthAlarms: HealthAlarms;
  /** The report function: writes each run's report and publishes its one alert. */
  public readonly report: ReportFunction;
  /** The CloudWatch dashboard. */
  public readonly dashboard: CaretakerDashboard;
  /** The flow-input function: every flow's first state, checking its input against the config. */
  public readonly flowInput: CaretakerFunction;
  /** The config that flow inputs are checked against (at synth for schedules, by flow-input at run time). */
  private readonly flowContext: FlowContext;
  /** The RDS functions: snapshot, restore, switch-over, update. */
  public readonly rds: RdsFunctions;
  /** The cleanup (retention) function. */
  public readonly cleanup: CleanupFunction;
  /** The Cleanup flow (weekly). */
  public readonly cleanupFlow: CaretakerFlow;
  /** The S3 backup, verify and restore functions. */
  public readonly backups: BackupFunctions;
  /** The Backup flow (nested in RoutineMaintenance, or by hand). */
  public readonly backupFlow: CaretakerFlow;
  /** The Update flow (by hand). */
  public readonly updateFlow: CaretakerFlow;
  /** The DisasterRecovery flow (drill quarterly, failover by hand). */
  public readonly disasterRecoveryFlow: CaretakerFlow;
  /** The RoutineMaintenance flow (nightly). */
  public readonly routineMaintenanceFlow: CaretakerFlow;
  /** Capacity, security and database maintenance, task statistics (DESIGN §11). */
  public readonly maintenance: MaintenanceFunctions;
  /** Escalation levels and their schedule, when `alerts.escalation` is configured. */
  public readonly escalation?: Escalation;

  constructor(scope: Construct, id: string, props: CaretakerProps) {
    // Validated before anything is added to the tree.
    const config = parseConfig(props.config, props.configSource ?? 'the Caretaker config');
    super(scope, id);
    // The feature flags Caretaker's resources rely on hold for its own subtree, whatever the app
    // sets (a team's app may have none): context must be set before any child exists.
    for (const [flag, value] of Object.entries(FEATURE_FLAGS)) this.node.setContext(flag, value);
    this.config = config;
    this.flowContext = flowContextOf(config);
    const environmentName = config.environment.name;
    Tags.of(this).add(MANAGED_TAG.key, MANAGED_TAG.value);
    Tags.of(this).add(TAG.stack, Stack.of(this).stackName);

    this.key = new StackKey(this, 'Key', { environmentName });
    this.storage = new BackupStorage(this, 'Storage', {
      key: this.key.key,
      objectLock: config.backupBucket.objectLock,
      noncurrentVersionDays: config.backupBucket.noncurrentVersionDays,
      accessLogDays: config.backupBucket.accessLogDays,
      ...(config.backupBucket.breakGlassPrincipalArn
        ? { breakGlassPrincipalArn: config.backupBucket.breakGlassPrincipalArn }
        : {}),
    });
    this.alerts = new AlertTopic(this, 'Alerts', {
      environmentName,
      key: this.key.key,
      subscriptions: config.alerts.subscriptions,
    });
    this.deadLetters = new DeadLetters(this, 'DeadLetters', { key: this.key.key });

    const functionDefaults: Pick<CaretakerFunctionProps, 'environmentName' | 'logRetention' | 'logKey'> = {
      environmentName,
      logRetention: config.logRetentionDays as logs.RetentionDays,
      logKey: this.key.key,
    };
    this.notifyFunction = new CaretakerFunction(this, 'Notify', {
      ...functionDefaults,
      name: 'notify',
      description: 'Publishes Caretaker alerts to the alert topic with severity and flow attributes',
    }).bindTopic(ENV.alertTopicArn, this.alerts.topic);
    // notify cannot announce its own failure: this alarm goes straight to the topic.
    AlarmNotifications.direct(
      functionErrorsAlarm(this, 'NotifyErrorsAlarm', this.notifyFunction, 'notify'),
      this.alerts.topic,
    );

    this.alarmNotifications = new AlarmNotifications(this, 'AlarmNotifications', {
      notifyFunction: this.notifyFunction.fn,
      deadLetterQueue: this.deadLetters.queue,
    });
    this.alarmNotifications.route(this.deadLetters.alarm, {
      severity: 'critical',
      flow: 'RoutineMaintenance',
      summary: 'A scheduled run or an alarm alert could not be delivered',
      where: `SQS dead-letter queue ${this.deadLetters.queue.queueName}`,
      action:
        'Read the message in the dead-letter queue (it holds the event and the error), fix the cause, and start the missed run by hand.',
    });

    this.healthCheck = new HealthCheckFunction(this, 'HealthCheck', {
      ...functionDefaults,
      config,
      backupBucket: this.storage.bucket,
      key: this.key.key,
    });
    new FlowSchedule(this, 'HealthSchedule', {
      description: 'Caretaker health checks',
      ...this.scheduleOf(config, 'health'),
      target: { function: this.healthCheck.function.fn, input: {} },
      deadLetterQueue: this.deadLetters.queue,
      // A missed health run is superseded by the next one in minutes: do not retry for long.
      retryAttempts: 1,
      maxEventAge: Duration.minutes(5),
    });
    this.healthAlarms = new HealthAlarms(this, 'HealthAlarms', {
      config,
      notifications: this.alarmNotifications,
    });
    new AnomalyAlarms(this, 'AnomalyAlarms', { config, notifications: this.alarmNotifications });

    this.report = new ReportFunction(this, 'Report', {
      ...functionDefaults,
      backupBucket: this.storage.bucket,
      alertTopic: this.alerts.topic,
    });
    // The one function whose failure no flow can report: the run's own alert is what is missing.
    this.watchErrors(
      this.report.function,
      'report',
      'Report',
      'the run it was reporting on finished (or failed) but its report and its alert are missing: open the flow executions that ended meanwhile.',
      'critical',
    );

    if (config.alerts.escalation) {
      this.escalation = new Escalation(this, 'Escalation', {
        ...functionDefaults,
        escalation: config.alerts.escalation,
        timeZone: config.environment.timeZone,
        topic: this.alerts.topic,
        backupBucket: this.storage.bucket,
        deadLetterQueue: this.deadLetters.queue,
        notifications: this.alarmNotifications,
      });
    }

    this.flowInput = new CaretakerFunction(this, 'FlowInput', {
      ...functionDefaults,
      name: 'flow-input',
      description:
        "Checks a flow's input with its schema and returns the run's plan (the first state of every flow)",
    });
    // (Object.entries loses the key type: flowContextEnvironment's keys are FLOW_CONTEXT_ENV's names.)
    const flowEnvironment = Object.entries(flowContextEnvironment(this.flowContext)) as [EnvName, string][];
    for (const [variable, value] of flowEnvironment) {
      this.flowInput.bind(variable, value);
    }

    this.rds = new RdsFunctions(this, 'Rds', { ...functionDefaults, config });
    this.cleanup = new CleanupFunction(this, 'Cleanup', {
      ...functionDefaults,
      config,
      backupBucket: this.storage.bucket,
      key: this.key.key,
    });
    this.backups = new BackupFunctions(this, 'Backups', {
      ...functionDefaults,
      config,
      backupBucket: this.storage.bucket,
      key: this.key.key,
    });
    // No error alarms on the functions only flows invoke (s3-backup, backup-verify, backup-restore,
    // rds-snapshot, rds-restore, update, cleanup): the flow retries or catches their errors and its
    // report alerts once for the run (DESIGN §6).

    this.cleanupFlow = new CaretakerFlow(this, 'CleanupFlow', {
      name: 'Cleanup',
      environmentName,
      definitionFile: 'statemachines/cleanup.asl.json',
      tasks: {
        FlowInputFunctionArn: this.flowInput,
        CleanupFunctionArn: this.cleanup.function,
        ReportFunctionArn: this.report.function,
      },
      // Folders of backups emptied at once by the Distributed Map (statemachines/cleanup.asl.json).
      values: { CleanupMaxConcurrency: '10' },
      logRetention: functionDefaults.logRetention,
      logKey: this.key.key,
      notifications: this.alarmNotifications,
      alarmSeverity: 'warning',
      // Up to 200 backup folders a run, 10 at once, a remnant's objects each checked for the tag:
      // hours for folders of millions of objects, well inside the week to the next run.
      timeout: Duration.hours(12),
    });
    new FlowSchedule(this, 'CleanupSchedule', {
      description: 'Caretaker weekly retention cleanup',
      ...this.scheduleOf(config, 'cleanup'),
      target: {
        stateMachine: this.cleanupFlow.stateMachine,
        input: this.flowInputFor('Cleanup', { dryRun: false }),
      },
      deadLetterQueue: this.deadLetters.queue,
    });

    this.backupFlow = new CaretakerFlow(this, 'BackupFlow', {
      name: 'Backup',
      environmentName,
      definitionFile: 'statemachines/backup.asl.json',
      tasks: {
        FlowInputFunctionArn: this.flowInput,
        BackupFunctionArn: this.backups.backup,
        VerifyFunctionArn: this.backups.verify,
        ReportFunctionArn: this.report.function,
      },
      values: {
        BackupBucket: this.storage.bucket.bucketName,
        BackupMaxConcurrency: '10',
        BackupBatchesPerChild: '4',
        BackupInlineBatchLimit: '4',
      },
      logRetention: functionDefaults.logRetention,
      logKey: this.key.key,
      notifications: this.alarmNotifications,
      alarmSeverity: 'critical',
      timeout: Duration.hours(12),
      distributedMapBucket: { bucket: this.storage.bucket, prefix: 'backups/' },
    });
    this.maintenance = new MaintenanceFunctions(this, 'Maintenance', {
      ...functionDefaults,
      config,
      key: this.key.key,
    });
    this.routineMaintenanceFlow = new CaretakerFlow(this, 'RoutineMaintenanceFlow', {
      name: 'RoutineMaintenance',
      environmentName,
      definitionFile: 'statemachines/routine-maintenance.asl.json',
      tasks: {
        FlowInputFunctionArn: this.flowInput,
        HealthCheckFunctionArn: this.healthCheck.function,
        SnapshotFunctionArn: this.rds.snapshot,
        ReportFunctionArn: this.report.function,
        BackupStateMachineArn: this.backupFlow,
        CapacityFunctionArn: this.maintenance.capacity,
        SecurityMaintenanceFunctionArn: this.maintenance.securityMaintenance,
        DatabaseMaintenanceFunctionArn: this.maintenance.databaseMaintenance,
        TaskStatisticsFunctionArn: this.maintenance.taskStatistics,
      },
      logRetention: functionDefaults.logRetention,
      logKey: this.key.key,
      notifications: this.alarmNotifications,
      alarmSeverity: 'critical',
      // Longer than any branch can take (the snapshot and copy poll schedules add up to 20 h, a
      // nested Backup stops at its own 12 h), shorter than the day to the next scheduled run.
      timeout: Duration.hours(23),
    });
    // The only nightly schedule (DESIGN §1): health, every backup set and every RDS target.
    new FlowSchedule(this, 'RoutineMaintenanceSchedule', {
      description: 'Caretaker nightly routine maintenance (health, backups, snapshots, report)',
      ...this.scheduleOf(config, 'routineMaintenance'),
      target: {
        stateMachine: this.routineMaintenanceFlow.stateMachine,
        // Scheduled: keeps to the maintenance window (when one is configured).
        input: this.flowInputFor('RoutineMaintenance', { scheduled: true }),
      },
      deadLetterQueue: this.deadLetters.queue,
    });

    this.updateFlow = new CaretakerFlow(this, 'UpdateFlow', {
      name: 'Update',
      environmentName,
      definitionFile: 'statemachines/update.asl.json',
      tasks: {
        FlowInputFunctionArn: this.flowInput,
        HealthCheckFunctionArn: this.healthCheck.function,
        UpdateFunctionArn: this.rds.update,
        SnapshotFunctionArn: this.rds.snapshot,
        RestoreFunctionArn: this.rds.restore,
        SwitchOverFunctionArn: this.rds.switchOver,
        ReportFunctionArn: this.report.function,
      },
      logRetention: functionDefaults.logRetention,
      logKey: this.key.key,
      notifications: this.alarmNotifications,
      alarmSeverity: 'critical',
      // A snapshot, a modification, a restore and a switch-over of a large database each take hours.
      timeout: Duration.days(2),
    });

    this.disasterRecoveryFlow = new CaretakerFlow(this, 'DisasterRecoveryFlow', {
      name: 'DisasterRecovery',
      environmentName,
      definitionFile: 'statemachines/disaster-recovery.asl.json',
      tasks: {
        FlowInputFunctionArn: this.flowInput,
        RdsRestoreFunctionArn: this.rds.restore,
        SwitchOverFunctionArn: this.rds.switchOver,
        BackupRestoreFunctionArn: this.backups.restore,
        HealthCheckFunctionArn: this.healthCheck.function,
        ReportFunctionArn: this.report.function,
      },
      logRetention: functionDefaults.logRetention,
      logKey: this.key.key,
      notifications: this.alarmNotifications,
      alarmSeverity: 'critical',
      // Restores of large databases take hours; a rollback after them needs time too.
      timeout: Duration.hours(24),
    });
    if (config.rdsTargets.length > 0 || config.backupSets.length > 0) {
      new FlowSchedule(this, 'DisasterRecoveryDrillSchedule', {
        description: 'Caretaker quarterly disaster-recovery drill',
        ...this.scheduleOf(config, 'drDrill'),
        target: {
          stateMachine: this.disasterRecoveryFlow.stateMachine,
          input: this.flowInputFor('DisasterRecovery', { mode: 'drill' }),
        },
        deadLetterQueue: this.deadLetters.queue,
      });
    }

    this.dashboard = new CaretakerDashboard(this, 'Dashboard', {
      environmentName,
      checks: watchedChecks(config),
      flows: [
        { name: 'Backup', stateMachine: this.backupFlow.stateMachine },
        { name: 'Cleanup', stateMachine: this.cleanupFlow.stateMachine },
        { name: 'Update', stateMachine: this.updateFlow.stateMachine },
        { name: 'DisasterRecovery', stateMachine: this.disasterRecoveryFlow.stateMachine },
        { name: 'RoutineMaintenance', stateMachine: this.routineMaintenanceFlow.stateMachine },
      ],
      snapshotQuota: config.quotas.manualSnapshots,
      snapshotTypes: [...new Set(config.rdsTargets.map((target) => target.type))],
      capacityTargets: config.rdsTargets.map((target) => target.name),
      capacityThresholds: config.capacity,
    });

    const outputs: [string, string, string][] = [
      ['BackupBucketName', this.storage.bucket.bucketName, 'Backup bucket (backups, manifests, reports)'],
      ['KeyArn', this.key.key.keyArn, 'Caretaker KMS key'],
      ['AlertTopicArn', this.alerts.topic.topicArn, 'Alert topic'],
      ['NotifyFunctionName', this.notifyFunction.fn.functionName, 'notify function'],
      [
        'HealthCheckFunctionName',
        this.healthCheck.function.fn.functionName,
        'health-check function (invoke with {} or a checks override)',
      ],
      [
        'BackupStateMachineArn',
        this.backupFlow.stateMachine.stateMachineArn,
        'Backup flow: back up, verify and report one backup set',
      ],
      [
        'RoutineMaintenanceStateMachineArn',
        this.routineMaintenanceFlow.stateMachine.stateMachineArn,
        'RoutineMaintenance flow (nightly; start with {} for everything, or {"backupSets": [...], "rdsTargets": [...]})',
      ],
      [
        'CleanupStateMachineArn',
        this.cleanupFlow.stateMachine.stateMachineArn,
        'Cleanup flow (start with {"dryRun": true} to see what would go and why)',
      ],
      [
        'UpdateStateMachineArn',
        this.updateFlow.stateMachine.stateMachineArn,
        'Update flow: an RDS change or a Lambda alias canary, rolled back when health fails (docs/flows/update.md)',
      ],
      [
        'DisasterRecoveryStateMachineArn',
        this.disasterRecoveryFlow.stateMachine.stateMachineArn,
        'DisasterRecovery flow (drill quarterly; failover by hand with {"mode": "failover", ..., "confirm": "<environment>"})',
      ],
      [
        'RdsRestoreFunctionName',
        this.rds.restore.fn.functionName,
        'rds-restore function (finishing a DR rollback by hand: docs/flows/disaster-recovery.md)',
      ],
      [
        'RdsSwitchOverFunctionName',
        this.rds.switchOver.fn.functionName,
        'rds-switch-over function (undoing a switch-over by hand: docs/flows/disaster-recovery.md)',
      ],
      [
        'BackupRestoreFunctionName',
        this.backups.restore.fn.functionName,
        'backup-restore function (restores; removing restored objects by hand: docs/flows/disaster-recovery.md)',
      ],
      ['DashboardName', this.dashboard.dashboard.dashboardName, 'CloudWatch dashboard'],
    ];
    for (const [id, value, description] of outputs) new CfnOutput(this, id, { value, description });
  }

  /**
   * A schedule's input for `flow`, checked at synth with the schema the flow's first state uses, so
   * a scheduled run cannot fail on its own input.
   */
  private flowInputFor(flow: StateMachineFlow, input: Record<string, unknown>): Record<string, unknown> {
    const checked = flowInputSchema(flow, this.flowContext).safeParse(input);
    if (!checked.success) {
      const problems = toFieldProblems(checked.error.issues).map((p) => `${p.path}: ${p.message}`);
      throw new Error(`The scheduled input of ${flow} is invalid: ${problems.join('; ')}`);
    }
    return input;
  }

  /** A configured schedule, evaluated in the environment's time zone. */
  private scheduleOf(config: CaretakerConfig, name: keyof CaretakerConfig['schedules']) {
    const { expression, enabled, flexibleWindowMinutes } = config.schedules[name];
    return { expression, enabled, flexibleWindowMinutes, timeZone: config.environment.timeZone };
  }

  /** An alert, through notify, when `fn` fails (once when it starts, once when it clears). */
  private watchErrors(
    fn: CaretakerFunction,
    name: string,
    flow: AlarmAlert['flow'],
    consequence: string,
    severity: AlarmAlert['severity'],
  ): void {
    // Named after the function's path as CDK names logical ids (a `Default` id is hidden), so the
    // alarm kept its logical id when the stack's body became this construct.
    const path = fn.node.scopes.map((scope) => scope.node.id).filter((id) => id !== 'Default');
    this.alarmNotifications.route(
      functionErrorsAlarm(this, `${path.join('').replace(/\W/g, '')}ErrorsAlarm`, fn, name),
      {
        severity,
        flow,
        summary: `The ${name} function failed`,
        where: `Lambda function ${fn.fn.functionName}`,
        action: `Read the function's log group; ${consequence}`,
      },
    );
  }
}
