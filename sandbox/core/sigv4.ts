/**
 * Reads the SigV4 credential scope of a request (header or presigned query) to route it.
 * Signatures are not verified: the sandbox accepts any dummy credentials, as LocalStack does.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface CredentialScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

const SCOPE = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/;

/** The credential scope of a request, or undefined when it is not SigV4-signed. */
export function credentialScope(headers: IncomingHttpHeaders, url: URL): CredentialScope | undefined {
  const authorization = headers.authorization;
  let match = typeof authorization === 'string' ? SCOPE.exec(authorization) : null;
  if (!match) {
    const presigned = url.searchParams.get('X-Amz-Credential');
    if (presigned) match = SCOPE.exec(`Credential=${presigned}`);
  }
  if (!match) return undefined;
  const [, accessKeyId, date, region, service] = match as unknown as [string, string, string, string, string];
  return { accessKeyId, date, region, service };
}
