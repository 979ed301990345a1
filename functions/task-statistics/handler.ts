/**
 * task-statistics: for every task of every flow, runs, successes, failures, retries, mean and
 * longest duration over the last days (default 30), from the executions' history (DESIGN §11);
 * published as metrics and returned for the routine-maintenance report. Reads at most
 * `maxExecutions` of each flow's newest executions, and says when there were more.
 */
import {
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type SFNClient,
  type HistoryEvent as SfnHistoryEvent,
} from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { ENV } from '#common/contract';
import { STATE_MACHINE_FLOWS, type StateMachineFlow } from '#common/flows/names';
import type { StatisticsResult } from '#common/maintenance/maintenance-results';
import { sfn } from '#common/runtime/clients';
import { requireEnv } from '#common/runtime/env';
import { permanentErrorInfo } from '#common/runtime/error-info';
import { jsonEnv } from '#common/runtime/json-env';
import { mapLimited } from '#common/runtime/map-limited';
import { caretakerHandler } from '#common/runtime/middleware';
import { logger } from '#common/runtime/observability';
import { aggregateTallies, type TaskTally, taskTallies } from './aggregate.ts';
import { publishStatistics } from './metrics.ts';

/** `arn:<partition>:states:<region>:<account>:stateMachine:`: a state machine's name completes it. */
const STATE_MACHINE_ARN_PREFIX = requireEnv(ENV.stateMachineArnPrefix);
/**
 * The state machine of each flow, by name (`Caretaker-<environment>-<Flow>`): names, not ARNs, so
 * the stack can give them to a function that a flow invokes without a dependency cycle.
 */
const STATE_MACHINES = jsonEnv(
  ENV.stateMachineNames,
  z.partialRecord(z.enum(STATE_MACHINE_FLOWS), z.string().min(1).max(80)),
);
const FLOWS = STATE_MACHINE_FLOWS.filter((flow) => STATE_MACHINES[flow] !== undefined);
const DAY = 86_400_000;

const eventSchema = z
  .object({
    days: z.number().int().min(1).max(90).default(30),
    /** Newest executions read per flow. */
    maxExecutions: z.number().int().min(1).max(1000).default(200),
    executionId: z.string().min(1).max(256).optional(),
  })
  .strict();

export interface StatisticsDeps {
  readonly sfn: SFNClient;
  readonly now: Date;
  /** The state machine ARN of a flow. */
  readonly stateMachineArn: (flow: StateMachineFlow) => string;
}

async function historyOf(client: SFNClient, executionArn: string): Promise<SfnHistoryEvent[]> {
  const events: SfnHistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 1000,
        includeExecutionData: false,
        nextToken,
      }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

async function flowStatistics(
  deps: StatisticsDeps,
  flow: StateMachineFlow,
  since: number,
  maxExecutions: number,
): Promise<StatisticsResult['flows'][number]> {
  try {
    const executions: string[] = [];
    let truncated = false;
    let nextToken: string | undefined;
    // Newest first: stop at the first execution older than the window.
    outer: do {
      const page = await deps.sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: deps.stateMachineArn(flow),
          maxResults: 100,
          nextToken,
        }),
      );
      for (const execution of page.executions ?? []) {
        if ((execution.startDate?.getTime() ?? 0) < since) break outer;
        // Only finished runs: a running one's tasks (this very run's, too) are still in flux.
        if (execution.status === 'RUNNING') continue;
        if (executions.length === maxExecutions) {
          truncated = true;
          break outer;
        }
        executions.push(execution.executionArn!);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    const tallies: Map<string, TaskTally>[] = await mapLimited(executions, 4, async (arn) =>
      taskTallies(
        (await historyOf(deps.sfn, arn)).map((event) => ({
          id: event.id ?? 0,
          ...(event.previousEventId !== undefined ? { previousEventId: event.previousEventId } : {}),
          timestamp: event.timestamp ?? new Date(0),
          type: event.type ?? '',
          ...(event.stateEnteredEventDetails
            ? { stateEnteredEventDetails: { name: event.stateEnteredEventDetails.name ?? '?' } }
            : {}),
        })),
      ),
    );
    return { flow, executions: executions.length, truncated, tasks: aggregateTallies(tallies) };
  } catch (error) {
    return { flow, executions: 0, truncated: false, tasks: [], error: permanentErrorInfo(error) };
  }
}

/** The statistics of every flow over the last `days`. */
export async function computeStatistics(
  event: z.output<typeof eventSchema>,
  deps: StatisticsDeps,
  flows: readonly StateMachineFlow[] = FLOWS,
): Promise<StatisticsResult> {
  const until = deps.now.getTime();
  const since = until - event.days * DAY;
  const results = await mapLimited(flows, 2, (flow) =>
    flowStatistics(deps, flow, since, event.maxExecutions),
  );
  return {
    days: event.days,
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    flows: results,
  };
}

export const handler = caretakerHandler('task-statistics', eventSchema, async (event) => {
  const result = await computeStatistics(event, {
    sfn: sfn(),
    now: new Date(),
    stateMachineArn: (flow) => `${STATE_MACHINE_ARN_PREFIX}${STATE_MACHINES[flow]}`,
  });
  publishStatistics(result);
  logger.info('Task statistics computed', {
    executions: Object.fromEntries(result.flows.map((f) => [f.flow, f.executions])),
  });
  return result;
});
