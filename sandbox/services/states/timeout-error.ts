/**
 * The interpreter's own `States.Timeout` error, for Tasks whose timeouts the sandbox keeps itself.
 *
 * aws-local-stepfunctions lets a `States.TaskFailed` retrier or catcher match every Task error
 * except instances of its timeout class, which it does not export. A Task the sandbox times out
 * (so that it can stop what the Task was waiting on first) must therefore fail with an instance of
 * that class, not with a look-alike `States.Timeout`. The class is taken, once, from a one-state
 * machine whose Task times out at once.
 */
import '../../core/polyfills.ts';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';

type ErrorClass = new () => Error;

let timeoutClass: Promise<ErrorClass> | undefined;

async function captureTimeoutClass(): Promise<ErrorClass> {
  const machine = new StateMachine(
    {
      StartAt: 'TimesOut',
      // TimeoutSeconds is read as a number of seconds and multiplied by 1000: 1 ms.
      States: {
        TimesOut: {
          Type: 'Task',
          Resource: 'arn:aws:states:::sandbox:timeout',
          TimeoutSeconds: 0.001,
          End: true,
        },
      },
    },
    { validationOptions: { noValidate: true } },
  );
  const pending = new Promise<null>(() => undefined);
  try {
    await machine.run(null, { overrides: { taskResourceLocalHandlers: { TimesOut: () => pending } } }).result;
  } catch (error) {
    const cause = error instanceof ExecutionError ? error.cause : undefined;
    if (cause instanceof Error && cause.name === 'States.Timeout') return cause.constructor as ErrorClass;
  }
  throw new Error('aws-local-stepfunctions no longer fails a timed-out Task with States.Timeout');
}

/** A new `States.Timeout` error that the interpreter treats as its own Task timeout. */
export async function statesTimeout(): Promise<Error> {
  timeoutClass ??= captureTimeoutClass();
  const ErrorClass = await timeoutClass;
  return new ErrorClass();
}
