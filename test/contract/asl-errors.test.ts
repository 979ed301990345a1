/**
 * The contract between the flows and the functions, read from the ASL files themselves: every
 * error name a Retry or Catch matches is one that can actually occur (a Step Functions `States.*`
 * name, a Caretaker error from functions/common/runtime/errors.ts, or a Lambda service fault), and every
 * Retry of a function task lists exactly the transient errors, so a retry decision lives in one
 * place (ERROR_KINDS) and cannot drift in the ASL. Deliberate exceptions are written down below
 * with their reasons.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ERROR_KINDS,
  LAMBDA_SERVICE_ERRORS,
  PERMANENT_ERRORS,
  RETRYABLE_TASK_ERRORS,
} from '#common/runtime/errors';
import { type AslMachine, statesOf } from '../../lib/flows/asl.ts';

/** Step Functions' own error names (States.*), as the developer guide lists them. */
const STATES_ERRORS = [
  'States.ALL',
  'States.TaskFailed',
  'States.Timeout',
  'States.HeartbeatTimeout',
  'States.Permissions',
  'States.ResultPathMatchFailure',
  'States.ParameterPathFailure',
  'States.BranchFailed',
  'States.NoChoiceMatched',
  'States.IntrinsicFailure',
  'States.ExceedToleratedFailureThreshold',
  'States.ItemReaderFailed',
  'States.ResultWriterFailed',
];

/** Retry blocks that deliberately differ from RETRYABLE_TASK_ERRORS, by `<file>#<state>`, with why. */
const RETRY_EXCEPTIONS: Readonly<Record<string, string>> = {};

const FILES = readdirSync('statemachines').filter((file) => file.endsWith('.asl.json'));
const machine = (file: string) => JSON.parse(readFileSync(`statemachines/${file}`, 'utf8')) as AslMachine;
const KNOWN = new Set<string>([...STATES_ERRORS, ...Object.keys(ERROR_KINDS), ...LAMBDA_SERVICE_ERRORS]);

describe.each(FILES)('%s', (file) => {
  const states = statesOf(machine(file));

  it('matches only error names that can occur', () => {
    const unknown = states.flatMap(({ name, state }) =>
      [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((rule) =>
        rule.ErrorEquals.filter((error) => !KNOWN.has(error)).map((error) => `${name}: ${error}`),
      ),
    );

    expect(unknown).toEqual([]);
  });

  it('retries exactly the transient errors on every function task, and never a permanent one', () => {
    const drift = states.flatMap(({ name, state }) => {
      if (RETRY_EXCEPTIONS[`${file}#${name}`]) return [];
      return (state.Retry ?? []).flatMap((retrier, index) =>
        JSON.stringify([...retrier.ErrorEquals].sort()) === JSON.stringify([...RETRYABLE_TASK_ERRORS].sort())
          ? []
          : [`${name}.Retry[${index}]: ${retrier.ErrorEquals.join(', ')}`],
      );
    });
    const permanent = states.flatMap(({ name, state }) =>
      (state.Retry ?? []).flatMap((retrier) =>
        retrier.ErrorEquals.filter((error) => (PERMANENT_ERRORS as readonly string[]).includes(error)).map(
          (error) => `${name}: ${error}`,
        ),
      ),
    );

    expect(drift).toEqual([]);
    expect(permanent).toEqual([]);
  });

  it('retries every function task', () => {
    const unretried = states
      .filter(({ state }) => state.Type === 'Task' && String(state.Resource).includes(':lambda:'))
      .filter(({ state }) => (state.Retry ?? []).length === 0)
      .map(({ name }) => name);

    expect(unretried).toEqual([]);
  });
});

describe('retry exceptions', () => {
  it('name states that exist', () => {
    for (const key of Object.keys(RETRY_EXCEPTIONS)) {
      const [file, state] = key.split('#') as [string, string];
      expect(
        statesOf(machine(file)).map((s) => s.name),
        key,
      ).toContain(state);
    }
  });
});
