/**
 * escalation: on its schedule (every `alerts.escalation.checkEveryMinutes`), looks at each flow's
 * open incident (report's state, reports/<flow>/incident.json) and pages the next escalation level
 * whose time has come, once (escalation.ts). The page is recorded in the incident state before it
 * is published (a conditional write: two runs cannot both page a level), and its message id after.
 */
import * as z from 'zod';
import { publishAlert } from '#common/alerts/publish-alert';
import { ENV } from '#common/contract';
import { STATE_MACHINE_FLOWS } from '#common/flows/names';
import { requireEnv } from '#common/runtime/env';
import { jsonEnv } from '#common/runtime/json-env';
import { caretakerHandler } from '#common/runtime/middleware';
import { logger } from '#common/runtime/observability';
import { readIncidentState, writeIncidentState } from '../report/incident-store.ts';
import {
  type EscalationLevel,
  escalationAlert,
  levelToPage,
  withPaged,
  withPublishedLevel,
} from './escalation.ts';

const BUCKET = requireEnv(ENV.backupBucket);
const TOPIC_ARN = requireEnv(ENV.alertTopicArn);
const ENVIRONMENT = requireEnv(ENV.environmentName);
const LEVELS: readonly EscalationLevel[] = jsonEnv(
  ENV.escalationLevels,
  z.array(z.object({ respondWithinMinutes: z.number().int().positive() }).strip()).min(1),
);

/** What one escalation run did, per flow with an open incident. */
export interface EscalationRun {
  readonly paged: { readonly flow: string; readonly level: number; readonly messageId: string }[];
  readonly open: string[];
}

/** Pages what is due at `now`. */
export async function escalate(now = new Date()): Promise<EscalationRun> {
  const paged: EscalationRun['paged'] = [];
  const open: string[] = [];
  for (const flow of STATE_MACHINE_FLOWS) {
    const { state, etag } = await readIncidentState(BUCKET, flow);
    if (!state?.open) continue;
    open.push(flow);
    const due = levelToPage(state.open, LEVELS, now.getTime());
    if (!due) continue;
    // Recorded first: a run that loses this race leaves the level to the one that won it.
    if (!(await writeIncidentState(BUCKET, withPaged(state, due.level, now), etag))) {
      logger.info('The incident state changed meanwhile: the next run decides again', { flow });
      continue;
    }
    const published = await publishAlert(
      TOPIC_ARN,
      ENVIRONMENT,
      escalationAlert(flow, state.open, due.level, LEVELS, now),
      now,
      { escalation: `level-${due.level}` },
    );
    paged.push({ flow, level: due.level, messageId: published.messageId });
    const current = await readIncidentState(BUCKET, flow);
    const next =
      current.state && withPublishedLevel(current.state, state.open, due.level, published.messageId);
    if (next && !(await writeIncidentState(BUCKET, next, current.etag))) {
      logger.warn('Could not record the escalation message id: a later run may page this level again', {
        flow,
        level: due.level,
      });
    }
  }
  if (paged.length > 0) logger.info('Escalated', { paged });
  return { paged, open };
}

export const handler = caretakerHandler('escalation', z.object({}).strict(), () => escalate());
