import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SignatureV4 } from '@smithy/signature-v4';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LambdaService, lambdaService } from '../../sandbox/services/lambda/index.ts';
import {
  nextFireTime,
  parseScheduleExpression,
  type ScheduleExpression,
} from '../../sandbox/services/scheduler/expressions.ts';
import { type SchedulerService, schedulerService } from '../../sandbox/services/scheduler/index.ts';
import { type StatesService, statesService } from '../../sandbox/services/states/index.ts';
import { createMachine } from '../fixtures/statemachines/harness.ts';
import { withAwsCli } from '../support/awscli.ts';
import { withSandbox } from '../support/sandbox.ts';

const CREATED = new Date('2026-01-01T00:00:00Z');

function next(
  expression: string,
  timeZone: string,
  after: string,
  extra: { startDate?: Date; endDate?: Date } = {},
) {
  return nextFireTime(
    parseScheduleExpression(expression),
    { timeZone, createdAt: CREATED, ...extra },
    new Date(after),
  );
}

/** The first `count` fire times after `after`. */
function series(expression: ScheduleExpression, timeZone: string, after: string, count: number): string[] {
  const times: string[] = [];
  let cursor = new Date(after);
  for (let i = 0; i < count; i++) {
    const fire = nextFireTime(expression, { timeZone, createdAt: CREATED }, cursor);
    if (!fire) break;
    times.push(fire.toISOString());
    cursor = fire;
  }
  return times;
}

describe('schedule expressions (pure)', () => {
  it('skips cron(0 2 * * ? *) in Europe/Berlin on the day 02:00 does not exist (spring forward)', () => {
    const fires = series(
      parseScheduleExpression('cron(0 2 * * ? *)'),
      'Europe/Berlin',
      '2026-03-27T12:00:00Z',
      3,
    );

    expect(fires).toEqual([
      '2026-03-28T01:00:00.000Z', // 02:00 CET
      '2026-03-30T00:00:00.000Z', // 02:00 CEST; 29 March has no 02:00
      '2026-03-31T00:00:00.000Z',
    ]);
  });

  it('fires cron(0 2 * * ? *) in Europe/Berlin once on the day 02:00 happens twice (fall back)', () => {
    const fires = series(
      parseScheduleExpression('cron(0 2 * * ? *)'),
      'Europe/Berlin',
      '2026-10-24T12:00:00Z',
      2,
    );

    expect(fires).toEqual(['2026-10-25T00:00:00.000Z', '2026-10-26T01:00:00.000Z']);
  });

  it('runs an hourly cron once for the repeated hour when clocks go back', () => {
    const fires = series(
      parseScheduleExpression('cron(30 * * * ? *)'),
      'Europe/Berlin',
      '2026-10-24T23:45:00Z',
      3,
    );

    // 02:30 CEST (00:30Z) runs; 02:30 CET (01:30Z) is the same wall-clock time and is skipped.
    expect(fires).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T02:30:00.000Z',
      '2026-10-25T03:30:00.000Z',
    ]);
  });

  it('reads day-of-week as AWS numbers it, 1 = Sunday', () => {
    const byNumber = next('cron(0 9 ? * 2-6 *)', 'UTC', '2026-01-03T00:00:00Z');
    const byName = next('cron(0 9 ? * MON-FRI *)', 'UTC', '2026-01-03T00:00:00Z');

    expect(byNumber?.toISOString()).toBe('2026-01-05T09:00:00.000Z');
    expect(byName?.toISOString()).toBe('2026-01-05T09:00:00.000Z');
  });

  it('understands the nth weekday (#) and the last day of the month (L)', () => {
    expect(next('cron(0 10 ? * 6#3 *)', 'UTC', '2026-01-01T00:00:00Z')?.toISOString()).toBe(
      '2026-01-16T10:00:00.000Z',
    );
    expect(next('cron(0 0 L * ? *)', 'UTC', '2026-02-01T00:00:00Z')?.toISOString()).toBe(
      '2026-02-28T00:00:00.000Z',
    );
  });

  it('honours the year field', () => {
    expect(next('cron(0 0 1 1 ? 2030)', 'UTC', '2026-06-01T00:00:00Z')?.toISOString()).toBe(
      '2030-01-01T00:00:00.000Z',
    );
    expect(next('cron(0 0 1 1 ? 2025)', 'UTC', '2026-06-01T00:00:00Z')).toBeUndefined();
  });

  it('fires a rate schedule at creation, then every interval, or from its StartDate', () => {
    const rate = parseScheduleExpression('rate(5 minutes)');

    expect(series(rate, 'UTC', '2025-12-31T23:59:59.999Z', 2)).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:05:00.000Z',
    ]);
    expect(
      next('rate(1 day)', 'Europe/Berlin', '2026-03-28T00:00:00Z', {
        startDate: new Date('2026-03-27T06:00:00Z'),
      })?.toISOString(),
    ).toBe('2026-03-28T06:00:00.000Z');
  });

  it('fires an at() schedule once, at that wall-clock time in its time zone', () => {
    expect(next('at(2026-07-01T09:00:00)', 'Europe/Berlin', '2026-06-01T00:00:00Z')?.toISOString()).toBe(
      '2026-07-01T07:00:00.000Z',
    );
    expect(next('at(2026-07-01T09:00:00)', 'Europe/Berlin', '2026-07-01T07:00:00Z')).toBeUndefined();
  });

  it('stops at the EndDate', () => {
    const fire = next('cron(0 2 * * ? *)', 'UTC', '2026-01-01T03:00:00Z', {
      endDate: new Date('2026-01-02T01:00:00Z'),
    });

    expect(fire).toBeUndefined();
  });

  it('rejects expressions Scheduler rejects', () => {
    expect(() => parseScheduleExpression('cron(0 2 * * *)')).toThrow(/6 fields/);
    expect(() => parseScheduleExpression('rate(0 minutes)')).toThrow();
    expect(() => parseScheduleExpression('every day')).toThrow();
  });
});

const handle = withSandbox([lambdaService, statesService, schedulerService], {
  settings: { lambda: { environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } } },
});
const ROLE = 'arn:aws:iam::000000000000:role/caretaker-scheduler';
const cli = withAwsCli(() => handle.sandbox.url);
const aws = (...args: string[]) => cli.json(...args);
let sfn: SFNClient;
let machineArn: string;

type Source = string | ArrayBuffer | ArrayBufferView;

function bytes(data: Source): string | Buffer {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    : Buffer.from(data);
}

/** SHA-256 and HMAC-SHA-256 for the signer, from node:crypto. */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: Source) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Source): void {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {}
}

/** A Scheduler API call signed with SigV4, for fields awscli 2.9's model does not know. */
async function signedScheduler(method: string, path: string, body: unknown): Promise<Response> {
  const url = new URL(handle.sandbox.url);
  const signer = new SignatureV4({
    service: 'scheduler',
    region: 'us-east-1',
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    sha256: NodeSha256,
  });
  const text = JSON.stringify(body);
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path,
    query: {},
    headers: { host: url.host, 'content-type': 'application/json' },
    body: text,
  });
  return fetch(`${handle.sandbox.url}${path}`, { method, headers: signed.headers, body: text });
}

async function executions(): Promise<{ name?: string; executionArn?: string }[]> {
  const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn }));
  return listed.executions ?? [];
}

beforeAll(async () => {
  sfn = new SFNClient({});
  machineArn = await createMachine(sfn, 'context.asl.json', 'scheduled');
});

describe('Scheduler API and firing', () => {
  it('creates, gets, lists and deletes a schedule with awscli, starting the state machine at once for a rate', async () => {
    const created = await aws(
      'scheduler',
      'create-schedule',
      '--name',
      'every-minute',
      '--schedule-expression',
      'rate(1 minute)',
      '--schedule-expression-timezone',
      'Europe/Berlin',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      JSON.stringify({
        Arn: machineArn,
        RoleArn: ROLE,
        Input: '{"schedule":"<aws.scheduler.schedule-arn>"}',
      }),
    );
    const scheduler = handle.sandbox.context.service<SchedulerService>('scheduler');
    for (let i = 0; i < 100 && (scheduler?.invocations(String(created.ScheduleArn)).length ?? 0) === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const fired = scheduler?.invocations(String(created.ScheduleArn)) ?? [];
    const got = await aws('scheduler', 'get-schedule', '--name', 'every-minute');
    const listed = await aws('scheduler', 'list-schedules', '--name-prefix', 'every');
    await aws('scheduler', 'delete-schedule', '--name', 'every-minute');
    const gone = aws('scheduler', 'get-schedule', '--name', 'every-minute');

    expect(created.ScheduleArn).toBe(
      'arn:aws:scheduler:us-east-1:000000000000:schedule/default/every-minute',
    );
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ outcome: 'started', targetArn: machineArn });
    const started = (await executions()).find(
      (execution) => execution.executionArn === fired[0]?.executionArn,
    );
    expect(started).toBeDefined();
    expect(got).toMatchObject({
      Name: 'every-minute',
      GroupName: 'default',
      ScheduleExpression: 'rate(1 minute)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: machineArn, RoleArn: ROLE },
    });
    expect((listed.Schedules as { Name: string }[]).map((schedule) => schedule.Name)).toEqual([
      'every-minute',
    ]);
    await expect(gone).rejects.toMatchObject({
      stderr: expect.stringContaining('ResourceNotFoundException'),
    });
  });

  it('passes the target input with Scheduler context attributes replaced', async () => {
    await aws(
      'scheduler',
      'create-schedule',
      '--name',
      'with-input',
      '--schedule-expression',
      'rate(1 hour)',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      JSON.stringify({
        Arn: machineArn,
        RoleArn: ROLE,
        Input: '{"schedule":"<aws.scheduler.schedule-arn>"}',
      }),
    );
    const scheduler = handle.sandbox.context.service<SchedulerService>('scheduler');
    const arn = 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/with-input';
    for (let i = 0; i < 100 && (scheduler?.invocations(arn).length ?? 0) === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const state = handle.sandbox.context.service<StatesService>('states');
    const execution = state?.execution(scheduler?.invocations(arn)[0]?.executionArn ?? '');

    expect(JSON.parse(execution?.input ?? '{}')).toEqual({ schedule: arn });
    await aws('scheduler', 'delete-schedule', '--name', 'with-input');
  });

  it('evaluates a cron schedule in its time zone on a fake clock and starts the execution for that time', async () => {
    await aws(
      'scheduler',
      'create-schedule',
      '--name',
      'nightly-berlin',
      '--schedule-expression',
      'cron(0 2 * * ? *)',
      '--schedule-expression-timezone',
      'Europe/Berlin',
      '--flexible-time-window',
      'Mode=FLEXIBLE,MaximumWindowInMinutes=15',
      '--target',
      JSON.stringify({ Arn: machineArn, RoleArn: ROLE }),
    );
    const scheduler = handle.sandbox.context.service<SchedulerService>('scheduler');
    // Two days from now, 03:00 in Berlin: the 02:00 of the next two nights are due.
    const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date());
    const fakeNow = new Date(Date.parse(`${parts}T00:00:00Z`) + 2 * 86_400_000 + 3 * 3_600_000);

    const fired = (await scheduler?.runDue(fakeNow)) ?? [];
    const nightly = fired.filter((invocation) => invocation.scheduleArn.endsWith('/nightly-berlin'));

    expect(nightly.length).toBeGreaterThanOrEqual(2);
    for (const invocation of nightly) {
      const wall = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Berlin',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(invocation.scheduledTime);
      expect(wall).toBe('02:00');
      expect(invocation.outcome).toBe('started');
    }
    await aws('scheduler', 'delete-schedule', '--name', 'nightly-berlin');
  });

  it('fires a one-time schedule on time with a real timer and deletes it after completion', async () => {
    const at = new Date(Date.now() + 2000);
    const local = at.toISOString().slice(0, 19);
    const response = await signedScheduler('POST', '/schedules/once-soon', {
      ScheduleExpression: `at(${local})`,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: machineArn, RoleArn: ROLE, Input: '{"once":true}' },
      ActionAfterCompletion: 'DELETE',
    });
    const arn = ((await response.json()) as { ScheduleArn: string }).ScheduleArn;
    const scheduler = handle.sandbox.context.service<SchedulerService>('scheduler');
    for (let i = 0; i < 200 && (scheduler?.invocations(arn).length ?? 0) === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const fired = scheduler?.invocations(arn) ?? [];
    const gone = aws('scheduler', 'get-schedule', '--name', 'once-soon');

    expect(response.status).toBe(200);
    expect(fired).toHaveLength(1);
    expect(fired[0]?.scheduledTime.toISOString()).toBe(`${local}.000Z`);
    await expect(gone).rejects.toMatchObject({
      stderr: expect.stringContaining('ResourceNotFoundException'),
    });
  });

  it('invokes a Lambda function target asynchronously', async () => {
    const counterFile = join(cli.home, 'lambda-target');
    handle.sandbox.context.service<LambdaService>('lambda')?.register({
      name: 'status',
      modulePath: fileURLToPath(new URL('../fixtures/statemachines/handlers/status.ts', import.meta.url)),
    });
    await aws(
      'scheduler',
      'create-schedule',
      '--name',
      'lambda-target',
      '--schedule-expression',
      'rate(1 hour)',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      JSON.stringify({
        Arn: 'arn:aws:lambda:us-east-1:000000000000:function:status',
        RoleArn: ROLE,
        Input: JSON.stringify({ counterFile, readyAfter: 1 }),
      }),
    );
    for (let i = 0; i < 200 && !existsSync(counterFile); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    expect(readFileSync(counterFile, 'utf8')).toBe('1');
    await aws('scheduler', 'delete-schedule', '--name', 'lambda-target');
  });

  it('refuses an invalid expression with ValidationException', async () => {
    const invalid = aws(
      'scheduler',
      'create-schedule',
      '--name',
      'bad',
      '--schedule-expression',
      'cron(0 2 * * *)',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      JSON.stringify({ Arn: machineArn, RoleArn: ROLE }),
    );

    await expect(invalid).rejects.toMatchObject({ stderr: expect.stringContaining('ValidationException') });
  });

  it('refuses a second schedule with the same name with ConflictException', async () => {
    const args = [
      'scheduler',
      'create-schedule',
      '--name',
      'twice',
      '--schedule-expression',
      'rate(1 day)',
      '--state',
      'DISABLED',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      JSON.stringify({ Arn: machineArn, RoleArn: ROLE }),
    ];
    await aws(...args);

    await expect(aws(...args)).rejects.toMatchObject({
      stderr: expect.stringContaining('ConflictException'),
    });
  });
});
