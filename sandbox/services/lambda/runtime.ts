/**
 * Execution environments for the sandbox's functions: each is a worker thread with the function's
 * own environment variables (handlers read env at module scope, so functions must not share a
 * process.env), created on a cold start, kept warm for reuse, one invocation at a time. Concurrent
 * invocations get fresh environments up to a limit; beyond it they queue, as if AWS had capacity.
 * A timeout or crash discards the environment, as Lambda does.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { InvokeMessage, RuntimeErrorDocument, WorkerInit, WorkerMessage } from './protocol.ts';
import { handlerSetting, type ResolvedTarget, type VersionConfig } from './registry.ts';

const BOOTSTRAP = new URL('./worker-bootstrap.mjs', import.meta.url);
/** Lambda gives the init phase 10 s of its own before it counts against the invocation. */
const INIT_ALLOWANCE_MS = 10_000;

/** What one invocation produced. */
export interface InvocationOutcome {
  /** False when the function failed (X-Amz-Function-Error: Unhandled). */
  readonly ok: boolean;
  /** JSON text: the handler's result, or the runtime's error document. */
  readonly payload: string;
  readonly executedVersion: string;
  /** This invocation's log, START to REPORT, as CloudWatch would hold it. */
  readonly logs: string;
}

export interface RuntimeOptions {
  /** The sandbox endpoint, CA and credentials a function version gets (its role's, when known). */
  readonly baseEnvironment: (target: ResolvedTarget) => Readonly<Record<string, string>>;
  /** Environments per function version before invocations queue. */
  readonly maxEnvironments: number;
  /** Idle environments are shut down after this long. */
  readonly idleMs: number;
  /** Receives each invocation's log text. */
  readonly onLog: (config: VersionConfig, functionName: string, region: string, text: string) => void;
}

interface Environment {
  readonly worker: Worker;
  readonly ready: Promise<{ initMs: number; logs: string } | { error: RuntimeErrorDocument; logs: string }>;
  /** Settles the invocation in progress when the worker answers, dies or is killed. */
  pending?: (message: WorkerMessage | { type: 'exit'; error: RuntimeErrorDocument }) => void;
  idleTimer?: NodeJS.Timeout;
  /** Init duration and logs, reported with the first invocation only. */
  coldStart?: { initMs: number; logs: string };
  dead: boolean;
}

interface Pool {
  readonly idle: Environment[];
  readonly all: Set<Environment>;
  readonly waiting: (() => void)[];
}

function errorPayload(errorType: string, errorMessage: string): string {
  return JSON.stringify({ errorType, errorMessage, trace: [] });
}

function lambdaTimestamp(): string {
  return new Date().toISOString();
}

export class FunctionRuntime {
  readonly #pools = new Map<string, Pool>();
  #closed = false;

  constructor(private readonly options: RuntimeOptions) {}

  /** Runs one invocation to completion (success, function error, timeout or crash). */
  async invoke(
    target: ResolvedTarget,
    payload: string,
    requestId: string,
    clientContext?: string,
  ): Promise<InvocationOutcome> {
    if (this.#closed) throw new Error('The Lambda runtime is shut down');
    const { config, fn } = target;
    const key = poolKey(fn.region, fn.name, config);
    const pool = this.#pool(key);
    const environment = await this.#acquire(pool, target);
    const ready = await environment.ready;
    const started = performance.now();
    const header = `START RequestId: ${requestId} Version: ${config.version}\n`;
    const coldStart = environment.coldStart;
    environment.coldStart = undefined;
    let outcome: { ok: boolean; payload: string; logs: string; heapUsedMb: number; keep: boolean };
    if ('error' in ready) {
      outcome = {
        ok: false,
        payload: JSON.stringify(ready.error),
        logs: ready.logs,
        heapUsedMb: 0,
        keep: false,
      };
    } else {
      outcome = await this.#run(environment, target, payload, requestId, clientContext);
    }

    const durationMs = performance.now() - started;
    const report =
      `END RequestId: ${requestId}\n` +
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\t` +
      `Memory Size: ${config.memoryMb} MB\tMax Memory Used: ${outcome.heapUsedMb} MB` +
      (coldStart ? `\tInit Duration: ${coldStart.initMs.toFixed(2)} ms` : '') +
      '\n';
    const logs = `${coldStart?.logs ?? ''}${header}${outcome.logs}${report}`;
    this.options.onLog(config, fn.name, fn.region, logs);

    if (outcome.keep) this.#release(pool, environment);
    else this.#discard(pool, environment);
    return { ok: outcome.ok, payload: outcome.payload, executedVersion: config.version, logs };
  }

  /** Shuts down idle environments of a function version (its code or configuration changed). */
  retire(region: string, name: string, config: VersionConfig): void {
    const key = poolKey(region, name, config);
    const pool = this.#pools.get(key);
    if (!pool) return;
    for (const environment of pool.idle.splice(0)) this.#discard(pool, environment);
  }

  /** Stops every environment. */
  async close(): Promise<void> {
    this.#closed = true;
    const terminations: Promise<number>[] = [];
    for (const pool of this.#pools.values()) {
      for (const environment of pool.all) {
        clearTimeout(environment.idleTimer);
        environment.dead = true;
        environment.pending?.({
          type: 'exit',
          error: { errorType: 'Runtime.ExitError', errorMessage: 'The sandbox is shutting down', trace: [] },
        });
        terminations.push(environment.worker.terminate());
      }
      pool.all.clear();
      pool.idle.length = 0;
    }
    this.#pools.clear();
    await Promise.allSettled(terminations);
  }

  #pool(key: string): Pool {
    let pool = this.#pools.get(key);
    if (!pool) {
      pool = { idle: [], all: new Set(), waiting: [] };
      this.#pools.set(key, pool);
    }
    return pool;
  }

  async #acquire(pool: Pool, target: ResolvedTarget): Promise<Environment> {
    for (;;) {
      const idle = pool.idle.pop();
      if (idle?.dead) {
        this.#discard(pool, idle);
        continue;
      }
      if (idle) {
        clearTimeout(idle.idleTimer);
        return idle;
      }
      if (pool.all.size < this.options.maxEnvironments) {
        const environment = this.#spawn(target);
        pool.all.add(environment);
        return environment;
      }
      await new Promise<void>((resolve) => pool.waiting.push(resolve));
    }
  }

  #release(pool: Pool, environment: Environment): void {
    if (environment.dead || this.#closed) return;
    pool.idle.push(environment);
    environment.idleTimer = setTimeout(() => {
      const index = pool.idle.indexOf(environment);
      if (index >= 0) pool.idle.splice(index, 1);
      this.#discard(pool, environment);
    }, this.options.idleMs);
    environment.idleTimer.unref();
    pool.waiting.shift()?.();
  }

  #discard(pool: Pool, environment: Environment): void {
    clearTimeout(environment.idleTimer);
    environment.dead = true;
    pool.all.delete(environment);
    void environment.worker.terminate();
    pool.waiting.shift()?.();
  }

  #spawn(target: ResolvedTarget): Environment {
    const { fn, config } = target;
    const logStreamName = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[${config.version}]${randomBytes(16).toString('hex')}`;
    const init: WorkerInit = {
      modulePath: config.modulePath,
      handlerName: config.handlerName,
      functionName: fn.name,
      functionVersion: config.version,
      memoryLimitInMB: config.memoryMb,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName,
    };
    const worker = new Worker(BOOTSTRAP, {
      workerData: init,
      env: {
        ...inheritedEnvironment(),
        ...config.environment,
        ...this.options.baseEnvironment(target),
        AWS_REGION: fn.region,
        AWS_DEFAULT_REGION: fn.region,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_VERSION: config.version,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: init.logGroupName,
        AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        _HANDLER: handlerSetting(config),
      },
      execArgv: [],
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, config.memoryMb) },
    });
    worker.unref();
    // Output is captured inside the worker; drain the streams so nothing stalls.
    worker.stdout.resume();
    worker.stderr.resume();

    let resolveReady!: (value: Awaited<Environment['ready']>) => void;
    const environment: Environment = {
      worker,
      dead: false,
      ready: new Promise((resolve) => {
        resolveReady = resolve;
      }),
    };
    const initLimitMs = Math.max(INIT_ALLOWANCE_MS, config.timeoutMs);
    const initTimer = setTimeout(() => {
      resolveReady({
        error: {
          errorType: 'Runtime.InitTimeout',
          errorMessage: `Init phase did not finish within ${initLimitMs / 1000} seconds`,
          trace: [],
        },
        logs: '',
      });
    }, initLimitMs);
    initTimer.unref();
    const end = (error: RuntimeErrorDocument) => {
      clearTimeout(initTimer);
      environment.dead = true;
      resolveReady({ error, logs: '' });
      environment.pending?.({ type: 'exit', error });
    };
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') {
        clearTimeout(initTimer);
        environment.coldStart = { initMs: message.initMs, logs: message.logs };
        resolveReady({ initMs: message.initMs, logs: message.logs });
      } else if (message.type === 'init-error') {
        clearTimeout(initTimer);
        resolveReady({ error: message.error, logs: message.logs });
      } else {
        environment.pending?.(message);
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      end(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? {
              errorType: 'Runtime.OutOfMemory',
              errorMessage: 'Runtime exited with error: signal: killed',
              trace: [],
            }
          : {
              errorType: error.name || 'Error',
              errorMessage: error.message,
              trace: (error.stack ?? '').split('\n'),
            },
      );
    });
    worker.on('exit', (code) => {
      end({
        errorType: 'Runtime.ExitError',
        errorMessage: `Runtime exited with error: exit status ${code}`,
        trace: [],
      });
    });
    return environment;
  }

  #run(
    environment: Environment,
    target: ResolvedTarget,
    payload: string,
    requestId: string,
    clientContext: string | undefined,
  ): Promise<{ ok: boolean; payload: string; logs: string; heapUsedMb: number; keep: boolean }> {
    const { config } = target;
    const deadline = Date.now() + config.timeoutMs;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        environment.pending = undefined;
        const seconds = (config.timeoutMs / 1000).toFixed(2);
        resolve({
          ok: false,
          payload: errorPayload(
            'Sandbox.Timedout',
            `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds`,
          ),
          logs: `${lambdaTimestamp()} ${requestId} Task timed out after ${seconds} seconds\n`,
          heapUsedMb: 0,
          keep: false,
        });
      }, config.timeoutMs);
      environment.pending = (message) => {
        clearTimeout(timer);
        environment.pending = undefined;
        switch (message.type) {
          case 'result':
            resolve({
              ok: message.ok,
              payload: message.payload,
              logs: message.logs,
              heapUsedMb: message.heapUsedMb,
              keep: true,
            });
            return;
          case 'fatal':
            resolve({
              ok: false,
              payload: JSON.stringify(message.error),
              logs: message.logs,
              heapUsedMb: 0,
              keep: false,
            });
            return;
          case 'exit':
            resolve({
              ok: false,
              payload: errorPayload(
                message.error.errorType,
                `RequestId: ${requestId} Error: ${message.error.errorMessage}`,
              ),
              logs: '',
              heapUsedMb: 0,
              keep: false,
            });
            return;
          default:
            return;
        }
      };
      const message: InvokeMessage = {
        type: 'invoke',
        requestId,
        payload,
        invokedFunctionArn: target.invokedArn,
        deadline,
        ...(clientContext !== undefined ? { clientContext } : {}),
      };
      environment.worker.postMessage(message);
    });
  }
}

function poolKey(region: string, name: string, config: VersionConfig): string {
  return `${region}/${name}/${config.version}/${config.revisionId}`;
}

/** What a Lambda environment has besides the function's own variables: a path, a home, a tmp. */
function inheritedEnvironment(): Record<string, string> {
  const inherited: Record<string, string> = { LANG: 'en_US.UTF-8' };
  for (const name of ['PATH', 'HOME', 'TMPDIR']) {
    const value = process.env[name];
    if (value !== undefined) inherited[name] = value;
  }
  return inherited;
}
