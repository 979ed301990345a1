/**
 * notify: publishes one alert to the Caretaker topic with `severity` and `flow` attributes.
 * Flows call it from their Catch branches; EventBridge calls it when an alarm changes state.
 */
import { alertSchema } from '#common/alerts/alert-schema';
import { publishAlert } from '#common/alerts/publish-alert';
import { ENV } from '#common/contract';
import { requireEnv } from '#common/runtime/env';
import { caretakerHandler } from '#common/runtime/middleware';

const TOPIC_ARN = requireEnv(ENV.alertTopicArn);
const ENVIRONMENT = requireEnv(ENV.environmentName);

export const handler = caretakerHandler('notify', alertSchema, (alert) =>
  publishAlert(TOPIC_ARN, ENVIRONMENT, alert),
);
