/**
 * Messages between the sandbox's Lambda service and the worker threads that run the handlers.
 * One worker is one execution environment: it loads the handler module once (init) and then
 * runs one invocation at a time.
 */

/** Fixed for the worker's lifetime, passed as `workerData`. */
export interface WorkerInit {
  /** Absolute path of the handler module. */
  readonly modulePath: string;
  /** The exported handler function's name. */
  readonly handlerName: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly memoryLimitInMB: number;
  readonly logGroupName: string;
  readonly logStreamName: string;
}

/** Main → worker: run one invocation. */
export interface InvokeMessage {
  readonly type: 'invoke';
  readonly requestId: string;
  /** The event as JSON text (Lambda hands the runtime bytes, the runtime parses them). */
  readonly payload: string;
  readonly invokedFunctionArn: string;
  /** Epoch milliseconds when the invocation times out. */
  readonly deadline: number;
  /** Base64 JSON client context, as sent in X-Amz-Client-Context. */
  readonly clientContext?: string;
}

/** The error document the Node.js runtime reports for an unhandled error. */
export interface RuntimeErrorDocument {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

/** Worker → main. */
export type WorkerMessage =
  /** The handler module loaded; `logs` is what init wrote. */
  | { readonly type: 'ready'; readonly initMs: number; readonly logs: string }
  /** Loading the handler module failed: the environment is unusable. */
  | { readonly type: 'init-error'; readonly error: RuntimeErrorDocument; readonly logs: string }
  /** An invocation finished. `payload` is JSON text: the result, or the error document. */
  | {
      readonly type: 'result';
      readonly requestId: string;
      readonly ok: boolean;
      readonly payload: string;
      readonly logs: string;
      readonly heapUsedMb: number;
    }
  /** The runtime cannot go on (an unhandled rejection): the environment must be discarded. */
  | { readonly type: 'fatal'; readonly error: RuntimeErrorDocument; readonly logs: string };

/** Renders anything thrown the way the Node.js runtime does. */
export function toErrorDocument(error: unknown): RuntimeErrorDocument {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n').filter((line) => line.length > 0),
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}
