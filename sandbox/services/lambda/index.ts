/**
 * Lambda emulation (REST-JSON, signing name `lambda`): Invoke of registered Caretaker handlers in
 * isolated worker threads, GetFunction/ListFunctions, versions and aliases with weighted routing.
 * Other services (Step Functions, Scheduler) call {@link LambdaService.invoke} in process.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { sendJson } from '../../core/responses.ts';
import type { SandboxContext } from '../../core/server.ts';
import { AwsError, type SandboxRequest, type SandboxService } from '../../core/types.ts';
import { caretakerFunctions } from '../../functions.ts';
import { functionTarget, lambdaAccessChecks } from './authorization.ts';
import { Faults } from './faults.ts';
import { parseFunctionReference } from './names.ts';
import { type FunctionRecord, type FunctionRegistration, FunctionRegistry } from './registry.ts';
import { FunctionRuntime } from './runtime.ts';
import { aliasConfiguration, functionConfiguration, pageOf } from './shapes.ts';

export type { FunctionRegistration } from './registry.ts';

/** Settings read from `settings.lambda`. */
export interface LambdaSettings {
  /** Execution environments per function version before invocations queue. @default 10 */
  readonly maxConcurrency?: number;
  /** Idle environments shut down after this long. @default 300_000 */
  readonly idleTimeoutMs?: number;
  /** Also print function logs to this process's stdout. @default false */
  readonly printLogs?: boolean;
  /** Extra variables for every function (e.g. POWERTOOLS_LOG_LEVEL). */
  readonly environment?: Readonly<Record<string, string>>;
  /** Register the Caretaker functions of sandbox/functions.ts at start. @default true */
  readonly registerCaretakerFunctions?: boolean;
}

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

export interface InvokeRequest {
  /** A name, ARN or partial ARN, optionally with `:qualifier`. */
  readonly functionName: string;
  readonly qualifier?: string;
  /** The event as JSON text; empty means `{}`. */
  readonly payload?: string;
  /** @default 'RequestResponse' */
  readonly invocationType?: InvocationType;
  /** Region for names that carry none. */
  readonly region: string;
  readonly clientContext?: string;
}

export interface InvokeResult {
  /** 200 (RequestResponse), 202 (Event) or 204 (DryRun). */
  readonly statusCode: 200 | 202 | 204;
  /** JSON text: the result, or the error document when `functionError` is set. */
  readonly payload: string;
  readonly functionError?: 'Unhandled';
  readonly executedVersion: string;
  /** The ARN as invoked. */
  readonly functionArn: string;
  readonly requestId: string;
  /** The invocation's log (RequestResponse only). */
  readonly logs: string;
}

/** The Lambda service, with an in-process API for tests, the drill and other services. */
export interface LambdaService extends SandboxService {
  readonly signingName: 'lambda';
  /** Creates a function or replaces the code and configuration of its `$LATEST`. */
  register(registration: FunctionRegistration): void;
  /** Invokes a function; throws AwsError (e.g. ResourceNotFoundException) when it cannot. */
  invoke(request: InvokeRequest): Promise<InvokeResult>;
  /** Injected faults (rehearsals): invocations that fail before the handler runs. */
  readonly faults: Faults;
}

const API = '/2015-03-31/functions';
/** Route keys (method, sub-resource) to the API operation they are. */
const OPERATIONS: Readonly<Record<string, string>> = {
  'POST invocations': 'Invoke',
  'GET ': 'GetFunction',
  'GET configuration': 'GetFunctionConfiguration',
  'POST versions': 'PublishVersion',
  'GET versions': 'ListVersionsByFunction',
  'POST aliases': 'CreateAlias',
  'GET aliases': 'ListAliases',
  'GET aliases/{Name}': 'GetAlias',
  'PUT aliases/{Name}': 'UpdateAlias',
  'DELETE aliases/{Name}': 'DeleteAlias',
};
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

function settingsOf(context: SandboxContext): LambdaSettings {
  return (context.options.settings?.lambda ?? {}) as LambdaSettings;
}

function parseJson(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new AwsError('InvalidRequestContentException', 'Could not parse request body into json');
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new AwsError('InvalidParameterValueException', `${field} must be a string`);
  return value;
}

function weightsOf(body: Record<string, unknown>): Record<string, number> | undefined {
  const routing = body.RoutingConfig as { AdditionalVersionWeights?: Record<string, number> } | undefined;
  if (routing === undefined || routing === null) return undefined;
  return { ...(routing.AdditionalVersionWeights ?? {}) };
}

function checkJsonPayload(payload: string): void {
  if (payload.length === 0) return;
  try {
    JSON.parse(payload);
  } catch (error) {
    throw new AwsError(
      'InvalidRequestContentException',
      `Could not parse request body into json: ${(error as Error).message}`,
    );
  }
}

/** Creates the Lambda service; the Caretaker functions are registered unless settings say not to. */
export function lambdaService(context: SandboxContext): LambdaService {
  const settings = settingsOf(context);
  const registry = new FunctionRegistry(context.accountId, context.defaultRegion);
  const logDir = join(context.dataDir, 'lambda', 'logs');
  const runtime = new FunctionRuntime({
    maxEnvironments: settings.maxConcurrency ?? 10,
    idleMs: settings.idleTimeoutMs ?? 300_000,
    baseEnvironment: ({ fn, config }) => ({
      ...settings.environment,
      NODE_EXTRA_CA_CERTS: context.tls.caPath,
      ...accessOf(context, config.role, fn.name),
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    onLog: (_config, name, region, text) => {
      mkdirSync(join(logDir, region), { recursive: true });
      appendFileSync(join(logDir, region, `${name}.log`), text);
      if (settings.printLogs) process.stdout.write(text.replace(/^/gm, `[lambda ${name}] `));
    },
  });
  const background = new Set<Promise<unknown>>();
  const faults = new Faults();

  function register(registration: FunctionRegistration): FunctionRecord {
    const region = registration.region ?? context.defaultRegion;
    const old = registry.find(region, registration.name)?.latest;
    const fn = registry.register(registration);
    if (old) runtime.retire(region, fn.name, old);
    return fn;
  }

  if (settings.registerCaretakerFunctions !== false) {
    for (const registration of caretakerFunctions({
      region: context.defaultRegion,
      accountId: context.accountId,
    })) {
      register(registration);
    }
  }

  function lookup(functionName: string, qualifier: string | undefined, region: string) {
    const reference = parseFunctionReference(functionName, qualifier);
    const fnRegion = reference.region ?? region;
    if (reference.accountId !== undefined && reference.accountId !== context.accountId) {
      throw new AwsError('ResourceNotFoundException', `Function not found: ${functionName}`, 404);
    }
    return { fn: registry.get(fnRegion, reference.name), qualifier: reference.qualifier };
  }

  async function invoke(request: InvokeRequest): Promise<InvokeResult> {
    const payload = request.payload ?? '';
    if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) {
      throw new AwsError(
        'RequestTooLargeException',
        `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
        413,
      );
    }
    checkJsonPayload(payload);
    const { fn, qualifier } = lookup(request.functionName, request.qualifier, request.region);
    const target = registry.resolve(fn, qualifier);
    const requestId = randomUUID();
    const invocationType = request.invocationType ?? 'RequestResponse';
    const base = { executedVersion: target.config.version, functionArn: target.invokedArn, requestId };
    if (invocationType === 'DryRun') return { ...base, statusCode: 204, payload: '', logs: '' };
    const fault = faults.take(fn.name);
    if (fault) {
      // As the runtime reports a handler's error: the error's name as errorType.
      const document = { errorType: fault.errorType, errorMessage: fault.errorMessage, trace: [] };
      const logs = `[sandbox] injected fault: ${fault.errorType}: ${fault.errorMessage}\n`;
      if (invocationType === 'Event') return { ...base, statusCode: 202, payload: '', logs };
      return {
        ...base,
        statusCode: 200,
        payload: JSON.stringify(document),
        functionError: 'Unhandled',
        logs,
      };
    }
    if (invocationType === 'Event') {
      // Lambda queues the event and answers at once; failures end up in the function's log.
      const run = runtime
        .invoke(target, payload, requestId, request.clientContext)
        .catch((error: unknown) => {
          console.error(`[sandbox] async invocation of ${fn.name} failed:`, error);
        });
      background.add(run);
      void run.finally(() => background.delete(run));
      return { ...base, statusCode: 202, payload: '', logs: '' };
    }
    const outcome = await runtime.invoke(target, payload, requestId, request.clientContext);
    return {
      ...base,
      statusCode: 200,
      payload: outcome.payload,
      executedVersion: outcome.executedVersion,
      logs: outcome.logs,
      ...(outcome.ok ? {} : { functionError: 'Unhandled' as const }),
    };
  }

  async function route(req: SandboxRequest, res: ServerResponse): Promise<void> {
    const path = req.url.pathname.replace(/\/+$/, '');
    if (path === API && req.method === 'GET') {
      req.authorize(lambdaAccessChecks('ListFunctions', undefined), 'ListFunctions');
      const functions = registry
        .list(req.region)
        .map((fn) => functionConfiguration(fn, fn.latest, context.accountId));
      const page = pageOf(functions, req.url);
      sendJson(
        res,
        200,
        { Functions: page.items, ...(page.NextMarker ? { NextMarker: page.NextMarker } : {}) },
        'application/json',
      );
      return;
    }
    if (!path.startsWith(`${API}/`)) throw unknownOperation(req);
    const [encodedName, resource, encodedAlias, ...rest] = path.slice(API.length + 1).split('/');
    if (encodedName === undefined || rest.length > 0) throw unknownOperation(req);
    const functionName = decodeURIComponent(encodedName);
    const qualifierParam = req.url.searchParams.get('Qualifier') ?? undefined;
    const key = `${req.method} ${resource ?? ''}${encodedAlias !== undefined ? '/{Name}' : ''}`;
    const operation = OPERATIONS[key];
    if (operation === undefined) throw unknownOperation(req);
    const target = functionTarget(
      functionName,
      operation === 'Invoke' || operation.startsWith('GetFunction') ? qualifierParam : undefined,
      {
        region: req.region,
        accountId: context.accountId,
      },
    );
    req.authorize(lambdaAccessChecks(operation, target), operation);

    switch (key) {
      case 'POST invocations': {
        const body = (await req.readBody(MAX_PAYLOAD_BYTES + 1)).toString('utf8');
        const invocationType =
          (req.headers['x-amz-invocation-type'] as string | undefined) ?? 'RequestResponse';
        if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
          throw new AwsError('InvalidParameterValueException', `Invalid InvocationType: ${invocationType}`);
        }
        const result = await invoke({
          functionName,
          qualifier: qualifierParam,
          payload: body,
          invocationType: invocationType as InvocationType,
          region: req.region,
          clientContext: req.headers['x-amz-client-context'] as string | undefined,
        });
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'x-amz-executed-version': result.executedVersion,
          'x-amzn-requestid': result.requestId,
        };
        if (result.functionError) headers['x-amz-function-error'] = result.functionError;
        if (req.headers['x-amz-log-type'] === 'Tail') {
          headers['x-amz-log-result'] = Buffer.from(Buffer.from(result.logs).subarray(-4096)).toString(
            'base64',
          );
        }
        res.writeHead(result.statusCode, headers);
        res.end(result.payload);
        return;
      }
      case 'GET ': {
        const { fn, qualifier } = lookup(functionName, qualifierParam, req.region);
        const config =
          qualifier && !/^\d+$|^\$LATEST$/.test(qualifier)
            ? registry.version(fn, registry.alias(fn, qualifier).functionVersion)
            : registry.version(fn, qualifier ?? '$LATEST');
        sendJson(
          res,
          200,
          {
            Configuration: functionConfiguration(fn, config, context.accountId),
            Code: { RepositoryType: 'S3', Location: `file://${config.modulePath}` },
            Tags: {},
          },
          'application/json',
        );
        return;
      }
      case 'GET configuration': {
        const { fn, qualifier } = lookup(functionName, qualifierParam, req.region);
        const config = registry.version(fn, qualifier ?? '$LATEST');
        sendJson(res, 200, functionConfiguration(fn, config, context.accountId), 'application/json');
        return;
      }
      case 'POST versions': {
        const { fn } = lookup(functionName, undefined, req.region);
        const body = parseJson(await req.readBody());
        const version = registry.publish(fn, {
          codeSha256: optionalString(body, 'CodeSha256'),
          description: optionalString(body, 'Description'),
          revisionId: optionalString(body, 'RevisionId'),
        });
        sendJson(res, 201, functionConfiguration(fn, version, context.accountId), 'application/json');
        return;
      }
      case 'GET versions': {
        const { fn } = lookup(functionName, undefined, req.region);
        const versions = [fn.latest, ...[...fn.versions.values()]].map((config) =>
          functionConfiguration(fn, config, context.accountId),
        );
        const page = pageOf(versions, req.url);
        sendJson(
          res,
          200,
          { Versions: page.items, ...(page.NextMarker ? { NextMarker: page.NextMarker } : {}) },
          'application/json',
        );
        return;
      }
      case 'POST aliases': {
        const { fn } = lookup(functionName, undefined, req.region);
        const body = parseJson(await req.readBody());
        const name = optionalString(body, 'Name');
        const functionVersion = optionalString(body, 'FunctionVersion');
        if (!name || !functionVersion) {
          throw new AwsError('ValidationException', 'Name and FunctionVersion are required');
        }
        const alias = registry.createAlias(fn, {
          name,
          functionVersion,
          description: optionalString(body, 'Description'),
          weights: weightsOf(body),
        });
        sendJson(res, 201, aliasConfiguration(fn, alias, context.accountId), 'application/json');
        return;
      }
      case 'GET aliases': {
        const { fn } = lookup(functionName, undefined, req.region);
        const version = req.url.searchParams.get('FunctionVersion');
        const aliases = [...fn.aliases.values()]
          .filter((alias) => version === null || alias.functionVersion === version)
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((alias) => aliasConfiguration(fn, alias, context.accountId));
        const page = pageOf(aliases, req.url);
        sendJson(
          res,
          200,
          { Aliases: page.items, ...(page.NextMarker ? { NextMarker: page.NextMarker } : {}) },
          'application/json',
        );
        return;
      }
      case 'GET aliases/{Name}': {
        const { fn } = lookup(functionName, undefined, req.region);
        const alias = registry.alias(fn, decodeURIComponent(encodedAlias ?? ''));
        sendJson(res, 200, aliasConfiguration(fn, alias, context.accountId), 'application/json');
        return;
      }
      case 'PUT aliases/{Name}': {
        const { fn } = lookup(functionName, undefined, req.region);
        const body = parseJson(await req.readBody());
        const alias = registry.updateAlias(fn, decodeURIComponent(encodedAlias ?? ''), {
          functionVersion: optionalString(body, 'FunctionVersion'),
          description: optionalString(body, 'Description'),
          weights: weightsOf(body),
          revisionId: optionalString(body, 'RevisionId'),
        });
        sendJson(res, 200, aliasConfiguration(fn, alias, context.accountId), 'application/json');
        return;
      }
      case 'DELETE aliases/{Name}': {
        const { fn } = lookup(functionName, undefined, req.region);
        registry.deleteAlias(fn, decodeURIComponent(encodedAlias ?? ''));
        res.writeHead(204);
        res.end();
        return;
      }
      default:
        throw unknownOperation(req);
    }
  }

  return {
    signingName: 'lambda',
    protocol: 'rest-json',
    handle: route,
    register(registration) {
      register(registration);
    },
    invoke,
    faults,
    async close() {
      await runtime.close();
      await Promise.allSettled([...background]);
    },
  };
}

/**
 * How a function reaches the sandbox. A function whose execution role came from a deployed template
 * is given what Lambda gives it: the HTTPS endpoint (its CA in NODE_EXTRA_CA_CERTS) and a session of
 * its role, named after the function, so IAM evaluates every call it makes. A function registered
 * by hand with no such role keeps the sandbox's plain credentials and HTTP endpoint.
 */
function accessOf(context: SandboxContext, role: string, functionName: string): Record<string, string> {
  if (!context.access.knowsRole(role)) {
    return {
      AWS_ENDPOINT_URL: context.endpoint,
      AWS_ACCESS_KEY_ID: 'sandbox',
      AWS_SECRET_ACCESS_KEY: 'sandbox',
    };
  }
  const credentials = context.access.credentials.issue(role, functionName);
  return {
    AWS_ENDPOINT_URL: context.httpsEndpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  };
}

function unknownOperation(req: SandboxRequest): AwsError {
  return new AwsError(
    'UnknownOperationException',
    `The sandbox's Lambda does not support ${req.method} ${req.url.pathname}`,
    404,
  );
}
