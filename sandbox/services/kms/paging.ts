/**
 * KMS-style paging (`Limit`, `Marker`, `Truncated`, `NextMarker`) over a list sorted by a stable key.
 */
import { AwsError } from '../../core/types.ts';

export interface Page<T> {
  readonly items: T[];
  readonly Truncated: boolean;
  readonly NextMarker?: string;
}

/** Returns the page after `marker`; markers are opaque and name the last item of the previous page. */
export function page<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  limit: number,
  marker?: string,
): Page<T> {
  let start = 0;
  if (marker !== undefined) {
    const after = decodeMarker(marker);
    start = items.findIndex((item) => keyOf(item) > after);
    if (start === -1) start = items.length;
  }
  const slice = items.slice(start, start + limit);
  const truncated = start + limit < items.length;
  const last = slice.at(-1);
  return truncated && last !== undefined
    ? { items: slice, Truncated: true, NextMarker: Buffer.from(keyOf(last), 'utf8').toString('base64url') }
    : { items: slice, Truncated: false };
}

function decodeMarker(marker: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(marker))
    throw new AwsError('InvalidMarkerException', 'The marker is not valid');
  return Buffer.from(marker, 'base64url').toString('utf8');
}
