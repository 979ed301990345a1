/**
 * Reads the SigV4 credential scope of a request (header or presigned query) to route it, and the
 * session token that temporary credentials carry. Signatures are not verified: the sandbox knows
 * its callers by access key id (access/credentials.ts), as LocalStack does.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface CredentialScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  /** X-Amz-Security-Token, sent with temporary credentials. */
  readonly sessionToken?: string;
}

const SCOPE = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/;

/** The credential scope of a request, or undefined when it is not SigV4-signed. */
export function credentialScope(headers: IncomingHttpHeaders, url: URL): CredentialScope | undefined {
  const authorization = headers.authorization;
  let match = typeof authorization === 'string' ? SCOPE.exec(authorization) : null;
  let sessionToken = headers['x-amz-security-token'];
  if (!match) {
    const presigned = url.searchParams.get('X-Amz-Credential');
    if (presigned) match = SCOPE.exec(`Credential=${presigned}`);
    sessionToken ??= url.searchParams.get('X-Amz-Security-Token') ?? undefined;
  }
  if (!match) return undefined;
  const [, accessKeyId, date, region, service] = match as unknown as [string, string, string, string, string];
  const token = Array.isArray(sessionToken) ? sessionToken[0] : sessionToken;
  return { accessKeyId, date, region, service, ...(token === undefined ? {} : { sessionToken: token }) };
}
