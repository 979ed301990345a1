/**
 * EventBridge Scheduler emulation (REST-JSON, signing name `scheduler`): schedules in the
 * `default` group that are evaluated in their time zone and, when they fire, start a Step
 * Functions execution or invoke a Lambda function in the sandbox. See
 * docs/sandbox-stepfunctions.md.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { isValidTimeZone } from '../../../functions/common/time/time-zone.ts';
import type { AccessCheck } from '../../core/access/checks.ts';
import { accessDeniedMessage } from '../../core/access/messages.ts';
import { sendJson } from '../../core/responses.ts';
import type { SandboxContext } from '../../core/server.ts';
import { readStateFile, writeStateFile } from '../../core/state-file.ts';
import { AwsError, type SandboxRequest, type SandboxService } from '../../core/types.ts';
import type { LambdaService } from '../lambda/index.ts';
import type { StatesService } from '../states/index.ts';
import { deliveryChecks, schedulerAccessChecks } from './authorization.ts';
import { nextFireTime, parseScheduleExpression, type ScheduleExpression } from './expressions.ts';

/** Settings read from `settings.scheduler`. */
export interface SchedulerSettings {
  /** Fire schedules on time with real timers. Off, schedules fire only through `runDue`. @default true */
  readonly evaluate?: boolean;
}

/** One time a schedule fired. */
export interface ScheduleInvocation {
  readonly scheduleArn: string;
  readonly scheduledTime: Date;
  readonly targetArn: string;
  readonly outcome: 'started' | 'failed';
  /** The execution started, for a state machine target. */
  readonly executionArn?: string;
  readonly error?: string;
}

/** The Scheduler service, with an in-process API for tests and the drill. */
export interface SchedulerService extends SandboxService {
  readonly signingName: 'scheduler';
  /** Fires every enabled schedule due at or before `now`, as if the clock read `now`. */
  runDue(now: Date): Promise<ScheduleInvocation[]>;
  /** Every firing so far, oldest first, optionally of one schedule. */
  invocations(scheduleArn?: string): ScheduleInvocation[];
}

interface ScheduleRecord {
  readonly name: string;
  readonly group: string;
  readonly region: string;
  readonly arn: string;
  readonly creationDate: Date;
  lastModificationDate: Date;
  expression: string;
  parsed: ScheduleExpression;
  timeZone: string;
  state: 'ENABLED' | 'DISABLED';
  flexibleTimeWindow: { Mode: string; MaximumWindowInMinutes?: number };
  target: { Arn: string; RoleArn: string; Input?: string } & Record<string, unknown>;
  description?: string;
  startDate?: Date;
  endDate?: Date;
  actionAfterCompletion: 'NONE' | 'DELETE';
  /** Fire times after this are still to come. */
  cursor: Date;
  timer?: NodeJS.Timeout;
}

type Body = Record<string, unknown>;

const MAX_TIMER_MS = 2_147_483_647;
const NAME = /^[0-9a-zA-Z_.-]{1,64}$/;
const STATE_MACHINE_ARN = /^arn:aws[\w-]*:states:[\w-]+:\d{12}:stateMachine:[\w.-]+$/;
const FUNCTION_ARN = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w.-]+(:[\w$-]+)?$/;
const SFN_UNIVERSAL = /^arn:aws[\w-]*:scheduler:::aws-sdk:sfn:startExecution$/;

function validation(message: string): AwsError {
  return new AwsError('ValidationException', message);
}

function dateField(body: Body, field: string): Date | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(String(value));
  if (Number.isNaN(date.getTime())) throw validation(`${field} is not a valid timestamp`);
  return date;
}

function epoch(date: Date | undefined): number | undefined {
  return date ? date.getTime() / 1000 : undefined;
}

/** Replaces Scheduler's context attributes in a target's input. */
function withContext(input: string, schedule: ScheduleRecord, scheduledTime: Date): string {
  return input
    .replaceAll('<aws.scheduler.schedule-arn>', schedule.arn)
    .replaceAll('<aws.scheduler.scheduled-time>', scheduledTime.toISOString().replace(/\.\d{3}Z$/, 'Z'))
    .replaceAll('<aws.scheduler.execution-id>', randomUUID())
    .replaceAll('<aws.scheduler.attempt-number>', '1');
}

interface StoredSchedule {
  readonly name: string;
  readonly group: string;
  readonly region: string;
  readonly creationDate: string;
  readonly lastModificationDate: string;
  readonly expression: string;
  readonly timeZone: string;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly flexibleTimeWindow: { Mode: string; MaximumWindowInMinutes?: number };
  readonly target: ScheduleRecord['target'];
  readonly description?: string;
  readonly startDate?: string;
  readonly endDate?: string;
  readonly actionAfterCompletion: 'NONE' | 'DELETE';
  readonly cursor: string;
}

/** Creates the Scheduler service; schedules from an earlier run with the same data directory are loaded. */
export function schedulerService(context: SandboxContext): SchedulerService {
  const settings = (context.options.settings?.scheduler ?? {}) as SchedulerSettings;
  const evaluate = settings.evaluate !== false;
  const schedules = new Map<string, ScheduleRecord>();
  const fired: ScheduleInvocation[] = [];
  const stateFile = join(context.dataDir, 'scheduler', 'schedules.json');
  let closed = false;

  function save(): void {
    const stored: StoredSchedule[] = [...schedules.values()].map((record) => ({
      name: record.name,
      group: record.group,
      region: record.region,
      creationDate: record.creationDate.toISOString(),
      lastModificationDate: record.lastModificationDate.toISOString(),
      expression: record.expression,
      timeZone: record.timeZone,
      state: record.state,
      flexibleTimeWindow: record.flexibleTimeWindow,
      target: record.target,
      ...(record.description !== undefined ? { description: record.description } : {}),
      ...(record.startDate ? { startDate: record.startDate.toISOString() } : {}),
      ...(record.endDate ? { endDate: record.endDate.toISOString() } : {}),
      actionAfterCompletion: record.actionAfterCompletion,
      cursor: record.cursor.toISOString(),
    }));
    writeStateFile(stateFile, stored);
  }

  function next(record: ScheduleRecord): Date | undefined {
    if (record.state !== 'ENABLED') return undefined;
    return nextFireTime(
      record.parsed,
      {
        timeZone: record.timeZone,
        createdAt: record.creationDate,
        ...(record.startDate ? { startDate: record.startDate } : {}),
        ...(record.endDate ? { endDate: record.endDate } : {}),
      },
      record.cursor,
    );
  }

  const scopeOf = (record: ScheduleRecord) => ({ region: record.region, accountId: context.accountId });

  /**
   * The schedule's role must be allowed to start its target (a role no template deployed is not
   * evaluated); a refusal fails the delivery with the AccessDeniedException the target's service
   * answers.
   */
  function authorizeDelivery(record: ScheduleRecord, checks: readonly AccessCheck[]): void {
    const roleArn = record.target.RoleArn;
    if (!context.access.knowsRole(roleArn)) return;
    const denial = context.access.evaluate(context.access.session(roleArn, record.name), checks, {
      service: 'scheduler',
      operation: checks[0]?.action.split(':')[1] ?? 'Deliver',
      region: record.region,
      secureTransport: true,
      origin: 'scheduler',
    });
    if (denial?.enforced) throw new AwsError('AccessDeniedException', accessDeniedMessage(denial), 403);
  }

  async function deliver(record: ScheduleRecord, scheduledTime: Date): Promise<ScheduleInvocation> {
    const targetArn = record.target.Arn;
    const base = { scheduleArn: record.arn, scheduledTime, targetArn };
    const input =
      record.target.Input === undefined ? undefined : withContext(record.target.Input, record, scheduledTime);
    try {
      if (STATE_MACHINE_ARN.test(targetArn) || SFN_UNIVERSAL.test(targetArn)) {
        const states = context.service<StatesService>('states');
        if (!states) throw new Error("the sandbox's Step Functions service is not running");
        let request = { stateMachineArn: targetArn, input: input ?? '{}' } as {
          stateMachineArn: string;
          input: string;
          name?: string;
        };
        if (SFN_UNIVERSAL.test(targetArn)) {
          const params = JSON.parse(input ?? '{}') as {
            StateMachineArn?: string;
            Input?: string;
            Name?: string;
          };
          request = {
            stateMachineArn: String(params.StateMachineArn ?? ''),
            input: typeof params.Input === 'string' ? params.Input : JSON.stringify(params.Input ?? {}),
            ...(params.Name !== undefined ? { name: params.Name } : {}),
          };
        }
        authorizeDelivery(
          record,
          deliveryChecks({ kind: 'state-machine', arn: request.stateMachineArn }, scopeOf(record)),
        );
        const started = states.startExecution(request);
        return { ...base, outcome: 'started', executionArn: started.executionArn };
      }
      if (FUNCTION_ARN.test(targetArn)) {
        const lambda = context.service<LambdaService>('lambda');
        if (!lambda) throw new Error("the sandbox's Lambda service is not running");
        authorizeDelivery(record, deliveryChecks({ kind: 'function', arn: targetArn }, scopeOf(record)));
        await lambda.invoke({
          functionName: targetArn,
          payload: input ?? '{}',
          invocationType: 'Event',
          region: record.region,
        });
        return { ...base, outcome: 'started' };
      }
      throw new Error(`the sandbox's Scheduler does not deliver to ${targetArn}`);
    } catch (error) {
      const message =
        error instanceof AwsError ? `${error.code}: ${error.message}` : (error as Error).message;
      console.error(`[sandbox] schedule ${record.arn} could not start its target: ${message}`);
      return { ...base, outcome: 'failed', error: message };
    }
  }

  async function fire(record: ScheduleRecord, scheduledTime: Date): Promise<ScheduleInvocation> {
    record.cursor = scheduledTime;
    const invocation = await deliver(record, scheduledTime);
    fired.push(invocation);
    if (record.parsed.kind === 'at' && record.actionAfterCompletion === 'DELETE') {
      remove(record);
    } else if (!closed) {
      save();
    }
    return invocation;
  }

  function arm(record: ScheduleRecord): void {
    clearTimeout(record.timer);
    record.timer = undefined;
    if (!evaluate || closed) return;
    const due = next(record);
    if (!due) return;
    const delay = Math.max(0, due.getTime() - Date.now());
    record.timer = setTimeout(
      () => {
        record.timer = undefined;
        if (schedules.get(key(record.region, record.group, record.name)) !== record) return;
        if (Date.now() < due.getTime()) {
          arm(record);
          return;
        }
        fire(record, due)
          .catch((error: unknown) => console.error(`[sandbox] schedule ${record.arn} failed to fire:`, error))
          .finally(() => arm(record));
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    record.timer.unref();
  }

  function remove(record: ScheduleRecord): void {
    clearTimeout(record.timer);
    schedules.delete(key(record.region, record.group, record.name));
    save();
  }

  function key(region: string, group: string, name: string): string {
    return `${region}/${group}/${name}`;
  }

  function find(req: SandboxRequest, name: string, group: string): ScheduleRecord {
    const record = schedules.get(key(req.region, group, name));
    if (!record) throw new AwsError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    return record;
  }

  function groupOf(value: unknown): string {
    const group = value === undefined || value === null || value === '' ? 'default' : String(value);
    if (group !== 'default') {
      throw new AwsError('ResourceNotFoundException', `Schedule group ${group} does not exist.`, 404);
    }
    return group;
  }

  /** Validates a Create/Update body into the fields of a record. */
  function fieldsOf(body: Body) {
    const expression = body.ScheduleExpression;
    if (typeof expression !== 'string') throw validation('ScheduleExpression is required');
    let parsed: ScheduleExpression;
    try {
      parsed = parseScheduleExpression(expression);
    } catch (error) {
      throw validation(`Invalid Schedule Expression ${expression}: ${(error as Error).message}`);
    }
    const timeZone =
      typeof body.ScheduleExpressionTimezone === 'string' ? body.ScheduleExpressionTimezone : 'UTC';
    if (!isValidTimeZone(timeZone)) throw validation(`Invalid time zone: ${timeZone}`);
    const window = body.FlexibleTimeWindow as
      | { Mode?: unknown; MaximumWindowInMinutes?: unknown }
      | undefined;
    if (!window || (window.Mode !== 'OFF' && window.Mode !== 'FLEXIBLE')) {
      throw validation('FlexibleTimeWindow.Mode must be OFF or FLEXIBLE');
    }
    const maxWindow = window.MaximumWindowInMinutes;
    if (window.Mode === 'FLEXIBLE' && (typeof maxWindow !== 'number' || maxWindow < 1 || maxWindow > 1440)) {
      throw validation(
        'FlexibleTimeWindow.MaximumWindowInMinutes must be between 1 and 1440 when Mode is FLEXIBLE',
      );
    }
    const target = body.Target as ScheduleRecord['target'] | undefined;
    if (!target || typeof target.Arn !== 'string' || typeof target.RoleArn !== 'string') {
      throw validation('Target.Arn and Target.RoleArn are required');
    }
    if (target.Input !== undefined && typeof target.Input !== 'string')
      throw validation('Target.Input must be a string');
    const state = (body.State ?? 'ENABLED') as string;
    if (state !== 'ENABLED' && state !== 'DISABLED') throw validation('State must be ENABLED or DISABLED');
    const action = (body.ActionAfterCompletion ?? 'NONE') as string;
    if (action !== 'NONE' && action !== 'DELETE')
      throw validation('ActionAfterCompletion must be NONE or DELETE');
    const startDate = dateField(body, 'StartDate');
    const endDate = dateField(body, 'EndDate');
    if (startDate && endDate && endDate.getTime() <= startDate.getTime()) {
      throw validation('The EndDate must be after the StartDate');
    }
    return {
      expression,
      parsed,
      timeZone,
      state: state as 'ENABLED' | 'DISABLED',
      flexibleTimeWindow: {
        Mode: String(window.Mode),
        ...(typeof maxWindow === 'number' ? { MaximumWindowInMinutes: maxWindow } : {}),
      },
      target: { ...target },
      ...(typeof body.Description === 'string' ? { description: body.Description } : {}),
      ...(startDate ? { startDate } : {}),
      ...(endDate ? { endDate } : {}),
      actionAfterCompletion: action as 'NONE' | 'DELETE',
    };
  }

  function describe(record: ScheduleRecord): Body {
    return {
      Arn: record.arn,
      Name: record.name,
      GroupName: record.group,
      ScheduleExpression: record.expression,
      ScheduleExpressionTimezone: record.timeZone,
      State: record.state,
      FlexibleTimeWindow: record.flexibleTimeWindow,
      Target: record.target,
      ActionAfterCompletion: record.actionAfterCompletion,
      CreationDate: epoch(record.creationDate),
      LastModificationDate: epoch(record.lastModificationDate),
      ...(record.description !== undefined ? { Description: record.description } : {}),
      ...(record.startDate ? { StartDate: epoch(record.startDate) } : {}),
      ...(record.endDate ? { EndDate: epoch(record.endDate) } : {}),
    };
  }

  async function readBody(req: SandboxRequest): Promise<Body> {
    const raw = (await req.readBody(1024 * 1024)).toString('utf8');
    try {
      const parsed: unknown = raw.length === 0 ? {} : JSON.parse(raw);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Body;
    } catch {
      // reported below
    }
    throw validation('The request body is not a JSON object');
  }

  async function route(req: SandboxRequest, res: ServerResponse): Promise<void> {
    const path = req.url.pathname.replace(/\/+$/, '');
    const query = req.url.searchParams;
    if (path === '/schedules' && req.method === 'GET') {
      req.authorize(schedulerAccessChecks('ListSchedules', undefined), 'ListSchedules');
      const prefix = query.get('NamePrefix') ?? '';
      const state = query.get('State');
      const group = query.get('ScheduleGroup');
      if (group !== null) groupOf(group);
      const all = [...schedules.values()]
        .filter((record) => record.region === req.region && record.name.startsWith(prefix))
        .filter((record) => state === null || record.state === state)
        .sort((a, b) => a.name.localeCompare(b.name));
      const max = Number(query.get('MaxResults') ?? 100);
      const token = query.get('NextToken');
      const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
      if (!Number.isInteger(start) || start < 0 || !Number.isInteger(max) || max < 1 || max > 100) {
        throw validation('Invalid NextToken or MaxResults');
      }
      const page = all.slice(start, start + max);
      sendJson(
        res,
        200,
        {
          Schedules: page.map((record) => ({
            Arn: record.arn,
            Name: record.name,
            GroupName: record.group,
            State: record.state,
            CreationDate: epoch(record.creationDate),
            LastModificationDate: epoch(record.lastModificationDate),
            Target: { Arn: record.target.Arn },
          })),
          ...(start + max < all.length
            ? { NextToken: Buffer.from(String(start + max)).toString('base64url') }
            : {}),
        },
        'application/json',
      );
      return;
    }
    const match = /^\/schedules\/([^/]+)$/.exec(path);
    if (!match)
      throw new AwsError(
        'UnknownOperationException',
        `The sandbox's Scheduler does not support ${req.method} ${path}`,
        404,
      );
    const name = decodeURIComponent(match[1] ?? '');
    if (!NAME.test(name)) throw validation(`Invalid schedule name: ${name}`);
    const authorize = (operation: string, group: string, body?: Body) => {
      const roleArn = (body?.Target as { RoleArn?: unknown } | undefined)?.RoleArn;
      const target = {
        region: req.region,
        accountId: context.accountId,
        group,
        name,
        ...(typeof roleArn === 'string' ? { roleArn } : {}),
      };
      req.authorize(schedulerAccessChecks(operation, target), operation);
    };
    switch (req.method) {
      case 'POST': {
        const body = await readBody(req);
        const group = groupOf(body.GroupName);
        authorize('CreateSchedule', group, body);
        const id = key(req.region, group, name);
        if (schedules.has(id))
          throw new AwsError('ConflictException', `Schedule ${name} already exists.`, 409);
        const now = new Date();
        const record: ScheduleRecord = {
          name,
          group,
          region: req.region,
          arn: `arn:aws:scheduler:${req.region}:${context.accountId}:schedule/${group}/${name}`,
          creationDate: now,
          lastModificationDate: now,
          cursor: new Date(now.getTime() - 1),
          ...fieldsOf(body),
        };
        schedules.set(id, record);
        save();
        arm(record);
        sendJson(res, 200, { ScheduleArn: record.arn }, 'application/json');
        return;
      }
      case 'PUT': {
        const body = await readBody(req);
        authorize('UpdateSchedule', groupOf(body.GroupName), body);
        const record = find(req, name, groupOf(body.GroupName));
        const fields = fieldsOf(body);
        // UpdateSchedule replaces the whole schedule: optional fields left out are cleared.
        delete record.description;
        delete record.startDate;
        delete record.endDate;
        Object.assign(record, fields, { lastModificationDate: new Date() });
        record.cursor = new Date(Math.max(record.cursor.getTime(), Date.now() - 1));
        save();
        arm(record);
        sendJson(res, 200, { ScheduleArn: record.arn }, 'application/json');
        return;
      }
      case 'GET':
        authorize('GetSchedule', groupOf(query.get('groupName')));
        sendJson(res, 200, describe(find(req, name, groupOf(query.get('groupName')))), 'application/json');
        return;
      case 'DELETE':
        authorize('DeleteSchedule', groupOf(query.get('groupName')));
        remove(find(req, name, groupOf(query.get('groupName'))));
        sendJson(res, 200, {}, 'application/json');
        return;
      default:
        throw new AwsError(
          'UnknownOperationException',
          `The sandbox's Scheduler does not support ${req.method} ${path}`,
          404,
        );
    }
  }

  const loaded = readStateFile(stateFile);
  if (Array.isArray(loaded)) {
    for (const stored of loaded as StoredSchedule[]) {
      const record: ScheduleRecord = {
        name: stored.name,
        group: stored.group,
        region: stored.region,
        arn: `arn:aws:scheduler:${stored.region}:${context.accountId}:schedule/${stored.group}/${stored.name}`,
        creationDate: new Date(stored.creationDate),
        lastModificationDate: new Date(stored.lastModificationDate),
        expression: stored.expression,
        parsed: parseScheduleExpression(stored.expression),
        timeZone: stored.timeZone,
        state: stored.state,
        flexibleTimeWindow: stored.flexibleTimeWindow,
        target: stored.target,
        ...(stored.description !== undefined ? { description: stored.description } : {}),
        ...(stored.startDate ? { startDate: new Date(stored.startDate) } : {}),
        ...(stored.endDate ? { endDate: new Date(stored.endDate) } : {}),
        actionAfterCompletion: stored.actionAfterCompletion,
        // Firings missed while the sandbox was down are not made up, as a stopped clock would not.
        cursor: new Date(Math.max(Date.parse(stored.cursor), Date.now() - 1)),
      };
      schedules.set(key(record.region, record.group, record.name), record);
    }
  }
  // Other services (Step Functions, Lambda) are registered after this one: arm once they exist.
  setImmediate(() => {
    for (const record of schedules.values()) arm(record);
  }).unref();

  return {
    signingName: 'scheduler',
    protocol: 'rest-json',
    handle: route,
    async runDue(now) {
      const invocations: ScheduleInvocation[] = [];
      for (const record of [...schedules.values()]) {
        for (let guard = 0; guard < 10_000; guard++) {
          const due = next(record);
          if (!due || due.getTime() > now.getTime()) break;
          invocations.push(await fire(record, due));
          if (!schedules.has(key(record.region, record.group, record.name))) break;
        }
        arm(record);
      }
      return invocations;
    },
    invocations: (scheduleArn) =>
      fired.filter((invocation) => scheduleArn === undefined || invocation.scheduleArn === scheduleArn),
    async close() {
      closed = true;
      for (const record of schedules.values()) clearTimeout(record.timer);
    },
  };
}
