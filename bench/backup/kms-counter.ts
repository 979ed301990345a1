/**
 * The sandbox's KMS service with a count of the operations it served, so the bench can print
 * how many KMS calls a backup made (counted at the server, whatever the client did).
 */
import type { ServiceFactory } from '../../sandbox/index.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';

/** Calls per operation (`GenerateDataKey`, `Decrypt`, …) since the sandbox started. */
export type KmsCounts = Map<string, number>;

/** A KMS service factory counting into `counts`; everything else is the sandbox's own service. */
export function countingKms(counts: KmsCounts): ServiceFactory {
  return async (context) => {
    const service = await kmsService(context);
    // A proxy, not a copy: other services (S3's SSE-KMS) call the KMS service's own methods.
    return new Proxy(service, {
      get(target, property) {
        if (property === 'handle') {
          return (req: Parameters<typeof target.handle>[0], res: Parameters<typeof target.handle>[1]) => {
            const header = req.headers['x-amz-target'];
            const operation = (Array.isArray(header) ? header[0] : header)?.replace(/^TrentService\./, '');
            if (operation) counts.set(operation, (counts.get(operation) ?? 0) + 1);
            return target.handle(req, res);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
}

/** What changed between two snapshots of the counts. */
export function countsSince(counts: KmsCounts, before: ReadonlyMap<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [operation, total] of counts) {
    const calls = total - (before.get(operation) ?? 0);
    if (calls) delta[operation] = calls;
  }
  return delta;
}
