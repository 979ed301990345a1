/**
 * Pure formatting of an alert into an SNS message: subject, body and attributes.
 */
import type { Alert } from './alert-schema.ts';

/** SNS accepts subjects under 100 characters, ASCII, without line breaks or control characters. */
export const MAX_SUBJECT_LENGTH = 99;

export interface AlertMessage {
  readonly subject: string;
  readonly body: string;
  readonly attributes: Readonly<Record<'severity' | 'flow' | 'environment', string>>;
}

const CONSOLE_HOSTS: Readonly<Record<string, string>> = {
  aws: 'console.aws.amazon.com',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
  'aws-cn': 'console.amazonaws.cn',
};

/** The Step Functions console link for an execution ARN, in the ARN's own partition and region. */
export function executionConsoleUrl(executionArn: string): string {
  const [, partition = 'aws', , region = 'us-east-1'] = executionArn.split(':');
  const host = CONSOLE_HOSTS[partition] ?? CONSOLE_HOSTS.aws;
  return `https://${region}.${host}/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}

/** Makes text safe for an SNS subject: ASCII, one line, at most {@link MAX_SUBJECT_LENGTH} characters. */
export function toSubject(text: string): string {
  const ascii = text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (ascii.length <= MAX_SUBJECT_LENGTH) return ascii;
  return `${ascii.slice(0, MAX_SUBJECT_LENGTH - 3).trimEnd()}...`;
}

/** Formats an alert for the topic: a subject line, a body that stands on its own, and attributes. */
export function formatAlert(alert: Alert, environment: string, now: Date): AlertMessage {
  const subject = toSubject(
    `[${alert.severity.toUpperCase()}] Caretaker ${environment} ${alert.flow}: ${alert.summary}`,
  );
  const lines = [
    `${alert.severity.toUpperCase()} - ${alert.flow} in environment "${environment}"`,
    '',
    `What happened: ${alert.summary}`,
    `Where: ${alert.where}`,
    `What to do: ${alert.action}`,
    `When: ${now.toISOString()}`,
  ];
  if (alert.executionArn) {
    lines.push(
      `Execution: ${alert.executionArn}`,
      `Open in console: ${executionConsoleUrl(alert.executionArn)}`,
    );
  }
  if (alert.details) lines.push('', 'Details:', alert.details);
  if (alert.evidence && Object.keys(alert.evidence).length > 0) {
    lines.push('', 'Evidence:', JSON.stringify(alert.evidence, null, 2));
  }
  return {
    subject,
    body: lines.join('\n'),
    attributes: { severity: alert.severity, flow: alert.flow, environment },
  };
}
