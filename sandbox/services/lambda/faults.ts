/**
 * Fault injection for rehearsals (what AWS Fault Injection Service's `aws:lambda:invocation-error`
 * does): invocations of a function fail with a chosen error before its handler runs, a number of
 * times or until cleared. Used by `caretaker sandbox drill --inject`; in process only.
 */

export interface Fault {
  /** The error name the invocation fails with (a Caretaker error name, so flows Retry/Catch on it). */
  readonly errorType: string;
  readonly errorMessage: string;
  /** How many invocations fail; `always` until cleared. */
  readonly times: number | 'always';
}

/** The faults in force, by function name. */
export class Faults {
  readonly #armed = new Map<string, { fault: Fault; left: number | 'always' }>();
  /** Invocations failed so far, by function name. */
  readonly injected = new Map<string, number>();

  arm(functionName: string, fault: Fault): void {
    this.#armed.set(functionName, { fault, left: fault.times });
  }

  clear(functionName?: string): void {
    if (functionName === undefined) this.#armed.clear();
    else this.#armed.delete(functionName);
  }

  /** The fault this invocation of `functionName` fails with, if any (and counts it). */
  take(functionName: string): Fault | undefined {
    const armed = this.#armed.get(functionName);
    if (!armed) return undefined;
    if (armed.left !== 'always') {
      if (armed.left <= 0) return undefined;
      armed.left -= 1;
    }
    this.injected.set(functionName, (this.injected.get(functionName) ?? 0) + 1);
    return armed.fault;
  }
}
