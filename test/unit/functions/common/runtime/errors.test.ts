import { DBSnapshotAlreadyExistsFault, InvalidDBInstanceStateFault } from '@aws-sdk/client-rds';
import { describe, expect, it } from 'vitest';
import {
  awsErrorCode,
  CaretakerError,
  ERROR_KINDS,
  NotFoundError,
  normaliseError,
  PERMANENT_ERRORS,
  TRANSIENT_ERRORS,
  ValidationError,
} from '../../../../../functions/common/runtime/errors.ts';
import { awsServiceError } from '../../../../support/aws-errors.ts';

describe('named errors', () => {
  it('splits every error name into exactly one of transient and permanent', () => {
    expect([...TRANSIENT_ERRORS, ...PERMANENT_ERRORS].sort()).toEqual(Object.keys(ERROR_KINDS).sort());
    expect(TRANSIENT_ERRORS).toEqual(['ThrottledError', 'ResourceBusyError', 'NetworkError']);
  });

  it('gives each error class its contract name and kind', () => {
    const error = new NotFoundError('snapshot x not found');

    expect(error.name).toBe('NotFoundError');
    expect(error.transient).toBe(false);
    expect(error).toBeInstanceOf(CaretakerError);
  });

  it('lists every field problem in a ValidationError message', () => {
    const error = new ValidationError([
      { path: 'severity', message: 'expected one of "info"' },
      { path: 'summary', message: 'expected string' },
    ]);

    expect(error.message).toBe('Invalid input: severity: expected one of "info"; summary: expected string');
  });

  it('maps AWS throttling to the transient ThrottledError', () => {
    const raw = awsServiceError('ThrottlingException', 'Rate exceeded');

    const error = normaliseError(raw) as CaretakerError;

    expect(error.name).toBe('ThrottledError');
    expect(error.transient).toBe(true);
    expect(error.cause).toBe(raw);
  });

  it('maps a busy RDS instance to ResourceBusyError using the wire code', () => {
    const raw = new InvalidDBInstanceStateFault({ message: 'Instance is modifying', $metadata: {} });
    Object.assign(raw, { Code: 'InvalidDBInstanceState' });

    expect(awsErrorCode(raw)).toBe('InvalidDBInstanceState');
    expect((normaliseError(raw) as Error).name).toBe('ResourceBusyError');
  });

  it('leaves AWS errors with no Caretaker meaning unchanged', () => {
    const raw = new DBSnapshotAlreadyExistsFault({ message: 'exists', $metadata: { httpStatusCode: 400 } });

    expect(normaliseError(raw)).toBe(raw);
  });

  it('treats connection resets as transient network errors', () => {
    const raw = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

    expect((normaliseError(raw) as Error).name).toBe('NetworkError');
  });

  it('passes Caretaker errors through untouched', () => {
    const error = new NotFoundError('gone');

    expect(normaliseError(error)).toBe(error);
  });
});
