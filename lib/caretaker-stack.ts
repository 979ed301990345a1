import { Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { TAG } from '../functions/common/contract.ts';
import { Caretaker, MANAGED_TAG } from './caretaker.ts';
import type { CaretakerConfig } from './config/schema.ts';

export { MANAGED_TAG };

export interface CaretakerStackProps extends StackProps {
  /** The validated config for this environment. */
  readonly config: CaretakerConfig;
}

/**
 * One Caretaker deployment for one environment, as this repository's app deploys it: a stack
 * holding the {@link Caretaker} construct, tagged as a whole. The construct's id is `Default`, which
 * CDK leaves out of logical ids, so the template's ids are those of the stack before the construct.
 * Its parts are also fields of the stack, as they were.
 */
export class CaretakerStack extends Stack {
  /** Everything Caretaker creates in this stack. */
  public readonly caretaker: Caretaker;
  public readonly key: Caretaker['key'];
  public readonly storage: Caretaker['storage'];
  public readonly alerts: Caretaker['alerts'];
  public readonly deadLetters: Caretaker['deadLetters'];
  public readonly notifyFunction: Caretaker['notifyFunction'];
  public readonly alarmNotifications: Caretaker['alarmNotifications'];
  public readonly healthCheck: Caretaker['healthCheck'];
  public readonly healthAlarms: Caretaker['healthAlarms'];
  public readonly report: Caretaker['report'];
  public readonly dashboard: Caretaker['dashboard'];
  public readonly flowInput: Caretaker['flowInput'];
  public readonly rds: Caretaker['rds'];
  public readonly cleanup: Caretaker['cleanup'];
  public readonly cleanupFlow: Caretaker['cleanupFlow'];
  public readonly backups: Caretaker['backups'];
  public readonly backupFlow: Caretaker['backupFlow'];
  public readonly updateFlow: Caretaker['updateFlow'];
  public readonly disasterRecoveryFlow: Caretaker['disasterRecoveryFlow'];
  public readonly routineMaintenanceFlow: Caretaker['routineMaintenanceFlow'];
  public readonly maintenance: Caretaker['maintenance'];
  public readonly escalation?: Caretaker['escalation'];

  constructor(scope: Construct, id: string, props: CaretakerStackProps) {
    super(scope, id, {
      description: `Caretaker maintenance and disaster-recovery automation (${props.config.environment.name})`,
      ...props,
    });
    // Stack tags: CloudFormation puts them on the stack and everything in it.
    Tags.of(this).add(MANAGED_TAG.key, MANAGED_TAG.value);
    Tags.of(this).add(TAG.stack, this.stackName);
    this.caretaker = new Caretaker(this, 'Default', { config: props.config });
    this.key = this.caretaker.key;
    this.storage = this.caretaker.storage;
    this.alerts = this.caretaker.alerts;
    this.deadLetters = this.caretaker.deadLetters;
    this.notifyFunction = this.caretaker.notifyFunction;
    this.alarmNotifications = this.caretaker.alarmNotifications;
    this.healthCheck = this.caretaker.healthCheck;
    this.healthAlarms = this.caretaker.healthAlarms;
    this.report = this.caretaker.report;
    this.dashboard = this.caretaker.dashboard;
    this.flowInput = this.caretaker.flowInput;
    this.rds = this.caretaker.rds;
    this.cleanup = this.caretaker.cleanup;
    this.cleanupFlow = this.caretaker.cleanupFlow;
    this.backups = this.caretaker.backups;
    this.backupFlow = this.caretaker.backupFlow;
    this.updateFlow = this.caretaker.updateFlow;
    this.disasterRecoveryFlow = this.caretaker.disasterRecoveryFlow;
    this.routineMaintenanceFlow = this.caretaker.routineMaintenanceFlow;
    this.maintenance = this.caretaker.maintenance;
    this.escalation = this.caretaker.escalation;
  }
}
