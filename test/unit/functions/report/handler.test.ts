import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeContext } from '../../../support/lambda-context.ts';

const s3Mock = mockClient(S3Client);
const snsMock = mockClient(SNSClient);
const recorded = JSON.parse(readFileSync('test/fixtures/report/routine-maintenance-run.json', 'utf8'));
let handler: typeof import('../../../../functions/report/handler.ts')['handler'];

/** The bucket as the handler sees it: what it wrote, readable back. */
const objects = new Map<string, string>();
/** How many of the next publishes fail. */
let publishFailures = 0;
/** Runs before each PutObject (to make another writer act in between). */
let beforeWrite: ((key: string) => void) | undefined;
const etagOf = (text: string) => `"${createHash('md5').update(text).digest('hex')}"`;
const INCIDENT_KEY = 'reports/RoutineMaintenance/incident.json';

beforeAll(async () => {
  process.env.BACKUP_BUCKET = 'caretaker-prod-backups';
  process.env.ALERT_TOPIC_ARN = 'arn:aws:sns:eu-central-1:111122223333:caretaker-alerts';
  process.env.CARETAKER_ENVIRONMENT = 'prod';
  ({ handler } = await import('../../../../functions/report/handler.ts'));
});

beforeEach(() => {
  s3Mock.reset();
  snsMock.reset();
  objects.clear();
  beforeWrite = undefined;
  s3Mock.on(PutObjectCommand).callsFake((input) => {
    beforeWrite?.(input.Key);
    const current = objects.get(input.Key);
    // S3's conditional writes, as the incident state uses them.
    if (
      (input.IfNoneMatch === '*' && current !== undefined) ||
      (input.IfMatch !== undefined && (current === undefined || etagOf(current) !== input.IfMatch))
    ) {
      throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
        name: 'PreconditionFailed',
      });
    }
    objects.set(input.Key, String(input.Body));
    return { ETag: etagOf(String(input.Body)) };
  });
  s3Mock.on(GetObjectCommand).callsFake((input) => {
    const text = objects.get(input.Key);
    if (text === undefined)
      throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    return { Body: { transformToString: async () => text }, ETag: etagOf(text) };
  });
  let messages = 0;
  snsMock.on(PublishCommand).callsFake(() => {
    if (publishFailures > 0) {
      publishFailures--;
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    }
    return { MessageId: `m-${++messages}` };
  });
});

const ARN = 'arn:aws:states:eu-central-1:111122223333:execution:Caretaker-prod-RoutineMaintenance';
/** A run of the recorded report's flow, `failed` or clean, started at `startedAt`. */
function run(name: string, startedAt: string, failed: boolean) {
  return {
    ...recorded,
    executionArn: `${ARN}:${name}`,
    startedAt,
    finishedAt: undefined,
    health: undefined,
    snapshots: [],
    backups: failed
      ? [{ set: 'uploads', status: 'failed', error: { name: 'NotFoundError', message: 'no bucket' } }]
      : [{ set: 'uploads', status: 'succeeded', verification: { ok: true } }],
  };
}
const subjects = () => snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input.Subject);

describe('report handler', () => {
  it('writes the JSON and Markdown report under the execution name, tagged as managed', async () => {
    const result = await handler(recorded, fakeContext('report'));

    const puts = s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    const reports = puts.filter((p) => p.Key !== INCIDENT_KEY);
    expect(reports.map((p) => p.Key).sort()).toEqual([
      'reports/RoutineMaintenance/2026-11-21/nightly-2026-11-21.json',
      'reports/RoutineMaintenance/2026-11-21/nightly-2026-11-21.md',
    ]);
    for (const put of puts) {
      expect(put.Bucket).toBe('caretaker-prod-backups');
      // An S3 Tagging header is URL query encoded.
      expect(new URLSearchParams(put.Tagging).get('caretaker:managed')).toBe('true');
    }
    const json = JSON.parse(String(reports.find((p) => p.Key?.endsWith('.json'))!.Body));
    expect(json.findings.severity).toBe('critical');
    expect(json.environment).toBe('prod');
    expect(result).toMatchObject({ severity: 'critical', failures: 1, warnings: 2, messageId: 'm-1' });
  });

  it('alerts a failed run as critical, naming what failed, what was rolled back and what to do', async () => {
    await handler(recorded, fakeContext('report'));

    const [call] = snsMock.commandCalls(PublishCommand);
    const input = call!.args[0].input;
    expect(input.Subject).toBe(
      '[CRITICAL] Caretaker prod RoutineMaintenance: Verification of backup 20261121T010012Z-9b01d2aa f...',
    );
    expect(input.MessageAttributes?.severity?.StringValue).toBe('critical');
    expect(input.Message).toContain(
      'Where: s3://caretaker-prod-backups/reports/RoutineMaintenance/2026-11-21/nightly-2026-11-21.md',
    );
    expect(input.Message).toContain('FAILURE: Verification of backup 20261121T010012Z-9b01d2aa failed');
    expect(input.Message).toContain('ROLLED BACK: nothing');
    expect(input.Message).toContain('WARNING: Manual snapshots at 86 of 100');
    expect(input.Message).toContain('What to do: Do what each failure below says');
    expect(input.Message).toContain(`Open in console: https://eu-central-1.console.aws.amazon.com/states/`);
  });

  it('alerts once per failed run and once, as resolved, when a later run of the flow succeeds', async () => {
    await handler(run('night-1', '2026-11-21T01:00:00Z', true), fakeContext('report'));
    await handler(run('night-2', '2026-11-22T01:00:00Z', true), fakeContext('report'));
    await handler(run('night-3', '2026-11-23T01:00:00Z', false), fakeContext('report'));
    await handler(run('night-4', '2026-11-24T01:00:00Z', false), fakeContext('report'));

    expect(subjects()).toEqual([
      '[CRITICAL] Caretaker prod RoutineMaintenance: Backup of uploads failed: NotFoundError: no bucket',
      '[CRITICAL] Caretaker prod RoutineMaintenance: Backup of uploads failed: NotFoundError: no bucket',
      '[CRITICAL] Caretaker prod RoutineMaintenance: Resolved: Routine maintenance succeeded again',
      '[INFO] Caretaker prod RoutineMaintenance: Routine maintenance report: everything succeeded',
    ]);
    const messages = snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input.Message!);
    expect(messages[1]).toContain(
      `STILL FAILING: the 2nd failed run in a row; the incident was opened by ${ARN}:night-1`,
    );
    expect(messages[2]).toContain(
      `RESOLVED: the incident opened by ${ARN}:night-1 (started 2026-11-21T01:00:00Z) after 2 failed runs.`,
    );
  });

  it('does not alert again when the same run is reported twice (a retried report step)', async () => {
    const failed = run('night-1', '2026-11-21T01:00:00Z', true);

    const first = await handler(failed, fakeContext('report'));
    const again = await handler(failed, fakeContext('report'));

    expect(subjects()).toHaveLength(1);
    expect(again).toEqual(first);
  });

  it('words a retried report as the first attempt did when its alert could not be published', async () => {
    await handler(run('night-1', '2026-11-21T01:00:00Z', true), fakeContext('report'));
    const fixed = run('night-2', '2026-11-22T01:00:00Z', false);
    publishFailures = 1;

    await expect(handler(fixed, fakeContext('report'))).rejects.toBeDefined();
    await handler(fixed, fakeContext('report'));

    expect(subjects().at(-1)).toBe(
      '[CRITICAL] Caretaker prod RoutineMaintenance: Resolved: Routine maintenance succeeded again',
    );
  });

  it('decides again when another run of the flow stored its decision meanwhile', async () => {
    await handler(run('night-1', '2026-11-21T01:00:00Z', true), fakeContext('report'));
    const concurrent = JSON.parse(objects.get(INCIDENT_KEY)!);
    concurrent.open.failedRuns = 2;
    concurrent.last = null;
    beforeWrite = (key) => {
      if (key !== INCIDENT_KEY) return;
      beforeWrite = undefined;
      // Another run (a second failure) stores its state between this run's read and write.
      objects.set(INCIDENT_KEY, JSON.stringify(concurrent));
    };

    await handler(run('night-3', '2026-11-23T01:00:00Z', false), fakeContext('report'));

    const messages = snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input.Message!);
    expect(messages.at(-1)).toContain('after 2 failed runs');
    expect(JSON.parse(objects.get(INCIDENT_KEY)!)).toMatchObject({
      open: null,
      last: { decision: 'resolved' },
    });
  });

  it('does not resolve an incident with a run that started before the failure', async () => {
    await handler(run('night-2', '2026-11-22T01:00:00Z', true), fakeContext('report'));
    await handler(run('night-1', '2026-11-21T01:00:00Z', false), fakeContext('report'));

    expect(subjects().at(-1)).toBe(
      '[INFO] Caretaker prod RoutineMaintenance: Routine maintenance report: everything succeeded',
    );
    expect(JSON.parse(objects.get(INCIDENT_KEY)!).open).toMatchObject({ openedBy: `${ARN}:night-2` });
  });

  it('treats an incident state it cannot read as no incident, and still alerts the failure', async () => {
    objects.set(INCIDENT_KEY, '{"format":"caretaker.report.incident-state","flow":"Backup","open":"yes"}');

    await handler(run('night-1', '2026-11-21T01:00:00Z', true), fakeContext('report'));

    expect(subjects()).toEqual([expect.stringMatching(/^\[CRITICAL\] .*Backup of uploads failed/)]);
    expect(JSON.parse(objects.get(INCIDENT_KEY)!)).toMatchObject({
      flow: 'RoutineMaintenance',
      open: { failedRuns: 1 },
    });
  });

  it('rejects a run record with a bad field before writing or publishing anything', async () => {
    const bad = { ...recorded, backups: [{ set: 'uploads', status: 'sort-of' }] };

    await expect(handler(bad, fakeContext('report'))).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('backups[0].status'),
    });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });
});
