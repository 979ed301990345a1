/**
 * Where each flow's incident state lives: `reports/<flow>/incident.json` in the backup bucket,
 * next to the flow's reports, read and written by `report` only (its role may read nothing else
 * there). An unreadable or malformed state is logged and treated as "no incident open": that can
 * cost a "resolved" message, never a failure alert.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3 } from '#common/clients';
import { isErrorNamed } from '#common/errors';
import { logger } from '#common/observability';
import { type IncidentState, incidentKey, incidentStateSchema } from './incident.ts';

/** The stored state of `flow`, or undefined when there is none (or it cannot be trusted). */
export async function readIncidentState(bucket: string, flow: string): Promise<IncidentState | undefined> {
  const Key = incidentKey(flow);
  let text: string;
  try {
    const got = await s3().send(new GetObjectCommand({ Bucket: bucket, Key }));
    text = (await got.Body?.transformToString()) ?? '';
  } catch (error) {
    if (isErrorNamed(error, 'NoSuchKey', 'NotFound')) return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    logger.warn('Incident state is not JSON: treated as no incident open', {
      key: Key,
      error: String(error),
    });
    return undefined;
  }
  const parsed = incidentStateSchema.safeParse(json);
  if (!parsed.success || parsed.data.flow !== flow) {
    logger.warn('Incident state does not match its schema: treated as no incident open', {
      key: Key,
      issues: parsed.success ? [`flow ${parsed.data.flow}`] : parsed.error.issues.map((i) => i.message),
    });
    return undefined;
  }
  return parsed.data;
}

/** Stores `state` (tagged as Caretaker's own, like the reports). */
export async function writeIncidentState(bucket: string, state: IncidentState): Promise<void> {
  await s3().send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: incidentKey(state.flow),
      Body: JSON.stringify(state, null, 2),
      ContentType: 'application/json',
      Tagging: `caretaker:managed=true&caretaker:kind=incident-state&caretaker:flow=${state.flow}`,
    }),
  );
}
