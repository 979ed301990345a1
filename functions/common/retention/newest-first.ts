/**
 * Orders point indices by time, newest first, equal times in input order — in linear time.
 *
 * A comparison sort of a million indices costs n·log n comparator calls and grows faster than the
 * input; a stable LSD radix sort on the integer age in milliseconds (relative to the newest point)
 * grows with n. Digits are 11 bits, so each pass scatters into 2,048 buckets whose write positions
 * stay in cache (16-bit digits would scatter over 65,536, and a million points would miss on
 * nearly every write); a 3-year history takes 4 passes.
 */

/** Points in time order, newest first. */
export interface History {
  /** Input indices, newest first; equal times in ascending index order. */
  readonly order: Uint32Array;
  /** `times[position]` is the time of `order[position]`, so walks read memory in sequence. */
  readonly times: Float64Array;
}

const SMALL = 512;
const DIGIT_BITS = 11;
const BUCKETS = 1 << DIGIT_BITS;
const DIGIT_MASK = BUCKETS - 1;
/** Ages must stay exact integers in a double. */
const RADIX_LIMIT = 2 ** 52;

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
  const range = newest - oldest;
  if (count < SMALL || !integral || !(range < RADIX_LIMIT)) {
    const order = indices.slice().sort((a, b) => times[b]! - times[a]! || a - b);
    return { order, times: Float64Array.from(order, (index) => times[index]!) };
  }

  // Ascending age = descending time; LSD radix sort is stable, so ties stay in input order.
  let order = indices.slice();
  let ages = new Float64Array(count);
  for (let i = 0; i < count; i++) ages[i] = newest - times[order[i]!]!;
  let nextOrder = new Uint32Array(count);
  let nextAges = new Float64Array(count);
  const counts = new Uint32Array(BUCKETS);
  let passes = 1;
  while (passes * DIGIT_BITS < 52 && range >= 2 ** (passes * DIGIT_BITS)) passes++;
  for (let pass = 0; pass < passes; pass++) {
    // age · 2^-shift is exact; `& mask` truncates it and keeps the digit's bits (ToInt32 is mod 2^32).
    const scale = 2 ** (-pass * DIGIT_BITS);
    counts.fill(0);
    for (let i = 0; i < count; i++) counts[(ages[i]! * scale) & DIGIT_MASK]!++;
    let start = 0;
    for (let digit = 0; digit < BUCKETS; digit++) {
      const size = counts[digit]!;
      counts[digit] = start;
      start += size;
    }
    for (let i = 0; i < count; i++) {
      const age = ages[i]!;
      const at = counts[(age * scale) & DIGIT_MASK]!++;
      nextOrder[at] = order[i]!;
      nextAges[at] = age;
    }
    [order, nextOrder] = [nextOrder, order];
    [ages, nextAges] = [nextAges, ages];
  }
  for (let i = 0; i < count; i++) ages[i] = newest - ages[i]!;
  return { order, times: ages };
}
