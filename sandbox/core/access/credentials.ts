/**
 * Who a request comes from, by its SigV4 access key id.
 *
 * - Role sessions: the sandbox issues temporary credentials for a role and a session name, as STS
 *   does for a Lambda function's execution role (`ASIA…` key id, secret, session token). A request
 *   signed with them acts as `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
 * - The administrator: any key id that is not shaped like an AWS access key (`sandbox` as `sandbox
 *   up` prints it, or the dummy values tests and tutorials use). It is never evaluated, so awscli
 *   by hand and the deployer work as before.
 * - Unknown: a key id shaped like an AWS key (`AKIA…`, `ASIA…`) that this sandbox did not issue — a
 *   real key pasted by mistake, or a role key from an earlier run. Refused, as AWS refuses a key it
 *   does not know.
 *
 * Signatures are not verified (the sandbox accepts any secret, as before), but a role key must come
 * with its own session token, as AWS requires of temporary credentials.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** Temporary credentials, as a function's environment receives them. */
export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** A role session the sandbox issued credentials for. */
export interface RoleSession {
  readonly roleArn: string;
  /** The session name: a function's name, a state machine's or a schedule's. */
  readonly sessionName: string;
}

export type Caller =
  | { readonly kind: 'administrator' }
  | ({ readonly kind: 'role' } & RoleSession)
  | { readonly kind: 'unknown-key'; readonly accessKeyId: string }
  | { readonly kind: 'invalid-token'; readonly accessKeyId: string };

/** AWS access key ids: a four-letter prefix (AKIA long-term, ASIA temporary, …) and 16 characters. */
const AWS_SHAPED_KEY = /^(AKIA|ASIA|AIDA|AROA|ABIA|ACCA)[A-Z0-9]{12,124}$/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Buffer, characters: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < characters) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** Role session names as STS allows them: 2-64 of `\w+=,.@-`. */
export function sessionNameOf(name: string): string {
  const cleaned = name.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : `${cleaned}--`.slice(0, 2);
}

/** Issues and recognizes role session credentials for one running sandbox. */
export class CredentialIssuer {
  readonly #secret = randomBytes(32);
  readonly #sessions = new Map<string, RoleSession & { readonly sessionToken: string }>();

  /** The credentials of a session of `roleArn` (the same ones for the same role and session name). */
  issue(roleArn: string, sessionName: string): SessionCredentials {
    const name = sessionNameOf(sessionName);
    const mac = (purpose: string) =>
      createHmac('sha256', this.#secret).update(`${purpose}\n${roleArn}\n${name}`).digest();
    const accessKeyId = `ASIA${base32(mac('key'), 16)}`;
    const secretAccessKey = mac('secret').toString('base64').slice(0, 40);
    const sessionToken = `${mac('token').toString('base64')}${mac('token2').toString('base64')}`;
    this.#sessions.set(accessKeyId, { roleArn, sessionName: name, sessionToken });
    return { accessKeyId, secretAccessKey, sessionToken };
  }

  /** Who signed with `accessKeyId` (and sent `sessionToken`, the X-Amz-Security-Token). */
  identify(accessKeyId: string, sessionToken: string | undefined): Caller {
    const session = this.#sessions.get(accessKeyId);
    if (session) {
      if (sessionToken !== session.sessionToken) return { kind: 'invalid-token', accessKeyId };
      return { kind: 'role', roleArn: session.roleArn, sessionName: session.sessionName };
    }
    return AWS_SHAPED_KEY.test(accessKeyId)
      ? { kind: 'unknown-key', accessKeyId }
      : { kind: 'administrator' };
  }
}
