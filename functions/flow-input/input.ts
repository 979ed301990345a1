/** The flow-input event: which flow, and the input its execution was started with. */
import * as z from 'zod';
import { FLOW_INPUTS } from '#common/flows/inputs';
import type { StateMachineFlow } from '#common/flows/names';

const flows = Object.keys(FLOW_INPUTS) as [StateMachineFlow, ...StateMachineFlow[]];

export const flowInputEventSchema = z
  .object({
    flow: z.enum(flows),
    /** The execution's input, as given (`$` in the flow's first state). */
    input: z.unknown(),
  })
  .strict();

export type FlowInputEvent = z.output<typeof flowInputEventSchema>;
