/**
 * AWS SDK v3 clients, created once per container.
 *
 * No endpoint is set here on purpose: the SDK's own `AWS_ENDPOINT_URL` and
 * `AWS_ENDPOINT_URL_<SERVICE>` handling decides where calls go, so the same code reaches AWS in
 * Lambda and the local sandbox (or LocalStack) in tests. Clients are created lazily so a function
 * that never touches RDS does not pay for constructing an RDS client, but each is made only once.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { tracer } from './observability.ts';

/** Retry budget for SDK calls; the flows add their own Retry on top for longer outages. */
const clientDefaults = { maxAttempts: 4 } as const;

function once<T extends object>(create: () => T): () => T {
  let client: T | undefined;
  return () => {
    client ??= tracer.captureAWSv3Client(create());
    return client;
  };
}

/** The S3 client. (An endpoint given as an IP address makes the SDK use path-style requests.) */
export const s3 = /* @__PURE__ */ once(() => new S3Client(clientDefaults));
export const kms = /* @__PURE__ */ once(() => new KMSClient(clientDefaults));
export const sns = /* @__PURE__ */ once(() => new SNSClient(clientDefaults));
export const rds = /* @__PURE__ */ once(() => new RDSClient(clientDefaults));
export const sfn = /* @__PURE__ */ once(() => new SFNClient(clientDefaults));
export const lambda = /* @__PURE__ */ once(() => new LambdaClient(clientDefaults));
export const secretsManager = /* @__PURE__ */ once(() => new SecretsManagerClient(clientDefaults));
export const cloudWatch = /* @__PURE__ */ once(() => new CloudWatchClient(clientDefaults));
export const cloudWatchLogs = /* @__PURE__ */ once(() => new CloudWatchLogsClient(clientDefaults));

const regionalRds = new Map<string, RDSClient>();
const regionalKms = new Map<string, KMSClient>();

/** A KMS client for another region (the DR copy keys), one per region. */
export function kmsIn(region: string): KMSClient {
  let client = regionalKms.get(region);
  if (!client) {
    client = tracer.captureAWSv3Client(new KMSClient({ ...clientDefaults, region }));
    regionalKms.set(region, client);
  }
  return client;
}

/** An RDS client for another region (cross-region snapshot copies), one per region. */
export function rdsIn(region: string): RDSClient {
  let client = regionalRds.get(region);
  if (!client) {
    client = tracer.captureAWSv3Client(new RDSClient({ ...clientDefaults, region }));
    regionalRds.set(region, client);
  }
  return client;
}
