import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { ValidationError } from '../../../../../functions/common/runtime/errors.ts';
import { caretakerHandler } from '../../../../../functions/common/runtime/middleware.ts';
import { awsServiceError } from '../../../../support/aws-errors.ts';
import { fakeContext } from '../../../../support/lambda-context.ts';

const schema = z.object({ target: z.string().min(1), attempts: z.number().int().default(3) }).strict();

describe('caretakerHandler middleware stack', () => {
  it('passes the parsed input, with defaults applied, to the handler', async () => {
    const inner = vi.fn(async (input: z.output<typeof schema>) => ({ echoed: input }));
    const handler = caretakerHandler('test-fn', schema, inner);

    const result = await handler({ target: 'orders' }, fakeContext());

    expect(result).toEqual({ echoed: { target: 'orders', attempts: 3 } });
  });

  it('rejects a bad input with ValidationError before the handler runs', async () => {
    const inner = vi.fn(async () => 'side effect');
    const handler = caretakerHandler('test-fn', schema, inner);

    const outcome = handler({ target: '', attempts: 'many' }, fakeContext());

    await expect(outcome).rejects.toBeInstanceOf(ValidationError);
    await expect(outcome).rejects.toThrow(/target: .*attempts: expected number, received string/);
    expect(inner).not.toHaveBeenCalled();
  });

  it('refuses an event with a nested __proto__ key before the handler runs, naming its path', async () => {
    // Prepare
    const inner = vi.fn(async () => 'side effect');
    const handler = caretakerHandler('test-fn', z.object({ target: z.unknown() }).strict(), inner);
    const event = JSON.parse('{"target":{"list":[{"__proto__":{"isAdmin":true}}]}}');

    // Act
    const outcome = handler(event, fakeContext());

    // Assess
    await expect(outcome).rejects.toMatchObject({
      name: 'ValidationError',
      problems: [{ path: 'target.list[0].__proto__' }],
    });
    expect(inner).not.toHaveBeenCalled();
  });

  it('turns SDK errors into named Caretaker errors the flows can retry on', async () => {
    const handler = caretakerHandler('test-fn', schema, async () => {
      throw awsServiceError('ThrottlingException', 'Rate exceeded');
    });

    await expect(handler({ target: 'x' }, fakeContext())).rejects.toMatchObject({ name: 'ThrottledError' });
  });

  it('leaves unknown errors as they are so their own name reaches the flow', async () => {
    class OddError extends Error {
      override name = 'OddError';
    }
    const handler = caretakerHandler('test-fn', schema, async () => {
      throw new OddError('odd');
    });

    await expect(handler({ target: 'x' }, fakeContext())).rejects.toMatchObject({
      name: 'OddError',
      message: 'odd',
    });
  });
});
