/**
 * The Cleanup flow's input. `dryRun` is required: a run that deletes must say so (an input such as
 * `{"dryrun": true}` is refused as an unknown field, never read as a real cleanup).
 */
import * as z from 'zod';

export const cleanupFlowInput = () =>
  z
    .object({
      /** true: only report what would be deleted and why; false: delete it. */
      dryRun: z.boolean(),
    })
    .strict();
