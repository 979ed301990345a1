/**
 * Physical names as CloudFormation makes them when a template gives none:
 * `<stack name>-<logical id>-<random suffix>`, both parts shortened to fit the service's limit,
 * lowercase where the service demands it (S3). A name from an earlier deployment of the same stack
 * into the same data directory is reused, as a stack update keeps physical ids.
 */
import { randomInt } from 'node:crypto';

export interface NameRule {
  readonly maxLength: number;
  /** S3 bucket names are lowercase. */
  readonly lowercase?: boolean;
}

const MIXED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SUFFIX_LENGTH = 12;

function randomSuffix(alphabet: string): string {
  let suffix = '';
  for (let i = 0; i < SUFFIX_LENGTH; i++) suffix += alphabet[randomInt(alphabet.length)];
  return suffix;
}

/** A new name for `logicalId` in `stackName`, within the rule's length. */
export function generateName(stackName: string, logicalId: string, rule: NameRule): string {
  const suffix = randomSuffix(rule.lowercase ? LOWER : MIXED);
  const room = rule.maxLength - suffix.length - 2;
  let stack = stackName;
  let logical = logicalId;
  if (stack.length + logical.length > room) {
    // Each part keeps at least half the room when it needs it; what one leaves, the other may use.
    logical = logical.slice(0, Math.max(Math.floor(room / 2), room - stack.length));
    stack = stack.slice(0, room - logical.length).replace(/-+$/, '');
  }
  const name = `${stack}-${logical}-${suffix}`;
  return rule.lowercase ? name.toLowerCase().replace(/[^a-z0-9.-]/g, '-') : name;
}
