/**
 * Where each flow's incident state lives: `reports/<flow>/incident.json` in the backup bucket,
 * next to the flow's reports, read and written by `report` only (its role may read nothing else
 * there). Writes are conditional on the version read (S3 `If-Match`, or `If-None-Match: *` for the
 * first one), so two runs of a flow reporting at the same moment cannot overwrite each other's
 * decision: the second one decides again on the first one's state. An unreadable or malformed
 * state is logged and treated as "no incident open": that can cost a "resolved" message, never a
 * failure alert.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { MANAGED_VALUE, s3Tagging, TAG } from '#common/contract';
import { s3 } from '#common/runtime/clients';
import { isErrorNamed } from '#common/runtime/errors';
import { logger } from '#common/runtime/observability';
import { type IncidentState, incidentKey, incidentStateSchema } from './incident.ts';

/** A stored state and the version it was read at (undefined: no object yet). */
export interface StoredIncidentState {
  readonly state: IncidentState | undefined;
  readonly etag: string | undefined;
}

/** The stored state of `flow` (undefined when there is none, or it cannot be trusted) and its ETag. */
export async function readIncidentState(bucket: string, flow: string): Promise<StoredIncidentState> {
  const Key = incidentKey(flow);
  let text: string;
  let etag: string | undefined;
  try {
    const got = await s3().send(new GetObjectCommand({ Bucket: bucket, Key }));
    text = (await got.Body?.transformToString()) ?? '';
    etag = got.ETag;
  } catch (error) {
    if (isErrorNamed(error, 'NoSuchKey', 'NotFound')) return { state: undefined, etag: undefined };
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
    return { state: undefined, etag };
  }
  const parsed = incidentStateSchema.safeParse(json);
  if (!parsed.success || parsed.data.flow !== flow) {
    logger.warn('Incident state does not match its schema: treated as no incident open', {
      key: Key,
      issues: parsed.success ? [`flow ${parsed.data.flow}`] : parsed.error.issues.map((i) => i.message),
    });
    return { state: undefined, etag };
  }
  return { state: parsed.data, etag };
}

/**
 * Stores `state` over the version `etag` (tagged as Caretaker's own, like the reports). False when
 * the object changed since it was read: another run of the flow reported meanwhile.
 */
export async function writeIncidentState(
  bucket: string,
  state: IncidentState,
  etag: string | undefined,
): Promise<boolean> {
  try {
    await s3().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: incidentKey(state.flow),
        Body: JSON.stringify(state, null, 2),
        ContentType: 'application/json',
        Tagging: s3Tagging({
          [TAG.managed]: MANAGED_VALUE,
          [TAG.kind]: 'incident-state',
          [TAG.flow]: state.flow,
        }),
        ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
      }),
    );
    return true;
  } catch (error) {
    if (isErrorNamed(error, 'PreconditionFailed', 'ConditionalRequestConflict')) return false;
    throw error;
  }
}
