import { dirname } from 'node:path';
import { Aws, Duration, RemovalPolicy, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { TAG } from '../../functions/common/caretaker-tags.ts';
import { ENV, type EnvName } from '../../functions/common/contract.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/common/runtime/service.ts';
import { PACKAGE_ROOT, projectLockFile } from '../package-root.ts';
import { acknowledgeGeneratedStatements, allow } from '../security/nag.ts';

// Bundled from the package's sources at synth, here or under an app's node_modules (the built
// package ships functions/ as TypeScript): the project root is the folder of the lock file above.
const LOCK_FILE = projectLockFile();

/** The Lambda runtime every Caretaker function uses: the newest Node.js LTS that Lambda offers. */
export const CARETAKER_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface CaretakerFunctionProps {
  /** Folder under `functions/` that holds `handler.ts`. */
  readonly name: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /** The environment name, exposed to the function as CARETAKER_ENVIRONMENT. */
  readonly environmentName: string;
  /** Days the function's logs are kept. */
  readonly logRetention: logs.RetentionDays;
  /** Key that encrypts the function's log group. */
  readonly logKey: kms.IKey;
  /**
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * @default 256
   */
  readonly memorySize?: number;
}

/**
 * A Caretaker Lambda function with the project's fixed defaults: Node.js LTS on arm64, X-Ray
 * tracing, JSON logs into an explicit, encrypted log group with retention, esbuild bundling
 * (local, minified, with source maps), and a role that starts with nothing but its own log group.
 *
 * Permissions are added with the `bind…` helpers, which set an environment variable and grant
 * the matching access together, so a function never has an ARN it may not use or a permission
 * for a resource it cannot find.
 */
export class CaretakerFunction extends Construct {
  /** The function. */
  public readonly fn: nodejs.NodejsFunction;
  /** The function's execution role. */
  public readonly role: iam.Role;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: CaretakerFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Our own role instead of AWSLambdaBasicExecutionRole: log access scoped to this log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Caretaker ${props.name} function`,
    });
    allow(
      this.role,
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn, `${this.logGroup.logGroupArn}:log-stream:*`],
      }),
      "Log streams are created by Lambda with generated names inside this function's own log group.",
    );

    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      entry: `${PACKAGE_ROOT}functions/${props.name}/handler.ts`,
      handler: 'handler',
      projectRoot: dirname(LOCK_FILE),
      depsLockFilePath: LOCK_FILE,
      description: props.description,
      runtime: CARETAKER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(1),
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      logGroup: this.logGroup,
      role: this.role,
      environment: {
        [ENV.environmentName]: props.environmentName,
        [ENV.powertoolsServiceName]: SERVICE_NAME,
        [ENV.powertoolsMetricsNamespace]: METRICS_NAMESPACE,
        [ENV.nodeOptions]: '--enable-source-maps',
      },
      bundling: {
        forceDockerBundling: false,
        // esbuild's per-file size listing is noise at every synth; its warnings and errors still show.
        logLevel: nodejs.LogLevel.WARNING,
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The Node.js 24 runtime ships AWS SDK v3; using it keeps bundles small (cold start) and
        // gets its security fixes without a redeploy. Everything else is bundled and pinned.
        externalModules: ['@aws-sdk/*'],
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    });

    // Operators (and the sandbox drill) find a deployed function by what it is, not its generated name.
    Tags.of(this.fn).add(TAG.function, props.name);

    // Tracing adds xray:PutTraceSegments/PutTelemetryRecords on "*" to the role's default policy.
    acknowledgeGeneratedStatements(this.role, (actions) =>
      actions.every((action) => action.startsWith('xray:'))
        ? 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions.'
        : undefined,
    );
  }

  /** Sets an environment variable and applies the grant that goes with it. */
  bind(variable: EnvName, value: string, grant?: (grantee: iam.IGrantable) => iam.Grant): this {
    this.fn.addEnvironment(variable, value);
    grant?.(this.fn);
    return this;
  }

  /** Publishes to `topic`; its ARN is in `variable`. */
  bindTopic(variable: EnvName, topic: sns.ITopic): this {
    this.bind(variable, topic.topicArn, (grantee) => topic.grantPublish(grantee));
    // Publishing to an encrypted topic also grants kms:GenerateDataKey* on its key, a statement the
    // publish grant does not return: it is found in the role's policy by its action.
    acknowledgeGeneratedStatements(this.role, (actions) =>
      actions.includes('kms:GenerateDataKey*')
        ? 'Publishing to a KMS-encrypted topic needs GenerateDataKey and GenerateDataKeyWithoutPlaintext; CDK grants them as GenerateDataKey* on the one topic key.'
        : undefined,
    );
    return this;
  }

  /** Access to `bucket`; its name is in `variable`. */
  bindBucket(
    variable: EnvName,
    bucket: s3.IBucket,
    access: 'read' | 'write' | 'readWrite' | 'readWriteDelete',
  ): this {
    return this.bind(variable, bucket.bucketName, (grantee) => {
      switch (access) {
        case 'read':
          return bucket.grantRead(grantee);
        case 'write':
          return bucket.grantPut(grantee);
        case 'readWrite':
          return bucket.grantReadWrite(grantee);
        case 'readWriteDelete':
          bucket.grantDelete(grantee);
          return bucket.grantReadWrite(grantee);
      }
    });
  }

  /** Use of `key` for envelope encryption; its ARN is in `variable`. */
  bindKey(variable: EnvName, key: kms.IKey, access: 'encrypt' | 'decrypt' | 'encryptDecrypt'): this {
    return this.bind(variable, key.keyArn, (grantee) => {
      switch (access) {
        case 'encrypt':
          return key.grantEncrypt(grantee);
        case 'decrypt':
          return key.grantDecrypt(grantee);
        case 'encryptDecrypt':
          return key.grantEncryptDecrypt(grantee);
      }
    });
  }

  /** The ARN of this stack's account and region for `service`, for hand-written statements. */
  static scopedArn(service: string, resource: string): string {
    return `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
  }
}
