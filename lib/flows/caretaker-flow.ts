import { readFileSync } from 'node:fs';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Alert } from '../../functions/common/alerts/alert-schema.ts';
import type { CaretakerFunction } from '../functions/caretaker-function.ts';
import type { AlarmNotifications } from '../observability/alarm-notifications.ts';
import { stackArn } from '../security/arns.ts';
import { acknowledgeGeneratedStatements, acknowledgeGrant, allow } from '../security/nag.ts';
import { type AslMachine, statesOf } from './asl.ts';

/** Whether an ASL document has a Map state in DISTRIBUTED mode anywhere (nested ones included). */
export function hasDistributedMap(definition: string): boolean {
  return statesOf(JSON.parse(definition) as AslMachine).some(({ state }) => {
    const processor = (state.ItemProcessor ?? state.Iterator) as
      | { ProcessorConfig?: { Mode?: string } }
      | undefined;
    return state.Type === 'Map' && processor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
  });
}

/** The `${Name}` placeholders in an ASL document, each once. */
export function placeholdersOf(definition: string): string[] {
  return [...new Set([...definition.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((match) => match[1]!))].sort();
}

export interface CaretakerFlowProps {
  /** The flow's name, e.g. `Backup`; the state machine is `Caretaker-<environment>-<name>`. */
  readonly name: Alert['flow'];
  readonly environmentName: string;
  /** Path of the ASL file, relative to the repository root. */
  readonly definitionFile: string;
  /**
   * The flow's Task targets, by the placeholder that names each in the file: a function (the flow
   * may invoke it) or another flow (it may run it as a nested execution, `.sync` included). The
   * placeholder is filled with the target's ARN, and the grant follows from the same entry.
   */
  readonly tasks: Readonly<Record<string, CaretakerFunction | CaretakerFlow>>;
  /**
   * Other placeholders (bucket names, limits), filled as given.
   * @default - none
   */
  readonly values?: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  readonly logKey: kms.IKey;
  /** Routes the flow's alarms (timed out, aborted) to notify. */
  readonly notifications: AlarmNotifications;
  /** Severity of the flow's alarms. */
  readonly alarmSeverity: Alert['severity'];
  /**
   * @default Duration.hours(12)
   */
  readonly timeout?: Duration;
  /**
   * For flows whose Distributed Map reads items from S3 (ItemReader) or writes its results there
   * (ResultWriter): that bucket and prefix. Starting the Map's child executions is granted to
   * every flow whose file has a Distributed Map, with or without a bucket.
   * @default - no S3 items or results
   */
  readonly distributedMapBucket?: { readonly bucket: s3.IBucket; readonly prefix: string };
}

/**
 * A Caretaker flow: one ASL file from statemachines/ with its placeholders filled, a Standard
 * state machine that logs everything (level ALL, with execution data) to an encrypted log group
 * and traces with X-Ray, permission to invoke exactly its functions, and alarms on timed-out and
 * aborted executions routed through notify.
 *
 * There is no alarm on failed executions: every flow reports its own failures through `report`
 * (one alert per incident, DESIGN §6), so such an alarm would announce each failure a second time.
 * A timed-out or aborted execution cannot report, so those alarms stay.
 */
export class CaretakerFlow extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly stateMachineName: string;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CaretakerFlowProps) {
    super(scope, id);
    const definition = readFileSync(new URL(`../../${props.definitionFile}`, import.meta.url), 'utf8');
    const substitutions: Record<string, string> = {
      ...Object.fromEntries(
        Object.entries(props.tasks).map(([placeholder, target]) => [
          placeholder,
          target instanceof CaretakerFlow ? target.stateMachine.stateMachineArn : target.fn.functionArn,
        ]),
      ),
      ...props.values,
    };
    const twice = Object.keys(props.values ?? {}).filter((name) => name in props.tasks);
    if (twice.length > 0) {
      throw new Error(`${props.definitionFile}: ${twice.join(', ')} given both as a task and as a value`);
    }
    const needed = placeholdersOf(definition);
    const given = Object.keys(substitutions).sort();
    const missing = needed.filter((name) => !given.includes(name));
    const unused = given.filter((name) => !needed.includes(name));
    if (missing.length > 0 || unused.length > 0) {
      throw new Error(
        `${props.definitionFile}: ${missing.length ? `no substitution for ${missing.map((m) => `\${${m}}`).join(', ')}` : ''}${missing.length && unused.length ? '; ' : ''}${unused.length ? `substitutions not used by the file: ${unused.join(', ')}` : ''}`,
      );
    }

    this.stateMachineName = `Caretaker-${props.environmentName}-${props.name}`;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${this.stateMachineName}`,
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: this.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      timeout: props.timeout ?? Duration.hours(12),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    const role = this.stateMachine.role;

    // DefinitionBody.fromString derives no permissions: grant each Task target explicitly.
    for (const target of new Set(Object.values(props.tasks))) {
      if (target instanceof CaretakerFlow) this.grantNestedExecutions(target);
      else {
        acknowledgeGrant(
          role,
          target.fn.grantInvoke(role),
          'The flow invokes this one function; CDK grants its versions and aliases (:*) together with it.',
        );
      }
    }

    if (props.distributedMapBucket || hasDistributedMap(definition)) this.grantChildExecutions();
    if (props.distributedMapBucket) {
      const { bucket, prefix } = props.distributedMapBucket;
      allow(
        role,
        new iam.PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject'],
          resources: [bucket.arnForObjects(`${prefix}*`)],
        }),
        `The Distributed Map reads its item batches and writes its results under ${prefix} only; keys are made per execution.`,
      );
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
        }),
      );
      bucket.encryptionKey?.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
    }

    // Logging and tracing add X-Ray and CloudWatch Logs delivery statements on "*".
    acknowledgeGeneratedStatements(role, (actions) =>
      actions.every((action) => action.startsWith('xray:') || action.startsWith('logs:'))
        ? 'X-Ray PutTraceSegments and the CloudWatch Logs delivery actions (CreateLogDelivery, …) for Step Functions logging do not support resource-level permissions.'
        : undefined,
    );

    this.alarms(props);
  }

  /**
   * A Distributed Map starts child executions of its own state machine, follows and stops them.
   * The ARN is built from the fixed name, because referencing the resource in its own role would
   * be a cycle.
   */
  private grantChildExecutions(): void {
    const role = this.stateMachine.role;
    const selfArn = stackArn('states', `stateMachine:${this.stateMachineName}`);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [selfArn] }),
    );
    allow(
      role,
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [stackArn('states', `execution:${this.stateMachineName}/*`)],
      }),
      'Child executions of the Distributed Map have generated names under this state machine only.',
    );
  }

  /**
   * Runs `child` as a nested execution (`states:startExecution`, `.sync` and `.sync:2`): start it,
   * follow and stop its executions, and the managed EventBridge rule through which Step Functions
   * learns that a `.sync` child ended.
   */
  private grantNestedExecutions(child: CaretakerFlow): void {
    const role = this.stateMachine.role;
    child.stateMachine.grantStartExecution(role);
    // The executions' ARN from the child's fixed name (as for a Distributed Map): CDK's
    // grantExecution splits it out of the state machine's ARN, which cdk-nag renders as a finding
    // id no acknowledgement can name.
    allow(
      role,
      new iam.PolicyStatement({
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        resources: [stackArn('states', `execution:${child.stateMachineName}:*`)],
      }),
      `Executions of ${child.stateMachineName} have generated names; the flow follows and stops only the ones it started.`,
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [stackArn('events', 'rule/StepFunctionsGetEventsForStepFunctionsExecutionRule')],
      }),
    );
  }

  private alarms(props: CaretakerFlowProps): void {
    const period = { period: Duration.minutes(5), statistic: 'Sum' };
    const outcomes: [string, cloudwatch.Metric, string][] = [
      ['timed-out', this.stateMachine.metricTimedOut(period), 'timed out'],
      ['aborted', this.stateMachine.metricAborted(period), 'was aborted'],
    ];
    for (const [key, metric, what] of outcomes) {
      const alarm = new cloudwatch.Alarm(this, `${key}Alarm`, {
        alarmDescription: `An execution of ${this.stateMachineName} ${what}.`,
        metric,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      props.notifications.route(alarm, {
        severity: props.alarmSeverity,
        flow: props.name,
        summary: `A ${props.name} execution ${what}`,
        where: `state machine ${this.stateMachineName}`,
        action: `Open the Step Functions console and find the execution that ${what}: it could not report, so its history is the record. Start the flow again once the cause is clear; everything it does is idempotent per execution.`,
      });
    }
  }
}
