/** The capacity event: `{}` forecasts every configured RDS target; `targets` names a subset. */
import * as z from 'zod';

export function capacityEventSchema(configured: readonly string[]) {
  return z
    .object({
      targets: z
        .array(
          z.string().refine((name) => configured.includes(name), {
            message: `expected a configured RDS target (${configured.join(', ') || 'none configured'})`,
          }),
        )
        .optional(),
      executionId: z.string().min(1).max(256).optional(),
    })
    .strict();
}

export type CapacityEvent = z.output<ReturnType<typeof capacityEventSchema>>;
