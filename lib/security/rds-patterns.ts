/**
 * IAM resource patterns for the RDS identifiers Caretaker derives, computed from the very functions
 * that make the names (functions/common/rds/rds-names.ts), so policy and code cannot drift apart. The
 * parts that vary per execution (hex digits of a hash, a UTC timestamp) become `?` — exactly one
 * character each — rather than `*`, so a database an operator named `<id>-replica` or
 * `<id>-reporting-old` stays outside Caretaker's namespace.
 */
import { oldIdentifier, restoredIdentifier, writerIdentifier } from '../../functions/common/rds/rds-names.ts';

/** Several executions' worth of samples: a position that varies in any of them varies per execution. */
const SAMPLE_EXECUTIONS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/** `name(sample)` for every sample, with each position that is not the same in all of them as `?`. */
function varyingAsWildcards(name: (execution: string) => string): string {
  const samples = SAMPLE_EXECUTIONS.map(name);
  const [first] = samples as [string, ...string[]];
  if (samples.some((sample) => sample.length !== first.length)) {
    throw new Error(`Derived identifiers of ${first} vary in length: no exact IAM pattern`);
  }
  return [...first].map((char, i) => (samples.every((sample) => sample[i] === char) ? char : '?')).join('');
}

/** Every identifier a restore of `source` can get: `<source>-r` and 8 hex digits. */
export function restoredPattern(source: string): string {
  return varyingAsWildcards((execution) => restoredIdentifier(source, execution));
}

/** The writer instance of every cluster a restore of `source` can create. */
export function restoredWriterPattern(source: string): string {
  return varyingAsWildcards((execution) => writerIdentifier(restoredIdentifier(source, execution)));
}

/** Every name a switch-over can park `source` under: `<source>-old-` and 14 digits of UTC time. */
export function parkedPattern(source: string): string {
  const base = oldIdentifier(source, new Date(0));
  return `${base.slice(0, -14)}${'?'.repeat(14)}`;
}
