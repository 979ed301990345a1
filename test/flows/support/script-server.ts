/**
 * The test side of scripted-handler.ts: a loopback HTTP server that answers each invocation of a
 * scripted function with the test's behaviour for it, and records every call.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a scripted function does with one call: return a result, or throw `fail(name, message)`. */
export type Behaviour = (event: Record<string, unknown>, call: number) => unknown | Promise<unknown>;

/** Thrown by a behaviour to make the function fail with a Caretaker (or any) error name. */
export class ScriptedError extends Error {
  constructor(name: string, message = `${name} (scripted)`) {
    super(message);
    this.name = name;
  }
}

/** A failure with `name`, for behaviours: `() => fail('ThrottledError')`. */
export function fail(name: string, message?: string): never {
  throw new ScriptedError(name, message);
}

export interface RecordedCall {
  readonly function: string;
  readonly event: Record<string, unknown>;
}

export class ScriptServer {
  readonly calls: RecordedCall[] = [];
  #behaviours = new Map<string, Behaviour>();
  #server: Server | undefined;
  url = '';

  /** Sets what `functionName` does from now on (replacing any earlier behaviour). */
  on(functionName: string, behaviour: Behaviour): this {
    this.#behaviours.set(functionName, behaviour);
    return this;
  }

  /** Forgets every behaviour and call. */
  reset(): void {
    this.#behaviours.clear();
    this.calls.length = 0;
  }

  /** The events `functionName` was called with, in order. */
  eventsOf(functionName: string): Record<string, unknown>[] {
    return this.calls.filter((call) => call.function === functionName).map((call) => call.event);
  }

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', async () => {
        const { function: name, event } = JSON.parse(body) as {
          function: string;
          event: Record<string, unknown>;
        };
        const call = this.calls.filter((c) => c.function === name).length;
        this.calls.push({ function: name, event });
        const behaviour = this.#behaviours.get(name);
        let answer: unknown;
        try {
          if (!behaviour) throw new ScriptedError('ScriptMissing', `The test gave no behaviour for ${name}`);
          answer = { result: (await behaviour(event, call)) ?? {} };
        } catch (error) {
          const { name: errorName, message } = error as Error;
          answer = { error: { name: errorName, message } };
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
