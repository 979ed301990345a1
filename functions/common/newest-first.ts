/**
 * Orders point indices by time, newest first, equal times in input order — in linear time.
 *
 * A comparison sort of a million indices costs n·log n comparator calls and grows faster than the
 * input; a stable LSD radix sort on the (integer millisecond) age relative to the newest point
 * takes at most three 16-bit passes for any history shorter than 8,900 years and grows with n.
 */

const SMALL = 1024;
const RADIX_BITS = 16;
const BUCKETS = 1 << RADIX_BITS;
const TWO_32 = 2 ** 32;
/** Ages below this fit three 16-bit digits. */
const RADIX_LIMIT = 2 ** 48;

/** Points in time order, newest first. */
export interface History {
  /** Input indices, newest first; equal times in ascending index order. */
  readonly order: Uint32Array;
  /** `times[position]` is the time of `order[position]`, so walks read memory in sequence. */
  readonly times: Float64Array;
}

/** `indices` (ascending) sorted by `times[index]` descending; ties keep ascending index order. */
export function newestFirst(indices: Uint32Array, times: Float64Array): History {
  const count = indices.length;
  let newest = Number.NEGATIVE_INFINITY;
  let oldest = Number.POSITIVE_INFINITY;
  let integral = true;
  for (let i = 0; i < count; i++) {
    const time = times[indices[i]!]!;
    if (time > newest) newest = time;
    if (time < oldest) oldest = time;
    if (!Number.isInteger(time)) integral = false;
  }
  const order = indices.slice();
  const range = newest - oldest;
  if (count < SMALL || !integral || !(range < RADIX_LIMIT)) {
    order.sort((a, b) => times[b]! - times[a]! || a - b);
    return {
      order,
      times: order.length === 0 ? new Float64Array(0) : Float64Array.from(order, (i) => times[i]!),
    };
  }
  // Ascending age = descending time; LSD radix sort is stable, so ties stay in input order.
  let low = new Uint32Array(count);
  let high = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const age = newest - times[order[i]!]!;
    const lowPart = age % TWO_32;
    low[i] = lowPart;
    high[i] = (age - lowPart) / TWO_32;
  }
  const passes = range < BUCKETS ? 1 : range < TWO_32 ? 2 : 3;
  let source = order;
  let target = new Uint32Array(count);
  let targetLow = new Uint32Array(count);
  let targetHigh = new Uint32Array(count);
  const counts = new Uint32Array(BUCKETS);
  // Below 2^32 every high part is zero and needs no carrying.
  const carryHigh = passes === 3;
  for (let pass = 0; pass < passes; pass++) {
    const digits = pass < 2 ? low : high;
    const shift = pass === 1 ? RADIX_BITS : 0;
    counts.fill(0);
    for (let i = 0; i < count; i++) counts[(digits[i]! >>> shift) & 0xffff]!++;
    let start = 0;
    for (let digit = 0; digit < BUCKETS; digit++) {
      const size = counts[digit]!;
      counts[digit] = start;
      start += size;
    }
    for (let i = 0; i < count; i++) {
      const at = counts[(digits[i]! >>> shift) & 0xffff]!++;
      target[at] = source[i]!;
      targetLow[at] = low[i]!;
      if (carryHigh) targetHigh[at] = high[i]!;
    }
    [source, target] = [target, source];
    [low, targetLow] = [targetLow, low];
    [high, targetHigh] = [targetHigh, high];
  }
  const sorted = new Float64Array(count);
  for (let i = 0; i < count; i++) sorted[i] = newest - (high[i]! * TWO_32 + low[i]!);
  return { order: source, times: sorted };
}
