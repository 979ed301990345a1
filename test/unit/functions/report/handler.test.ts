import { readFileSync } from 'node:fs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeContext } from '../../../support/lambda-context.ts';

const s3Mock = mockClient(S3Client);
const snsMock = mockClient(SNSClient);
const recorded = JSON.parse(readFileSync('test/fixtures/report/routine-maintenance-run.json', 'utf8'));
let handler: typeof import('../../../../functions/report/handler.ts')['handler'];

beforeAll(async () => {
  process.env.BACKUP_BUCKET = 'caretaker-prod-backups';
  process.env.ALERT_TOPIC_ARN = 'arn:aws:sns:eu-central-1:111122223333:caretaker-alerts';
  process.env.CARETAKER_ENVIRONMENT = 'prod';
  ({ handler } = await import('../../../../functions/report/handler.ts'));
});

beforeEach(() => {
  s3Mock.reset();
  snsMock.reset();
  s3Mock.on(PutObjectCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

describe('report handler', () => {
  it('writes the JSON and Markdown report under the execution name, tagged as managed', async () => {
    const result = await handler(recorded, fakeContext('report'));

    const puts = s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(puts.map((p) => p.Key).sort()).toEqual([
      'reports/RoutineMaintenance/2026-11-21/nightly-2026-11-21.json',
      'reports/RoutineMaintenance/2026-11-21/nightly-2026-11-21.md',
    ]);
    for (const put of puts) {
      expect(put.Bucket).toBe('caretaker-prod-backups');
      expect(put.Tagging).toContain('caretaker:managed=true');
    }
    const json = JSON.parse(String(puts.find((p) => p.Key?.endsWith('.json'))!.Body));
    expect(json.findings.severity).toBe('critical');
    expect(json.environment).toBe('prod');
    expect(result).toMatchObject({ severity: 'critical', failures: 1, warnings: 2, messageId: 'm-1' });
  });

  it('summarises the run through the topic with its severity, the report location and each finding', async () => {
    await handler(recorded, fakeContext('report'));

    const [call] = snsMock.commandCalls(PublishCommand);
    const input = call!.args[0].input;
    expect(input.Subject).toBe(
      '[CRITICAL] Caretaker prod RoutineMaintenance: Routine maintenance report: 1 failure, 2 warnings',
    );
    expect(input.MessageAttributes?.severity?.StringValue).toBe('critical');
    expect(input.Message).toContain(
      'Where: s3://caretaker-prod-backups/reports/RoutineMaintenance/2026-11-21/nightly-2026-11-21.md',
    );
    expect(input.Message).toContain('FAILURE: Verification of backup 20261121T010012Z-9b01d2aa failed');
    expect(input.Message).toContain('WARNING: Manual snapshots at 86 of 100');
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
