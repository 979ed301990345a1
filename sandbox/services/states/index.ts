/**
 * Step Functions emulation (JSON 1.0, `X-Amz-Target: AWSStepFunctions.<Operation>`, signing name
 * `states`): state machines, executions that run the real ASL with aws-local-stepfunctions (Task
 * states calling the sandbox's Lambda and SNS, Distributed Map with its AWS meaning), history in
 * AWS's event shapes, Map Runs. See docs/sandbox-stepfunctions.md.
 */
import { randomUUID } from 'node:crypto';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { sendJson } from '../../core/responses.ts';
import type { SandboxContext } from '../../core/server.ts';
import { readStateFile, writeStateFile } from '../../core/state-file.ts';
import { AwsError, type SandboxService } from '../../core/types.ts';
import type { LambdaService } from '../lambda/index.ts';
import { checkArn, checkName, executionArn, stateMachineArn } from './arns.ts';
import { statesAccessChecks, syncRuleChecks, usesSyncExecution } from './authorization.ts';
import { parseDefinition, prepareDefinition } from './definition.ts';
import { redrive } from './describe.ts';
import { startExecution } from './execution.ts';
import { renderEvent } from './history.ts';
import type {
  Engine,
  ExecutionIdentity,
  ExecutionRecord,
  MapRunRecord,
  StartExecutionRequest,
  StateMachineRecord,
} from './model.ts';

/** Settings read from `settings.states`. */
export interface StatesSettings {
  /** Multiplies every Wait duration and Retry interval (e.g. 0.01 in tests). @default 1 */
  readonly timeScale?: number;
  /** Distributed Map children running at once, whatever MaxConcurrency says. @default 40 */
  readonly maxChildConcurrency?: number;
}

export type { StartExecutionRequest } from './model.ts';

/** The Step Functions service, with an in-process API for Scheduler and tests. */
export interface StatesService extends SandboxService {
  readonly signingName: 'states';
  /** StartExecution, as the API does it (name idempotency, errors). */
  startExecution(request: StartExecutionRequest): { executionArn: string; startDate: Date };
  /** The execution's record (status, output, history), or undefined. */
  execution(executionArn: string): ExecutionRecord | undefined;
}

const TARGET_PREFIX = 'AWSStepFunctions.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const MAX_INPUT_BYTES = 256 * 1024;
const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];

type Body = Record<string, unknown>;

function epoch(date: Date | undefined): number | undefined {
  return date ? date.getTime() / 1000 : undefined;
}

function required(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function optional(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsError('ValidationException', `'${field}' must be a string`);
  return value;
}

function maxResults(body: Body, fallback = 100): number {
  const value = body.maxResults;
  if (value === undefined || value === 0) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1000) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value '${String(value)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`,
    );
  }
  return value;
}

/** Opaque paging tokens bound to the listing they came from. */
function page<T>(
  items: readonly T[],
  body: Body,
  scope: string,
  fallback = 100,
): { items: T[]; nextToken?: string } {
  const limit = maxResults(body, fallback);
  let start = 0;
  const token = optional(body, 'nextToken');
  if (token !== undefined) {
    let decoded: { s?: unknown; o?: unknown } = {};
    try {
      decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown; o?: unknown };
    } catch {
      decoded = {};
    }
    if (decoded.s !== scope || typeof decoded.o !== 'number') {
      throw new AwsError('InvalidToken', `Invalid Token: '${token}'`);
    }
    start = decoded.o;
  }
  const slice = items.slice(start, start + limit);
  const next = start + limit;
  return next < items.length
    ? { items: slice, nextToken: Buffer.from(JSON.stringify({ s: scope, o: next })).toString('base64url') }
    : { items: slice };
}

/** Validates execution input as StartExecution does and returns it parsed. */
function checkInput(input: string): unknown {
  if (Buffer.byteLength(input) > MAX_INPUT_BYTES) {
    throw new AwsError('InvalidExecutionInput', `Input is larger than ${MAX_INPUT_BYTES} bytes`);
  }
  try {
    return JSON.parse(input);
  } catch (error) {
    throw new AwsError(
      'InvalidExecutionInput',
      `Invalid State Machine Execution Input: '${(error as Error).message}'`,
    );
  }
}

/** AWS's documented input field that associates an execution with the one that started it. */
const STARTED_BY = 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID';

function startedBy(input: unknown): { startedBy?: string } {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return {};
  const id = (input as Record<string, unknown>)[STARTED_BY];
  return typeof id === 'string' && id.length > 0 ? { startedBy: id } : {};
}

interface StoredMachine {
  readonly name: string;
  readonly region: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  readonly creationDate: string;
  readonly definition: string;
  readonly roleArn: string;
  readonly loggingConfiguration: Record<string, unknown>;
  readonly tracingConfiguration: Record<string, unknown>;
  readonly description?: string;
}

/** Creates the Step Functions service; state machines from an earlier run with the same data directory are loaded. */
export function statesService(context: SandboxContext): StatesService {
  const settings = (context.options.settings?.states ?? {}) as StatesSettings;
  const timeScale = settings.timeScale ?? 1;
  if (!(timeScale > 0)) throw new Error('settings.states.timeScale must be a positive number');
  const stateFile = join(context.dataDir, 'states', 'state-machines.json');

  const machines = new Map<string, StateMachineRecord>();
  const executions = new Map<string, ExecutionRecord>();
  const byMachine = new Map<string, ExecutionRecord[]>();
  const byMapRun = new Map<string, ExecutionRecord[]>();
  const mapRuns = new Map<string, MapRunRecord>();
  const mapRunsByExecution = new Map<string, MapRunRecord[]>();
  const s3Clients = new Map<string, S3Client>();
  const snsClients = new Map<string, SNSClient>();
  const credentials = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' };
  let httpsAgent: Agent | undefined;

  /**
   * How a client reaches the sandbox: as the execution's role (a session named after the state
   * machine) over HTTPS, as Step Functions calls AWS; with the sandbox's own credentials for a role
   * no template deployed.
   */
  function connection(region: string, identity: ExecutionIdentity | undefined) {
    if (!identity || !context.access.knowsRole(identity.roleArn)) {
      return { key: `${region}|sandbox`, config: { region, endpoint: context.endpoint, credentials } };
    }
    const session = context.access.session(identity.roleArn, identity.stateMachineName);
    const issued = context.access.credentials.issue(session.roleArn, session.sessionName);
    httpsAgent ??= new Agent({ ca: context.tls.caCertificate, keepAlive: true });
    return {
      key: `${region}|${issued.accessKeyId}`,
      config: {
        region,
        endpoint: context.httpsEndpoint,
        credentials: issued,
        requestHandler: { httpsAgent },
      },
    };
  }

  const engine: Engine = {
    accountId: context.accountId,
    timeScale,
    maxChildConcurrency: settings.maxChildConcurrency ?? 40,
    lambda: () => context.service<LambdaService>('lambda'),
    s3(region, identity) {
      const { key, config } = connection(region, identity);
      let client = s3Clients.get(key);
      if (!client) {
        client = new S3Client({ ...config, forcePathStyle: true });
        s3Clients.set(key, client);
      }
      return client;
    },
    sns(region, identity) {
      const { key, config } = connection(region, identity);
      let client = snsClients.get(key);
      if (!client) {
        client = new SNSClient(config);
        snsClients.set(key, client);
      }
      return client;
    },
    authorize(identity, checks, operation, region) {
      if (!context.access.knowsRole(identity.roleArn)) return undefined;
      const denial = context.access.evaluate(
        context.access.session(identity.roleArn, identity.stateMachineName),
        checks,
        { service: 'states', operation, region, secureTransport: true, origin: 'states' },
      );
      return denial?.enforced ? denial : undefined;
    },
    addExecution(record) {
      executions.set(record.executionArn, record);
      const list = record.mapRunArn
        ? (byMapRun.get(record.mapRunArn) ?? byMapRun.set(record.mapRunArn, []).get(record.mapRunArn))
        : (byMachine.get(record.stateMachineArn) ??
          byMachine.set(record.stateMachineArn, []).get(record.stateMachineArn));
      list?.push(record);
    },
    startExecution: (request) => start(request),
    execution: (arn) => executions.get(arn),
    addMapRun(record) {
      mapRuns.set(record.mapRunArn, record);
      const list = mapRunsByExecution.get(record.executionArn) ?? [];
      list.push(record);
      mapRunsByExecution.set(record.executionArn, list);
    },
  };

  function save(): void {
    const stored: StoredMachine[] = [...machines.values()].map((machine) => ({
      name: machine.name,
      region: machine.region,
      type: machine.type,
      creationDate: machine.creationDate.toISOString(),
      definition: machine.definition,
      roleArn: machine.roleArn,
      loggingConfiguration: machine.loggingConfiguration,
      tracingConfiguration: machine.tracingConfiguration,
      ...(machine.description !== undefined ? { description: machine.description } : {}),
    }));
    writeStateFile(stateFile, stored);
  }

  /**
   * Step Functions creates the managed EventBridge rule `.sync` tasks need when a state machine is
   * created or updated, as its role: a role that may not manage it fails the API call, whoever
   * makes it (a stack creation fails there).
   */
  function checkManagedRule(roleArn: string, definition: string, region: string, operation: string): void {
    if (!usesSyncExecution(definition) || !context.access.knowsRole(roleArn)) return;
    const denial = context.access.evaluate(
      context.access.session(roleArn, 'StepFunctions'),
      syncRuleChecks(region, context.accountId),
      { service: 'states', operation, region, secureTransport: true, origin: 'states' },
    );
    if (denial?.enforced) {
      throw new AwsError('AccessDeniedException', `'${roleArn}' is not authorized to create managed-rule.`);
    }
  }

  function prepare(definition: string) {
    return prepareDefinition(parseDefinition(definition) as never, timeScale);
  }

  const loaded = readStateFile(stateFile);
  if (Array.isArray(loaded)) {
    for (const stored of loaded as StoredMachine[]) {
      const arn = stateMachineArn(stored.region, context.accountId, stored.name);
      machines.set(arn, {
        stateMachineArn: arn,
        name: stored.name,
        region: stored.region,
        type: stored.type,
        creationDate: new Date(stored.creationDate),
        definition: stored.definition,
        roleArn: stored.roleArn,
        loggingConfiguration: stored.loggingConfiguration,
        tracingConfiguration: stored.tracingConfiguration,
        ...(stored.description !== undefined ? { description: stored.description } : {}),
        revisionId: randomUUID(),
        prepared: prepare(stored.definition),
      });
    }
  }

  function machine(arn: string): StateMachineRecord {
    const found = machines.get(checkArn(arn, 'stateMachine'));
    if (!found) throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return found;
  }

  function execution(arn: string): ExecutionRecord {
    const found = executions.get(checkArn(arn, 'execution'));
    if (!found) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return found;
  }

  function start(request: StartExecutionRequest): { executionArn: string; startDate: Date } {
    const target = machine(request.stateMachineArn);
    const name = request.name === undefined ? randomUUID() : checkName(request.name);
    const input = request.input ?? '{}';
    const parsed = checkInput(input);
    const arn = executionArn(target.region, context.accountId, target.name, name);
    const existing = executions.get(arn);
    if (existing) {
      // AWS: the same name and input while it runs returns the running execution.
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn: existing.executionArn, startDate: existing.startDate };
      }
      throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const record = startExecution(engine, {
      executionArn: arn,
      stateMachineArn: target.stateMachineArn,
      stateMachineName: target.name,
      name,
      region: target.region,
      input,
      roleArn: target.roleArn,
      definition: target.definition,
      prepared: target.prepared,
      ...startedBy(parsed),
    });
    return { executionArn: record.executionArn, startDate: record.startDate };
  }

  function describeMachine(found: StateMachineRecord): Body {
    return {
      stateMachineArn: found.stateMachineArn,
      name: found.name,
      status: 'ACTIVE',
      definition: found.definition,
      roleArn: found.roleArn,
      type: found.type,
      creationDate: epoch(found.creationDate),
      loggingConfiguration: found.loggingConfiguration,
      tracingConfiguration: found.tracingConfiguration,
      revisionId: found.revisionId,
      ...(found.description !== undefined ? { description: found.description } : {}),
    };
  }

  function executionItem(record: ExecutionRecord): Body {
    return {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: epoch(record.startDate),
      ...(record.stopDate ? { stopDate: epoch(record.stopDate) } : {}),
      ...(record.mapRunArn ? { mapRunArn: record.mapRunArn } : {}),
    };
  }

  const operations: Record<string, (body: Body, region: string) => Body> = {
    CreateStateMachine(body, region) {
      const name = checkName(body.name);
      const definition = required(body, 'definition');
      const roleArn = required(body, 'roleArn');
      if (!roleArn.startsWith('arn:')) throw new AwsError('InvalidArn', `Invalid Arn: '${roleArn}'`);
      const type = (optional(body, 'type') ?? 'STANDARD') as 'STANDARD' | 'EXPRESS';
      if (type !== 'STANDARD' && type !== 'EXPRESS') {
        throw new AwsError('ValidationException', `Value '${type}' at 'type' failed to satisfy constraint`);
      }
      const prepared = prepare(definition);
      checkManagedRule(roleArn, definition, region, 'CreateStateMachine');
      const loggingConfiguration = (body.loggingConfiguration as Body | undefined) ?? {
        level: 'OFF',
        includeExecutionData: false,
      };
      const tracingConfiguration = (body.tracingConfiguration as Body | undefined) ?? { enabled: false };
      const arn = stateMachineArn(region, context.accountId, name);
      const existing = machines.get(arn);
      if (existing) {
        const same =
          existing.definition === definition &&
          existing.roleArn === roleArn &&
          existing.type === type &&
          JSON.stringify(existing.loggingConfiguration) === JSON.stringify(loggingConfiguration) &&
          JSON.stringify(existing.tracingConfiguration) === JSON.stringify(tracingConfiguration);
        if (!same) throw new AwsError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
        return { stateMachineArn: arn, creationDate: epoch(existing.creationDate) };
      }
      const created: StateMachineRecord = {
        stateMachineArn: arn,
        name,
        region,
        type,
        creationDate: new Date(),
        definition,
        roleArn,
        loggingConfiguration,
        tracingConfiguration,
        ...(typeof body.description === 'string' ? { description: body.description } : {}),
        revisionId: randomUUID(),
        prepared,
      };
      machines.set(arn, created);
      save();
      return { stateMachineArn: arn, creationDate: epoch(created.creationDate) };
    },
    UpdateStateMachine(body) {
      const found = machine(required(body, 'stateMachineArn'));
      const definition = optional(body, 'definition');
      const roleArn = optional(body, 'roleArn');
      if (
        definition === undefined &&
        roleArn === undefined &&
        body.loggingConfiguration === undefined &&
        body.tracingConfiguration === undefined
      ) {
        throw new AwsError(
          'MissingRequiredParameter',
          'Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified',
        );
      }
      checkManagedRule(
        roleArn ?? found.roleArn,
        definition ?? found.definition,
        found.region,
        'UpdateStateMachine',
      );
      if (definition !== undefined) {
        found.prepared = prepare(definition);
        found.definition = definition;
      }
      if (roleArn !== undefined) found.roleArn = roleArn;
      if (body.loggingConfiguration !== undefined)
        found.loggingConfiguration = body.loggingConfiguration as Body;
      if (body.tracingConfiguration !== undefined)
        found.tracingConfiguration = body.tracingConfiguration as Body;
      found.updateDate = new Date();
      found.revisionId = randomUUID();
      save();
      return { updateDate: epoch(found.updateDate), revisionId: found.revisionId };
    },
    DescribeStateMachine(body) {
      return describeMachine(machine(required(body, 'stateMachineArn')));
    },
    ListStateMachines(body, region) {
      const all = [...machines.values()]
        .filter((found) => found.region === region)
        .sort((a, b) => a.creationDate.getTime() - b.creationDate.getTime() || a.name.localeCompare(b.name));
      const result = page(all, body, `machines:${region}`);
      return {
        stateMachines: result.items.map((found) => ({
          stateMachineArn: found.stateMachineArn,
          name: found.name,
          type: found.type,
          creationDate: epoch(found.creationDate),
        })),
        ...(result.nextToken ? { nextToken: result.nextToken } : {}),
      };
    },
    DeleteStateMachine(body) {
      const arn = checkArn(required(body, 'stateMachineArn'), 'stateMachine');
      // Running executions go on with the definition they started with, as in AWS.
      if (machines.delete(arn)) save();
      return {};
    },
    StartExecution(body) {
      const started = start({
        stateMachineArn: required(body, 'stateMachineArn'),
        ...(optional(body, 'name') !== undefined ? { name: optional(body, 'name') } : {}),
        ...(optional(body, 'input') !== undefined ? { input: optional(body, 'input') } : {}),
      });
      return { executionArn: started.executionArn, startDate: epoch(started.startDate) };
    },
    DescribeExecution(body) {
      const record = execution(required(body, 'executionArn'));
      return {
        ...executionItem(record),
        input: record.input,
        inputDetails: { included: true },
        ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
        ...(record.error !== undefined ? { error: record.error } : {}),
        ...(record.cause !== undefined ? { cause: record.cause } : {}),
        ...redrive(record),
      };
    },
    DescribeStateMachineForExecution(body) {
      const record = execution(required(body, 'executionArn'));
      return {
        stateMachineArn: record.stateMachineArn,
        name: record.stateMachineName,
        definition: record.definition,
        roleArn: record.roleArn,
        updateDate: epoch(record.startDate),
        ...(record.mapRunArn ? { mapRunArn: record.mapRunArn } : {}),
      };
    },
    ListExecutions(body) {
      const machineArn = optional(body, 'stateMachineArn');
      const mapRunArn = optional(body, 'mapRunArn');
      if ((machineArn === undefined) === (mapRunArn === undefined)) {
        throw new AwsError(
          'ValidationException',
          'Exactly one of stateMachineArn and mapRunArn must be given',
        );
      }
      let list: ExecutionRecord[];
      if (machineArn !== undefined) {
        machine(machineArn);
        list = byMachine.get(machineArn) ?? [];
      } else {
        const arn = checkArn(mapRunArn, 'mapRun');
        if (!mapRuns.has(arn)) throw new AwsError('ResourceNotFound', `Map Run Does Not Exist: '${arn}'`);
        list = byMapRun.get(arn) ?? [];
      }
      const statusFilter = optional(body, 'statusFilter');
      if (statusFilter !== undefined && !STATUSES.includes(statusFilter)) {
        throw new AwsError(
          'ValidationException',
          `Value '${statusFilter}' at 'statusFilter' failed to satisfy constraint`,
        );
      }
      const filtered = list
        .filter((record) => statusFilter === undefined || record.status === statusFilter)
        .reverse();
      const result = page(filtered, body, `executions:${machineArn ?? mapRunArn}:${statusFilter ?? ''}`);
      return {
        executions: result.items.map(executionItem),
        ...(result.nextToken ? { nextToken: result.nextToken } : {}),
      };
    },
    StopExecution(body) {
      const record = execution(required(body, 'executionArn'));
      record.stop(optional(body, 'error'), optional(body, 'cause'));
      return { stopDate: epoch(record.stopDate ?? new Date()) };
    },
    GetExecutionHistory(body) {
      const record = execution(required(body, 'executionArn'));
      const events =
        body.reverseOrder === true ? [...record.history.events].reverse() : record.history.events;
      const includeData = body.includeExecutionData !== false;
      const result = page(events, body, `history:${record.executionArn}:${body.reverseOrder === true}`);
      return {
        events: result.items.map((event) => renderEvent(event, includeData)),
        ...(result.nextToken ? { nextToken: result.nextToken } : {}),
      };
    },
    DescribeMapRun(body) {
      const arn = checkArn(required(body, 'mapRunArn'), 'mapRun');
      const run = mapRuns.get(arn);
      if (!run) throw new AwsError('ResourceNotFound', `Map Run Does Not Exist: '${arn}'`);
      const withExtras = (counts: MapRunRecord['itemCounts']) => ({
        ...counts,
        failuresNotRedrivable: 0,
        pendingRedrive: 0,
      });
      return {
        mapRunArn: run.mapRunArn,
        executionArn: run.executionArn,
        status: run.status,
        startDate: epoch(run.startDate),
        ...(run.stopDate ? { stopDate: epoch(run.stopDate) } : {}),
        maxConcurrency: run.maxConcurrency,
        toleratedFailurePercentage: run.toleratedFailurePercentage,
        toleratedFailureCount: run.toleratedFailureCount,
        itemCounts: withExtras(run.itemCounts),
        executionCounts: withExtras(run.executionCounts),
        redriveCount: 0,
      };
    },
    ListMapRuns(body) {
      const record = execution(required(body, 'executionArn'));
      const runs = mapRunsByExecution.get(record.executionArn) ?? [];
      const result = page(runs, body, `mapruns:${record.executionArn}`);
      return {
        mapRuns: result.items.map((run) => ({
          executionArn: run.executionArn,
          mapRunArn: run.mapRunArn,
          stateMachineArn: run.stateMachineArn,
          startDate: epoch(run.startDate),
          ...(run.stopDate ? { stopDate: epoch(run.stopDate) } : {}),
        })),
        ...(result.nextToken ? { nextToken: result.nextToken } : {}),
      };
    },
  };

  return {
    signingName: 'states',
    protocol: 'json',
    async handle(req, res) {
      const target = req.headers['x-amz-target'];
      const name =
        typeof target === 'string' && target.startsWith(TARGET_PREFIX)
          ? target.slice(TARGET_PREFIX.length)
          : '';
      const operation = Object.hasOwn(operations, name) ? operations[name] : undefined;
      if (req.method !== 'POST' || !operation) {
        throw new AwsError(
          'UnknownOperationException',
          `The sandbox's Step Functions does not support "${String(target ?? '')}"`,
        );
      }
      const raw = (await req.readBody(1024 * 1024)).toString('utf8');
      let body: Body;
      try {
        const parsed: unknown = raw.length === 0 ? {} : JSON.parse(raw);
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
          throw new Error('not an object');
        body = parsed as Body;
      } catch {
        throw new AwsError('SerializationException', 'The request body is not a JSON object');
      }
      req.authorize(
        statesAccessChecks(name, body, { region: req.region, accountId: context.accountId }),
        name,
      );
      sendJson(res, 200, operation(body, req.region), CONTENT_TYPE);
    },
    startExecution: start,
    execution: (arn) => executions.get(arn),
    async close() {
      for (const record of executions.values()) record.stop('States.Aborted', 'The sandbox is shutting down');
      await Promise.allSettled([...executions.values()].map((record) => record.done));
      for (const client of [...s3Clients.values(), ...snsClients.values()]) client.destroy();
      httpsAgent?.destroy();
    },
  };
}
