/**
 * A loopback answer to Secrets Manager's GetSecretValue (JSON 1.1), for the few end-to-end tests
 * whose real health-check handler must read a database password: the sandbox has no Secrets
 * Manager. A function reaches it through the standard service-specific endpoint variable
 * (`AWS_ENDPOINT_URL_SECRETS_MANAGER`), so the handler's code path is the deployed one. Any other
 * call, or an unknown secret, is answered as AWS would (an error with its type).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsEndpoint {
  /** `http://127.0.0.1:<port>`: the value of `AWS_ENDPOINT_URL_SECRETS_MANAGER`. */
  readonly url: string;
  /** Secret ARN → secret string. */
  readonly secrets: Map<string, string>;
  close(): Promise<void>;
}

function reply(response: import('node:http').ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify(body));
}

/** Starts the endpoint on 127.0.0.1 with no secrets. */
export async function startSecretsEndpoint(): Promise<SecretsEndpoint> {
  const secrets = new Map<string, string>();
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      if (request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
        reply(response, 400, { __type: 'UnknownOperationException', message: 'only GetSecretValue' });
        return;
      }
      const id = (JSON.parse(body || '{}') as { SecretId?: string }).SecretId ?? '';
      const value = secrets.get(id);
      if (value === undefined) {
        reply(response, 400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
        return;
      }
      reply(response, 200, {
        ARN: id,
        Name: id.split(':').pop(),
        SecretString: value,
        VersionId: '00000000-0000-0000-0000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1767225600,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    secrets,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
