/**
 * AWS::Scheduler::Schedule through the sandbox's Scheduler API: the sandbox fires it on its
 * expression in its time zone and starts the target. With `pauseSchedules`, schedules are created
 * DISABLED (enable one with `aws scheduler update-schedule … --state ENABLED`).
 */
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { type ResourceHandler, text } from '../context.ts';

export const schedule: ResourceHandler = {
  applies: [
    'Name',
    'GroupName',
    'Description',
    'ScheduleExpression',
    'ScheduleExpressionTimezone',
    'FlexibleTimeWindow',
    'State',
    'StartDate',
    'EndDate',
    'Target',
  ],
  async create(context, resource) {
    const p = resource.properties;
    const name = context.nameFor(resource, p.Name, { maxLength: 64 });
    const target = { ...(p.Target as Record<string, unknown>) };
    if (target.Input !== undefined) target.Input = text(target.Input);
    const state = context.options.pauseSchedules ? 'DISABLED' : (text(p.State) ?? 'ENABLED');
    // The template's shapes are the API's (CloudFormation passes them through); the cast says so.
    const input = {
      Name: name,
      GroupName: text(p.GroupName),
      Description: text(p.Description),
      ScheduleExpression: text(p.ScheduleExpression),
      ScheduleExpressionTimezone: text(p.ScheduleExpressionTimezone),
      FlexibleTimeWindow: p.FlexibleTimeWindow,
      State: state,
      StartDate: p.StartDate === undefined ? undefined : new Date(String(p.StartDate)),
      EndDate: p.EndDate === undefined ? undefined : new Date(String(p.EndDate)),
      Target: target,
    } as unknown as CreateScheduleCommandInput;
    try {
      await context.clients.scheduler.send(new CreateScheduleCommand(input));
    } catch (error) {
      // A redeployment replaces the schedule, as a stack update does.
      if (!(error instanceof ConflictException)) throw error;
      await context.clients.scheduler.send(new UpdateScheduleCommand(input));
    }
    const notes: string[] = [];
    if (target.RetryPolicy !== undefined || target.DeadLetterConfig !== undefined) {
      notes.push(
        'Target.RetryPolicy/DeadLetterConfig: kept on the schedule; the sandbox Scheduler does not retry and logs a failed delivery instead of sending it to the dead-letter queue',
      );
    }
    if (context.options.pauseSchedules && text(p.State) !== 'DISABLED') {
      notes.push('State: created DISABLED (schedules paused for this deployment)');
    }
    const group = text(p.GroupName) ?? 'default';
    return {
      ref: name,
      physicalName: name,
      attributes: { Arn: context.arn('scheduler', `schedule/${group}/${name}`) },
      ...(typeof target.RoleArn === 'string' ? { role: target.RoleArn } : {}),
      notes,
    };
  },
};
