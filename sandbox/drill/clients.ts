/**
 * SDK clients the drill uses as the operator would (the sandbox's plain credentials, which IAM does
 * not evaluate), pointed at the drill's own sandbox explicitly so nothing depends on the caller's
 * environment.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';

export interface DrillClients {
  readonly s3: S3Client;
  readonly rds: RDSClient;
  readonly kms: KMSClient;
  readonly sfn: SFNClient;
  readonly lambda: LambdaClient;
  /** A client of `service`'s kind in another region. */
  readonly kmsIn: (region: string) => KMSClient;
}

export function drillClients(endpoint: string, region: string): DrillClients {
  const common = {
    endpoint,
    region,
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
  };
  return {
    s3: new S3Client({ ...common, forcePathStyle: true }),
    rds: new RDSClient(common),
    kms: new KMSClient(common),
    sfn: new SFNClient(common),
    lambda: new LambdaClient(common),
    kmsIn: (other) => new KMSClient({ ...common, region: other }),
  };
}
