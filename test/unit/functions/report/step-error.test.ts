import { describe, expect, it } from 'vitest';
import { unwrapError } from '../../../../functions/report/step-error.ts';

const CHILD = 'arn:aws:states:eu-central-1:111122223333:execution:Caretaker-prod-Backup:4f1c';
/** The cause of a failed states:startExecution.sync:2 Task: the child's DescribeExecution document. */
const describeDocument = (fields: Record<string, unknown>) =>
  JSON.stringify({ ExecutionArn: CHILD, Input: { set: 'uploads' }, Name: '4f1c', ...fields });

describe('unwrapError', () => {
  it("names a failed nested execution's own error and cause, and the child execution", () => {
    const error = unwrapError({
      name: 'States.TaskFailed',
      message: describeDocument({
        Status: 'FAILED',
        Error: 'NotFoundError',
        Cause: 'bucket app-uploads is gone',
      }),
    });

    expect(error).toEqual({ name: 'NotFoundError', message: 'bucket app-uploads is gone', execution: CHILD });
  });

  it('unwraps the function error document inside a child cause', () => {
    const cause = JSON.stringify({
      errorType: 'IntegrityError',
      errorMessage: 'a.txt: SHA-256 mismatch',
      trace: [],
    });

    expect(
      unwrapError({
        name: 'States.TaskFailed',
        message: describeDocument({ Status: 'FAILED', Error: 'IntegrityError', Cause: cause }),
      }),
    ).toEqual({ name: 'IntegrityError', message: 'a.txt: SHA-256 mismatch', execution: CHILD });
  });

  it('says how a child ended that timed out or was stopped without an error', () => {
    expect(
      unwrapError({ name: 'States.TaskFailed', message: describeDocument({ Status: 'TIMED_OUT' }) }),
    ).toEqual({
      name: 'States.Timeout',
      message: 'the nested execution ended TIMED_OUT',
      execution: CHILD,
    });
  });

  it('leaves plain errors and other JSON as they came', () => {
    expect(unwrapError({ name: 'ThrottledError', message: 'slow down' })).toEqual({
      name: 'ThrottledError',
      message: 'slow down',
    });
    expect(unwrapError({ name: 'States.Runtime', message: '{"not":"a document"}' })).toEqual({
      name: 'States.Runtime',
      message: '{"not":"a document"}',
    });
  });
});
