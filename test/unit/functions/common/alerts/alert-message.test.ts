import { describe, expect, it } from 'vitest';
import {
  executionConsoleUrl,
  formatAlert,
  MAX_SUBJECT_LENGTH,
  toSubject,
} from '../../../../../functions/common/alerts/alert-message.ts';
import type { Alert } from '../../../../../functions/common/alerts/alert-schema.ts';

const alert: Alert = {
  severity: 'critical',
  flow: 'Update',
  summary: 'Update of orders-prod rolled back',
  where: 'RDS instance orders-prod (eu-central-1)',
  action: 'Check the engine upgrade notes, then re-run the Update flow',
  executionArn: 'arn:aws:states:eu-central-1:111122223333:execution:Caretaker-Update:upgrade-16',
};

describe('formatAlert', () => {
  it('says what happened, where and what to do, with a console link', () => {
    const message = formatAlert(alert, 'prod', new Date('2026-03-01T02:00:00Z'));

    expect(message.body).toContain('What happened: Update of orders-prod rolled back');
    expect(message.body).toContain('Where: RDS instance orders-prod (eu-central-1)');
    expect(message.body).toContain('What to do: Check the engine upgrade notes');
    expect(message.body).toContain('When: 2026-03-01T02:00:00.000Z');
    expect(message.body).toContain(
      'https://eu-central-1.console.aws.amazon.com/states/home?region=eu-central-1#/v2/executions/details/',
    );
  });

  it('carries severity, flow and environment as attributes', () => {
    expect(formatAlert(alert, 'prod', new Date()).attributes).toEqual({
      severity: 'critical',
      flow: 'Update',
      environment: 'prod',
    });
  });

  it('starts the subject with the severity and environment', () => {
    expect(formatAlert(alert, 'prod', new Date()).subject).toBe(
      '[CRITICAL] Caretaker prod Update: Update of orders-prod rolled back',
    );
  });

  it('appends structured evidence as JSON', () => {
    const message = formatAlert({ ...alert, evidence: { p95Ms: 412 } }, 'prod', new Date());

    expect(message.body).toContain('"p95Ms": 412');
  });
});

describe('toSubject', () => {
  it('cuts long subjects to the SNS limit with an ellipsis', () => {
    const subject = toSubject('x'.repeat(300));

    expect(subject).toHaveLength(MAX_SUBJECT_LENGTH);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('removes line breaks and non-ASCII characters SNS rejects', () => {
    expect(toSubject('Backup\nfailed — größe ✓')).toBe('Backup failed grosse');
  });
});

describe('executionConsoleUrl', () => {
  it('uses the partition console host', () => {
    expect(executionConsoleUrl('arn:aws-cn:states:cn-north-1:111122223333:execution:m:e')).toMatch(
      /^https:\/\/cn-north-1\.console\.amazonaws\.cn\//,
    );
  });
});
