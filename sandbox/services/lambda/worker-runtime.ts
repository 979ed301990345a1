/**
 * The Lambda runtime inside a worker thread: loads the handler module once (the cold start, with
 * this function's own environment), then runs invocations one at a time with a Lambda-shaped
 * context. What the code writes to stdout/stderr is captured per invocation, as CloudWatch would
 * receive it, and sent back with the result.
 */
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { type InvokeMessage, toErrorDocument, type WorkerInit, type WorkerMessage } from './protocol.ts';

type Handler = (
  event: unknown,
  context: Context,
  callback: (error?: unknown, result?: unknown) => void,
) => unknown;

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('worker-runtime must run in a worker thread');

let captured = '';
for (const stream of [process.stdout, process.stderr]) {
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
}

function takeLogs(): string {
  const logs = captured;
  captured = '';
  return logs;
}

function post(message: WorkerMessage): void {
  port?.postMessage(message);
}

process.on('unhandledRejection', (reason) => {
  const document = toErrorDocument(reason);
  post({
    type: 'fatal',
    error: { ...document, errorType: 'Runtime.UnhandledPromiseRejection' },
    logs: takeLogs(),
  });
});

function lambdaContext(message: InvokeMessage): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: init.functionName,
    functionVersion: init.functionVersion,
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: String(init.memoryLimitInMB),
    awsRequestId: message.requestId,
    logGroupName: init.logGroupName,
    logStreamName: init.logStreamName,
    clientContext: message.clientContext
      ? JSON.parse(Buffer.from(message.clientContext, 'base64').toString('utf8'))
      : undefined,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Runs the handler, async or callback style, and settles with its result. */
function callHandler(handler: Handler, event: unknown, context: Context): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const returned = handler(event, context, (error, result) => (error ? reject(error) : resolve(result)));
    if (returned !== null && typeof returned === 'object' && 'then' in returned) {
      (returned as PromiseLike<unknown>).then(resolve, reject);
    }
  });
}

async function load(): Promise<Handler | undefined> {
  const started = performance.now();
  try {
    const module = (await import(pathToFileURL(init.modulePath).href)) as Record<string, unknown>;
    const handler = module[init.handlerName];
    if (typeof handler !== 'function') {
      const error = new Error(`${init.modulePath} does not export a function named "${init.handlerName}"`);
      error.name = 'Runtime.HandlerNotFound';
      throw error;
    }
    post({ type: 'ready', initMs: performance.now() - started, logs: takeLogs() });
    return handler as Handler;
  } catch (error) {
    post({ type: 'init-error', error: toErrorDocument(error), logs: takeLogs() });
    return undefined;
  }
}

const handler = await load();
if (handler) {
  port.on('message', (message: InvokeMessage) => {
    void (async () => {
      let ok = true;
      let payload: string;
      try {
        const event: unknown = message.payload.length === 0 ? {} : JSON.parse(message.payload);
        const result = await callHandler(handler, event, lambdaContext(message));
        payload = JSON.stringify(result === undefined ? null : result);
      } catch (error) {
        ok = false;
        payload = JSON.stringify(toErrorDocument(error));
      }
      post({
        type: 'result',
        requestId: message.requestId,
        ok,
        payload,
        logs: takeLogs(),
        heapUsedMb: Math.ceil(getHeapStatistics().used_heap_size / (1024 * 1024)),
      });
    })();
  });
}
