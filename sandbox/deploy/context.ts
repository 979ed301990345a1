/**
 * What every resource handler works with: the sandbox's services (through their APIs, with SDK
 * clients, or in process where the sandbox offers no API), the assembly, names, and what was
 * created so far.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Sandbox } from '../core/server.ts';
import type { IamRegistry } from '../iam-registry/index.ts';
import type { LambdaService } from '../services/lambda/index.ts';
import type { StackAssembly } from './assembly.ts';
import { generateName, type NameRule } from './names.ts';
import type { DeploymentRecord } from './record.ts';

/** A resource after its intrinsics were resolved. */
export interface ResolvedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** What a handler made: what Ref and Fn::GetAtt of the resource resolve to. */
export interface Created {
  /** The value of Ref. */
  readonly ref: string;
  /** Fn::GetAtt values; `Arn` where the resource has one. */
  readonly attributes: Readonly<Record<string, string>>;
  /** The name given to the resource, when it has one (kept for the next deployment). */
  readonly physicalName?: string;
  /** Properties the sandbox stores or applies only in part, with what it does instead. */
  readonly notes?: readonly string[];
  /** Set when the resource could not be made in the sandbox and is listed as not modelled. */
  readonly skipped?: string;
  /** The execution role's ARN (functions, state machines, schedules). */
  readonly role?: string;
}

export interface ResourceHandler {
  /** Properties the handler applies; any other property present is reported as ignored. */
  readonly applies: readonly string[];
  create(context: DeployContext, resource: ResolvedResource): Promise<Created>;
}

interface SdkClients {
  readonly kms: KMSClient;
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  readonly sfn: SFNClient;
  readonly scheduler: SchedulerClient;
}

export class DeployContext {
  readonly clients: SdkClients;
  /** Logical id → what was created, for handlers that look earlier resources up. */
  readonly created = new Map<string, Created & { readonly type: string }>();

  constructor(
    readonly sandbox: Sandbox,
    readonly assembly: StackAssembly,
    readonly region: string,
    readonly previous: DeploymentRecord | undefined,
    readonly options: { readonly pauseSchedules: boolean },
  ) {
    const config = {
      endpoint: sandbox.url,
      region,
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    };
    this.clients = {
      kms: new KMSClient(config),
      s3: new S3Client({ ...config, forcePathStyle: true }),
      sns: new SNSClient(config),
      sqs: new SQSClient(config),
      sfn: new SFNClient(config),
      scheduler: new SchedulerClient(config),
    };
  }

  get accountId(): string {
    return this.sandbox.context.accountId;
  }

  get stackName(): string {
    return this.assembly.stackName;
  }

  get dataDir(): string {
    return this.sandbox.context.dataDir;
  }

  /** The Lambda service (functions are registered in process: there is no CreateFunction API). */
  lambda(): LambdaService {
    const lambda = this.sandbox.context.service<LambdaService>('lambda');
    if (!lambda) throw new Error("The sandbox's Lambda service is not running");
    return lambda;
  }

  iam(): IamRegistry {
    const iam = this.sandbox.context.service<IamRegistry>('iam');
    if (!iam) throw new Error("The sandbox's IAM registry is not running");
    return iam;
  }

  /**
   * The resource's name: the one the template gives, else the one an earlier deployment of this
   * stack generated (a stack update keeps physical ids), else a new one.
   */
  nameFor(resource: ResolvedResource, given: unknown, rule: NameRule): string {
    if (typeof given === 'string' && given !== '') return given;
    const earlier = this.previous?.resources[resource.logicalId];
    if (earlier?.type === resource.type && earlier.physicalName) return earlier.physicalName;
    return generateName(this.stackName, resource.logicalId, rule);
  }

  /** `arn:aws:<service>:<region>:<account>:<resource>`. */
  arn(service: string, resource: string, region: string = this.region): string {
    return `arn:aws:${service}:${region}:${this.accountId}:${resource}`;
  }

  destroy(): void {
    for (const client of Object.values(this.clients)) client.destroy();
  }
}

/** A property as a string (CloudFormation passes numbers and booleans as their text). */
export function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string'
    ? value
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);
}
