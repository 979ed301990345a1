/**
 * notify: publishes one alert to the Caretaker topic with `severity` and `flow` attributes.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { type Alert, alertSchema } from '#common/alert-schema';
import { sns } from '#common/clients';
import { requireEnv } from '#common/env';
import { caretakerHandler } from '#common/middleware';
import { logger, metrics } from '#common/observability';
import { formatAlert } from './message.ts';

const TOPIC_ARN = requireEnv('ALERT_TOPIC_ARN');
const ENVIRONMENT = requireEnv('CARETAKER_ENVIRONMENT');

export interface NotifyResult {
  readonly messageId: string;
  readonly subject: string;
  readonly severity: Alert['severity'];
}

/** Publishes the alert and returns the SNS message id. */
export async function notify(alert: Alert, now = new Date()): Promise<NotifyResult> {
  const message = formatAlert(alert, ENVIRONMENT, now);
  const result = await sns().send(
    new PublishCommand({
      TopicArn: TOPIC_ARN,
      Subject: message.subject,
      Message: message.body,
      MessageAttributes: Object.fromEntries(
        Object.entries(message.attributes).map(([name, value]) => [
          name,
          { DataType: 'String', StringValue: value },
        ]),
      ),
    }),
  );
  logger.info('Alert published', { severity: alert.severity, flow: alert.flow, messageId: result.MessageId });
  metrics.addMetric(`Alerts_${alert.severity}`, 'Count', 1);
  return { messageId: result.MessageId ?? '', subject: message.subject, severity: alert.severity };
}

export const handler = caretakerHandler('notify', alertSchema, (alert) => notify(alert));
