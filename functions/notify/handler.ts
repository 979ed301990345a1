/**
 * notify: publishes one alert to the Caretaker topic with `severity` and `flow` attributes.
 * Flows call it from their Catch branches; EventBridge calls it when an alarm changes state.
 */
import { alertSchema } from '#common/alert-schema';
import { requireEnv } from '#common/env';
import { caretakerHandler } from '#common/middleware';
import { publishAlert } from '#common/publish-alert';

const TOPIC_ARN = requireEnv('ALERT_TOPIC_ARN');
const ENVIRONMENT = requireEnv('CARETAKER_ENVIRONMENT');

export const handler = caretakerHandler('notify', alertSchema, (alert) =>
  publishAlert(TOPIC_ARN, ENVIRONMENT, alert),
);
