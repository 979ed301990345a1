/**
 * Publishing an alert to the Caretaker topic: one SNS message with `severity`, `flow` and
 * `environment` attributes. Used by notify and by every function that reports (report).
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { sns } from '../runtime/clients.ts';
import { logger, metrics } from '../runtime/observability.ts';
import { formatAlert } from './alert-message.ts';
import type { Alert } from './alert-schema.ts';

export interface PublishedAlert {
  readonly messageId: string;
  readonly subject: string;
  readonly severity: Alert['severity'];
}

/**
 * Publishes `alert` to `topicArn` and returns the SNS message id. `extraAttributes` adds message
 * attributes subscriptions filter on (`escalation`: a level, or the levels an incident paged);
 * a list is sent as String.Array.
 */
export async function publishAlert(
  topicArn: string,
  environment: string,
  alert: Alert,
  now = new Date(),
  extraAttributes: Readonly<Record<string, string | readonly string[]>> = {},
): Promise<PublishedAlert> {
  const message = formatAlert(alert, environment, now);
  const result = await sns().send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: message.subject,
      Message: message.body,
      MessageAttributes: {
        ...Object.fromEntries(
          Object.entries(message.attributes).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
        ...Object.fromEntries(
          Object.entries(extraAttributes).map(([name, value]) => [
            name,
            typeof value === 'string'
              ? { DataType: 'String', StringValue: value }
              : { DataType: 'String.Array', StringValue: JSON.stringify(value) },
          ]),
        ),
      },
    }),
  );
  logger.info('Alert published', { severity: alert.severity, flow: alert.flow, messageId: result.MessageId });
  metrics.addMetric(`Alerts_${alert.severity}`, 'Count', 1);
  return { messageId: result.MessageId ?? '', subject: message.subject, severity: alert.severity };
}
