/** The flow-input event: which flow, and the input its execution was started with. */
import * as z from 'zod';
import { STATE_MACHINE_FLOWS } from '#common/flows/names';

export const flowInputEventSchema = z
  .object({
    flow: z.enum(STATE_MACHINE_FLOWS),
    /** The execution's input, as given (`$` in the flow's first state). */
    input: z.unknown(),
  })
  .strict();

export type FlowInputEvent = z.output<typeof flowInputEventSchema>;
