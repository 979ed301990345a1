/**
 * The IAM mappings of Lambda, Step Functions and Scheduler (sandbox/services/{lambda,states,
 * scheduler}/authorization.ts): qualified function ARNs, iam:PassRole, what nested executions and
 * schedules need from their roles.
 */
import { describe, expect, it } from 'vitest';
import type { AccessCheck } from '../../../sandbox/core/access/checks.ts';
import {
  functionTarget,
  invokeCheck,
  lambdaAccessChecks,
} from '../../../sandbox/services/lambda/authorization.ts';
import { deliveryChecks, schedulerAccessChecks } from '../../../sandbox/services/scheduler/authorization.ts';
import {
  statesAccessChecks,
  syncRuleChecks,
  usesSyncExecution,
} from '../../../sandbox/services/states/authorization.ts';
import { contractProblems } from './contract.ts';

const scope = { region: 'us-east-1', accountId: '000000000000' };
const FN = 'arn:aws:lambda:us-east-1:000000000000:function:cleanup';
const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:Cleanup';
const pairs = (list: readonly AccessCheck[]) =>
  list.flatMap((c) => c.resources.map((r) => `${c.action} ${r.arn}`));

describe('Lambda', () => {
  it('invokes on the qualified ARN when a qualifier is named, under the function resource policy', async () => {
    const check = invokeCheck(functionTarget('cleanup', 'live', scope));

    expect(pairs([check])).toEqual([`lambda:InvokeFunction ${FN}:live`]);
    expect(check.resources[0]?.policyOf).toBe(FN);
    expect(pairs([invokeCheck(functionTarget(`${FN}:3`, undefined, scope))])).toEqual([
      `lambda:InvokeFunction ${FN}:3`,
    ]);
    expect(await contractProblems([check])).toEqual([]);
  });

  it('authorizes alias and version management on the function ARN and ListFunctions on "*"', async () => {
    const target = functionTarget('cleanup', undefined, scope);
    const operations = [
      'GetFunction',
      'GetFunctionConfiguration',
      'PublishVersion',
      'ListVersionsByFunction',
      'CreateAlias',
      'ListAliases',
      'GetAlias',
      'UpdateAlias',
      'DeleteAlias',
    ];
    const checks = [
      ...operations.flatMap((operation) => lambdaAccessChecks(operation, target)),
      ...lambdaAccessChecks('ListFunctions', undefined),
    ];

    expect(checks.map((c) => c.action)).toEqual([
      ...operations.map((o) => `lambda:${o}`),
      'lambda:ListFunctions',
    ]);
    expect(await contractProblems(checks)).toEqual([]);
  });
});

describe('Step Functions', () => {
  it('needs iam:PassRole for the role a state machine is created with', async () => {
    const checks = statesAccessChecks(
      'CreateStateMachine',
      { name: 'Cleanup', roleArn: 'arn:aws:iam::000000000000:role/flow' },
      scope,
    );

    expect(pairs(checks)).toEqual([
      `states:CreateStateMachine ${MACHINE}`,
      'iam:PassRole arn:aws:iam::000000000000:role/flow',
    ]);
    expect(checks[1]?.context).toEqual({ 'iam:PassedToService': 'states.amazonaws.com' });
    expect(await contractProblems(checks)).toEqual([]);
  });

  it('authorizes execution operations on the execution ARN', async () => {
    const execution = 'arn:aws:states:us-east-1:000000000000:execution:Cleanup:run-1';
    const operations = [
      'DescribeExecution',
      'StopExecution',
      'GetExecutionHistory',
      'DescribeStateMachineForExecution',
      'ListMapRuns',
    ];
    const checks = operations.flatMap((operation) =>
      statesAccessChecks(operation, { executionArn: execution }, scope),
    );

    expect(new Set(checks.flatMap((c) => c.resources.map((r) => r.arn)))).toEqual(new Set([execution]));
    expect(await contractProblems(checks)).toEqual([]);
  });

  it('maps the state machine operations to real actions', async () => {
    const operations = [
      'UpdateStateMachine',
      'DescribeStateMachine',
      'DeleteStateMachine',
      'StartExecution',
      'ListExecutions',
      'ListStateMachines',
    ];
    const checks = operations.flatMap((operation) =>
      statesAccessChecks(operation, { stateMachineArn: MACHINE }, scope),
    );

    expect(checks.map((c) => c.action)).toEqual(operations.map((operation) => `states:${operation}`));
    expect(await contractProblems(checks)).toEqual([]);
  });

  it('knows what a .sync nested execution needs: the managed rule, found anywhere in the definition', async () => {
    const definition = JSON.stringify({
      States: { A: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2' } },
    });

    expect(usesSyncExecution(definition)).toBe(true);
    expect(usesSyncExecution(definition.replace('.sync:2', ''))).toBe(false);
    expect(pairs(syncRuleChecks('us-east-1', '000000000000'))).toEqual([
      'events:PutTargets arn:aws:events:us-east-1:000000000000:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule',
      'events:PutRule arn:aws:events:us-east-1:000000000000:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule',
      'events:DescribeRule arn:aws:events:us-east-1:000000000000:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule',
    ]);
    expect(await contractProblems(syncRuleChecks('us-east-1', '000000000000'))).toEqual([]);
  });
});

describe('Scheduler', () => {
  it('authorizes schedules by group and name, with iam:PassRole on the target role', async () => {
    const checks = schedulerAccessChecks('CreateSchedule', {
      ...scope,
      group: 'default',
      name: 'weekly',
      roleArn: 'arn:aws:iam::000000000000:role/s',
    });

    expect(pairs(checks)).toEqual([
      'scheduler:CreateSchedule arn:aws:scheduler:us-east-1:000000000000:schedule/default/weekly',
      'iam:PassRole arn:aws:iam::000000000000:role/s',
    ]);
    expect(await contractProblems(checks)).toEqual([]);
  });

  it("needs the schedule's role to start the state machine or invoke the function it targets", async () => {
    const checks = [
      ...deliveryChecks({ kind: 'state-machine', arn: MACHINE }, scope),
      ...deliveryChecks({ kind: 'function', arn: FN }, scope),
      ...['GetSchedule', 'DeleteSchedule', 'UpdateSchedule'].flatMap((operation) =>
        schedulerAccessChecks(operation, { ...scope, group: 'default', name: 'weekly' }),
      ),
      ...schedulerAccessChecks('ListSchedules', undefined),
    ];

    expect(pairs(checks).slice(0, 2)).toEqual([
      `states:StartExecution ${MACHINE}`,
      `lambda:InvokeFunction ${FN}`,
    ]);
    expect(await contractProblems(checks)).toEqual([]);
  });
});
