/** What the rds-restore actions work with, passed in so tests can substitute any part. */
import type { RDSClient } from '@aws-sdk/client-rds';

export interface RestoreDeps {
  /** RDS in the stack's region. */
  readonly rds: RDSClient;
  /** RDS in another region (restores of DR copies). */
  readonly rdsIn: (region: string) => RDSClient;
  /** The stack's region. */
  readonly region: string;
  /** Stack name for the `caretaker:stack` tag. */
  readonly stack: string;
}

/** The client and region name for an optional region (default: the stack's). */
export function regional(
  deps: RestoreDeps,
  region: string | null | undefined,
): { rds: RDSClient; region: string } {
  const name = region ?? deps.region;
  return { rds: name === deps.region ? deps.rds : deps.rdsIn(name), region: name };
}
