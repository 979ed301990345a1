/**
 * The middleware stack every Caretaker function is wrapped in:
 * Powertools logger (context + correlation), metrics, tracer, error normalisation and zod input
 * validation. Validation runs last in `before`, so a bad input fails before the handler runs and
 * therefore before any side effect.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { CaretakerError, normaliseError } from './errors.ts';
import { correlate, logger, metrics, tracer } from './observability.ts';
import { parseOrThrow } from './validation.ts';

/**
 * Replaces the raw event with its parsed form, or throws a ValidationError naming every bad field.
 * Every function shares the checks of `parseOrThrow` that no schema states: `__proto__`,
 * `constructor` and `prototype` keys are refused anywhere in an event.
 */
export function validateInput<S extends z.ZodType>(schema: S): MiddlewareObj {
  return {
    before: (request) => {
      request.event = parseOrThrow(schema, request.event);
    },
  };
}

/** Maps SDK and system errors to named Caretaker errors and logs each failure once. */
export function normaliseErrors(): MiddlewareObj {
  return {
    onError: (request) => {
      const error = normaliseError(request.error);
      if (error instanceof CaretakerError) {
        logger.error(error.message, {
          errorName: error.name,
          transient: error.transient,
          details: error.details,
        });
      } else {
        logger.error('Unhandled error', error as Error);
      }
      request.error = error as Error;
    },
  };
}

/** Appends the Step Functions execution id (when the flow passes one) to every log line. */
function correlateExecution(): MiddlewareObj {
  return {
    before: (request) => {
      const event = request.event as { executionId?: unknown } | undefined;
      if (event && typeof event.executionId === 'string') correlate({ executionId: event.executionId });
    },
  };
}

/**
 * Wraps a typed handler in the Caretaker middleware stack.
 * The handler receives the event already parsed by `schema`.
 */
export function caretakerHandler<S extends z.ZodType, R>(
  functionName: string,
  schema: S,
  handler: (input: z.output<S>, context: Context) => Promise<R>,
) {
  logger.appendPersistentKeys({ function: functionName });
  metrics.setDefaultDimensions({ function: functionName });
  return middy<unknown, R, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(normaliseErrors())
    .use(correlateExecution())
    .use(validateInput(schema))
    .handler((event, context) => handler(event as z.output<S>, context));
}
