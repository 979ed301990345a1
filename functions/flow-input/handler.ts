/**
 * flow-input: the first state of every flow. Validates the execution's input with the flow's
 * schema (functions/common/flows/inputs.ts, the same one the CLI and the docs use) and returns
 * the run's plan; a bad input fails here with a ValidationError naming every bad field, before
 * any side effect.
 */
import { flowContextFromEnv } from '#common/flows/context';
import { flowInputSchema } from '#common/flows/inputs';
import { caretakerHandler } from '#common/runtime/middleware';
import { parseOrThrow } from '#common/runtime/validation';
import { type FlowInputEvent, flowInputEventSchema } from './input.ts';

const CONTEXT = flowContextFromEnv();

/** The plan of a run of `event.flow` started with `event.input`. */
export async function planFlow(event: FlowInputEvent): Promise<unknown> {
  return parseOrThrow(flowInputSchema(event.flow, CONTEXT), event.input ?? {}, `${event.flow} input`);
}

export const handler = caretakerHandler('flow-input', flowInputEventSchema, planFlow);
