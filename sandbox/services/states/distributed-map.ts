/**
 * A Map state in DISTRIBUTED mode, with its AWS meaning: a Map Run whose items come from the
 * input (ItemsPath) or from S3 (ItemReader), shaped by ItemSelector, grouped by ItemBatcher, each
 * processed by a separate child execution of the ItemProcessor (at most MaxConcurrency at once),
 * failing with States.ExceedToleratedFailureThreshold once more items fail than tolerated, and
 * writing results to S3 when there is a ResultWriter.
 */

import { randomUUID } from 'node:crypto';
import { check } from '../../core/access/checks.ts';
import { accessDeniedMessage } from '../../core/access/messages.ts';
import { type AslState, prepareDefinition } from './definition.ts';
import type { StartOptions } from './execution.ts';
import { json } from './history.ts';
import { type ItemSource, type ReaderConfig, readItems } from './item-reader.ts';
import type { ExecutionRecord, ItemCounts, MapRunRecord } from './model.ts';
import { evaluatePath, evaluateTemplate, referencePath, runtimeError, StatesError } from './paths.ts';
import { type ChildResult, writeResults } from './result-writer.ts';
import { historyBarrier, type TaskScope } from './tasks.ts';

export interface DistributedScope extends TaskScope {
  readonly parent: ExecutionRecord;
  readonly startChild: (options: StartOptions) => ExecutionRecord;
}

/** AWS's cap on one child's input. */
const MAX_BATCH_BYTES = 256 * 1024;

function counts(): ItemCounts {
  return {
    pending: 0,
    running: 0,
    succeeded: 0,
    failed: 0,
    timedOut: 0,
    aborted: 0,
    total: 0,
    resultsWritten: 0,
  };
}

/** Reads `<Field>` or evaluates `<Field>Path`; undefined when neither is set. */
async function numberField(
  holder: Record<string, unknown>,
  field: string,
  input: unknown,
  context: Record<string, unknown>,
): Promise<number | undefined> {
  if (typeof holder[field] === 'number') return holder[field] as number;
  const path = holder[`${field}Path`];
  if (typeof path !== 'string') return undefined;
  const value = await evaluatePath(path, input, context);
  if (typeof value !== 'number' || value < 0) {
    throw runtimeError(
      `${field}Path ${path} must point to a non-negative number, got ${json(value ?? null)}`,
    );
  }
  return value;
}

async function loadItems(state: AslState, input: unknown, scope: DistributedScope): Promise<unknown[]> {
  const reader = state.ItemReader as
    | { Resource?: string; Parameters?: unknown; ReaderConfig?: ReaderConfig & Record<string, unknown> }
    | undefined;
  if (!reader) {
    const path = typeof state.ItemsPath === 'string' ? state.ItemsPath : '$';
    const items = referencePath(path, input, scope.context);
    if (!Array.isArray(items)) {
      throw runtimeError(`Map state input must be an array, or ItemsPath must point to an array: ${path}`);
    }
    return items;
  }
  const config = reader.ReaderConfig ?? {};
  const parameters = (await evaluateTemplate(reader.Parameters ?? {}, input, scope.context)) as Record<
    string,
    unknown
  >;
  const source: ItemSource = {
    resource: String(reader.Resource ?? ''),
    parameters,
    config,
    maxItems: (await numberField(config, 'MaxItems', input, scope.context)) ?? 0,
  };
  const bucketRegion = scope.region;
  return readItems(scope.engine.s3(bucketRegion, scope.identity), source);
}

/** Groups child inputs per ItemBatcher: `{ Items: [...], BatchInput }`, within both limits. */
async function batch(items: unknown[], state: AslState, input: unknown, scope: DistributedScope) {
  const batcher = state.ItemBatcher as Record<string, unknown> | undefined;
  if (!batcher) return items.map((item) => ({ input: item, size: 1 }));
  const maxItems = (await numberField(batcher, 'MaxItemsPerBatch', input, scope.context)) ?? 0;
  const maxBytes = Math.min(
    (await numberField(batcher, 'MaxInputBytesPerBatch', input, scope.context)) ?? MAX_BATCH_BYTES,
    MAX_BATCH_BYTES,
  );
  const batchInput =
    batcher.BatchInput === undefined
      ? undefined
      : await evaluateTemplate(batcher.BatchInput, input, scope.context);
  const wrap = (group: unknown[]) => ({
    ...(batchInput !== undefined ? { BatchInput: batchInput } : {}),
    Items: group,
  });
  const batches: { input: unknown; size: number }[] = [];
  let group: unknown[] = [];
  for (const item of items) {
    const candidate = [...group, item];
    const tooMany = maxItems > 0 && candidate.length > maxItems;
    const tooBig = Buffer.byteLength(json(wrap(candidate))) > maxBytes;
    if (group.length > 0 && (tooMany || tooBig)) {
      batches.push({ input: wrap(group), size: group.length });
      group = [item];
    } else {
      if (group.length === 0 && tooBig) {
        throw runtimeError(`An item does not fit in MaxInputBytesPerBatch (${maxBytes} bytes)`);
      }
      group = candidate;
    }
  }
  if (group.length > 0) batches.push({ input: wrap(group), size: group.length });
  return batches;
}

function childResult(child: ExecutionRecord): ChildResult {
  return {
    ExecutionArn: child.executionArn,
    Input: child.input,
    InputDetails: { Included: true },
    Name: child.name,
    ...(child.output !== undefined
      ? { Output: child.output, OutputDetails: { Included: true as const } }
      : {}),
    ...(child.error !== undefined ? { Error: child.error } : {}),
    ...(child.cause !== undefined ? { Cause: child.cause } : {}),
    RedriveCount: 0,
    RedriveStatus: child.status === 'SUCCEEDED' ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
    StartDate: child.startDate.toISOString(),
    StateMachineArn: child.stateMachineArn,
    Status: child.status,
    ...(child.stopDate ? { StopDate: child.stopDate.toISOString() } : {}),
  };
}

/** Runs the Map Run and returns the Map state's result. */
export async function runDistributedMap(
  stateName: string,
  state: AslState,
  input: unknown,
  scope: DistributedScope,
): Promise<unknown> {
  await historyBarrier();
  const { engine, history, parent, region } = scope;
  const label = typeof state.Label === 'string' && state.Label.length > 0 ? state.Label : stateName;
  const childMachineName = `${parent.stateMachineName}/${label}`;
  const childMachineArn = `arn:aws:states:${region}:${engine.accountId}:stateMachine:${childMachineName}`;
  const mapRunArn = `arn:aws:states:${region}:${engine.accountId}:mapRun:${childMachineName}:${randomUUID()}`;
  const maxConcurrency = (await numberField(state, 'MaxConcurrency', input, scope.context)) ?? 0;
  const percentage = await numberField(state, 'ToleratedFailurePercentage', input, scope.context);
  const count = await numberField(state, 'ToleratedFailureCount', input, scope.context);
  const run: MapRunRecord = {
    mapRunArn,
    executionArn: parent.executionArn,
    stateMachineArn: childMachineArn,
    startDate: new Date(),
    maxConcurrency,
    toleratedFailurePercentage: percentage ?? 0,
    toleratedFailureCount: count ?? 0,
    status: 'RUNNING',
    itemCounts: counts(),
    executionCounts: counts(),
  };
  engine.addMapRun(run);
  const startedId = history.add('MapRunStarted', { mapRunArn }, history.enteredId(stateName));

  try {
    // The children are executions of this state machine, started with its role.
    const denial = engine.authorize(
      scope.identity,
      [check('states:StartExecution', parent.stateMachineArn)],
      'StartExecution',
      region,
    );
    if (denial)
      throw runtimeError(`The Map Run could not start child executions: ${accessDeniedMessage(denial)}`);
    const items = await loadItems(state, input, scope);
    const selector = state.ItemSelector ?? state.Parameters;
    const selected =
      selector === undefined
        ? items
        : await Promise.all(
            items.map((item, index) =>
              evaluateTemplate(selector, input, {
                ...scope.context,
                Map: { Item: { Index: index, Value: item } },
              }),
            ),
          );
    const children = await batch(selected, state, input, scope);
    run.itemCounts.total = run.itemCounts.pending = selected.length;
    run.executionCounts.total = run.executionCounts.pending = children.length;

    const processor = state.ItemProcessor as { StartAt: string; States: Record<string, unknown> } & Record<
      string,
      unknown
    >;
    const { ProcessorConfig: _config, ...childDefinition } = processor;
    const prepared = prepareDefinition(childDefinition, engine.timeScale);
    const definitionText = JSON.stringify(childDefinition);

    const exceeds = (failedItems: number): boolean => {
      const total = Math.max(1, run.itemCounts.total);
      if (percentage === undefined && count === undefined) return failedItems > 0;
      return (
        (count !== undefined && failedItems > count) ||
        (percentage !== undefined && (failedItems / total) * 100 > percentage)
      );
    };

    const records: (ExecutionRecord | undefined)[] = new Array(children.length);
    let exceeded = false;
    let broken: unknown;
    await new Promise<void>((resolve) => {
      const limit =
        maxConcurrency > 0
          ? Math.min(maxConcurrency, engine.maxChildConcurrency)
          : engine.maxChildConcurrency;
      let next = 0;
      let running = 0;
      let failedItems = 0;
      const stopRunning = (cause: string) => {
        for (const record of records) if (record?.status === 'RUNNING') record.stop('States.Aborted', cause);
      };
      const onAbort = () => stopRunning('The parent execution was stopped');
      scope.signal.addEventListener('abort', onAbort, { once: true });
      const settle = () => {
        if (running === 0 && (next >= children.length || exceeded || scope.signal.aborted)) {
          scope.signal.removeEventListener('abort', onAbort);
          resolve();
        }
      };
      const launch = () => {
        try {
          startChildren();
        } catch (error) {
          // Starting a child failed in the sandbox itself: end the Map Run instead of losing it.
          broken = error;
          exceeded = true;
          stopRunning('The Map Run could not start a child execution');
        }
        settle();
      };
      const startChildren = () => {
        while (!exceeded && !scope.signal.aborted && running < limit && next < children.length) {
          const index = next++;
          const child = children[index] as { input: unknown; size: number };
          const name = randomUUID();
          const record = scope.startChild({
            executionArn: `arn:aws:states:${region}:${engine.accountId}:execution:${childMachineName}:${name}`,
            stateMachineArn: childMachineArn,
            stateMachineName: childMachineName,
            name,
            region,
            input: json(child.input),
            roleArn: parent.roleArn,
            definition: definitionText,
            prepared,
            mapRunArn,
          });
          records[index] = record;
          running += 1;
          move(run, child.size, 'pending', 'running');
          void record.done.then(() => {
            running -= 1;
            const outcome = bucketOf(record.status);
            move(run, child.size, 'running', outcome);
            if (outcome === 'failed' || outcome === 'timedOut') {
              failedItems += child.size;
              if (!exceeded && exceeds(failedItems)) {
                exceeded = true;
                stopRunning('The Map Run failed: the tolerated failure threshold was exceeded');
              }
            }
            launch();
          });
        }
      };
      launch();
    });

    const succeeded: ChildResult[] = [];
    const failed: ChildResult[] = [];
    const pending: ChildResult[] = [];
    records.forEach((record, index) => {
      if (!record) {
        pending.push({
          ExecutionArn: '',
          Input: json((children[index] as { input: unknown }).input),
          InputDetails: { Included: true },
          Name: '',
          RedriveCount: 0,
          RedriveStatus: 'REDRIVABLE',
          StateMachineArn: childMachineArn,
          Status: 'PENDING',
        });
      } else if (record.status === 'SUCCEEDED') {
        succeeded.push(childResult(record));
      } else {
        failed.push(childResult(record));
      }
    });

    let result: unknown;
    if (state.ResultWriter !== undefined) {
      const writer = state.ResultWriter as {
        Resource?: string;
        Parameters?: unknown;
        WriterConfig?: unknown;
      };
      if (writer.WriterConfig !== undefined) {
        throw runtimeError('The sandbox does not emulate ResultWriter WriterConfig');
      }
      const parameters = (await evaluateTemplate(writer.Parameters ?? {}, input, scope.context)) as Record<
        string,
        unknown
      >;
      const written = await writeResults(engine.s3(region, scope.identity), parameters, mapRunArn, {
        succeeded,
        failed,
        pending,
      });
      run.itemCounts.resultsWritten = succeeded.length + failed.length;
      result = { MapRunArn: mapRunArn, ResultWriterDetails: written };
    } else {
      result = records.map((record) => {
        if (record?.status === 'SUCCEEDED') return JSON.parse(record.output ?? 'null');
        return record ? childResult(record) : null;
      });
    }

    if (scope.signal.aborted) {
      run.status = 'ABORTED';
      run.stopDate = new Date();
      history.add('MapRunAborted', undefined, startedId);
      throw new StatesError('States.Aborted', 'The execution was stopped');
    }
    if (broken !== undefined) throw runtimeError(`The Map Run failed: ${(broken as Error).message}`);
    if (exceeded) {
      throw new StatesError(
        'States.ExceedToleratedFailureThreshold',
        'The specified tolerated failure threshold was exceeded',
      );
    }
    run.status = 'SUCCEEDED';
    run.stopDate = new Date();
    history.add('MapRunSucceeded', undefined, startedId);
    return result;
  } catch (error) {
    if (run.status === 'RUNNING') {
      run.status = 'FAILED';
      run.stopDate = new Date();
      const failure = error as Error;
      history.add('MapRunFailed', { error: failure.name, cause: failure.message }, startedId);
    }
    throw error;
  }
}

type Bucket = keyof Omit<ItemCounts, 'total' | 'resultsWritten'>;

function bucketOf(status: ExecutionRecord['status']): Bucket {
  switch (status) {
    case 'SUCCEEDED':
      return 'succeeded';
    case 'TIMED_OUT':
      return 'timedOut';
    case 'ABORTED':
      return 'aborted';
    default:
      return 'failed';
  }
}

function move(run: MapRunRecord, items: number, from: Bucket, to: Bucket): void {
  run.itemCounts[from] -= items;
  run.itemCounts[to] += items;
  run.executionCounts[from] -= 1;
  run.executionCounts[to] += 1;
}
