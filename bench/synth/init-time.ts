/**
 * A bundled function's init time as Lambda's Init phase spends it on our code: the bundle
 * imported (module load plus top-level code: SDK clients, environment checks) in a fresh
 * process on the Lambda runtime's Node major, with the function's environment from the template.
 * `@aws-sdk/*` is left out of the bundles (the runtime provides it), so it resolves here from
 * the project's node_modules through a link next to the bundle.
 */
import { execFile } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What a function looks like in the template, as far as init needs it. */
export interface TemplateFunction {
  readonly logicalId: string;
  readonly assetDir: string;
  readonly handler: string;
  readonly memorySize?: number;
  readonly environment: Record<string, unknown>;
}

export interface InitTime {
  /** Median over the runs, ms; undefined when the import failed. */
  readonly initMs?: number;
  /** Of which: importing the AWS SDK modules the bundle leaves to the runtime (same run). */
  readonly sdkMs?: number;
  readonly runs: number[];
  readonly error?: string;
}

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';

type Resources = Record<string, { Type: string }>;

/** Stand-ins for what CloudFormation would fill in: shaped like the real thing (ARNs, names, URLs). */
function physicalId(logicalId: string, type: string): string {
  const name = logicalId.toLowerCase().slice(0, 40);
  switch (type) {
    case 'AWS::S3::Bucket':
      return `bench-${name}`;
    case 'AWS::KMS::Key':
      return '00000000-0000-4000-8000-000000000000';
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${REGION}:${ACCOUNT}:${logicalId}`;
    case 'AWS::SQS::Queue':
      return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${logicalId}`;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${logicalId}`;
    default:
      return logicalId;
  }
}

function arnOf(logicalId: string, type: string): string {
  switch (type) {
    case 'AWS::KMS::Key':
      return `arn:aws:kms:${REGION}:${ACCOUNT}:key/${physicalId(logicalId, type)}`;
    case 'AWS::S3::Bucket':
      return `arn:aws:s3:::${physicalId(logicalId, type)}`;
    case 'AWS::Lambda::Function':
      return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${logicalId}`;
    case 'AWS::IAM::Role':
      return `arn:aws:iam::${ACCOUNT}:role/${logicalId}`;
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${REGION}:${ACCOUNT}:${logicalId}`;
    case 'AWS::Scheduler::ScheduleGroup':
      return `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${logicalId}`;
    default:
      return physicalId(logicalId, type);
  }
}

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': ACCOUNT,
  'AWS::Region': REGION,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'CaretakerBench',
  'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/CaretakerBench/0`,
  'AWS::NoValue': '',
};

/** Resolves the intrinsics environment values use (Ref, GetAtt, Join, Sub, Select) to stand-ins. */
export function resolveValue(value: unknown, resources: Resources): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  const node = value as Record<string, unknown>;
  if ('Ref' in node) {
    const name = String(node.Ref);
    return PSEUDO[name] ?? (resources[name] ? physicalId(name, resources[name].Type) : name);
  }
  if ('Fn::GetAtt' in node) {
    const [name, attribute] = node['Fn::GetAtt'] as [string, string];
    const type = resources[name]?.Type ?? '';
    return attribute === 'Arn' ? arnOf(name, type) : physicalId(name, type);
  }
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolveValue(part, resources)).join(separator);
  }
  if ('Fn::Select' in node) {
    const [index, list] = node['Fn::Select'] as [number, unknown[]];
    return resolveValue(list[Number(index)], resources);
  }
  if ('Fn::Sub' in node) {
    const spec = node['Fn::Sub'];
    const [text, variables] = (Array.isArray(spec) ? spec : [spec, {}]) as [string, Record<string, unknown>];
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name in variables) return resolveValue(variables[name], resources);
      const [ref, attribute] = name.split('.');
      return resolveValue(attribute ? { 'Fn::GetAtt': [ref, attribute] } : { Ref: ref }, resources);
    });
  }
  throw new Error(`Unsupported intrinsic in a function environment: ${JSON.stringify(value)}`);
}

/**
 * The script a fresh process runs: the AWS SDK modules the bundle imports first (timed apart, to
 * tell the runtime's SDK from our own code), then the bundle; checks the handler is there.
 */
const PROBE = `
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const url = process.env.BENCH_BUNDLE_URL;
const sdk = [...new Set(readFileSync(fileURLToPath(url), 'utf8').match(/@aws-sdk\\/[a-z0-9-]+(?:\\/[a-z0-9-]+)*(?=["'])/g) ?? [])];
const started = performance.now();
for (const name of sdk) await import(name);
const sdkMs = performance.now() - started;
const module = await import(url);
const initMs = performance.now() - started;
if (typeof module[process.env.BENCH_HANDLER_EXPORT] !== 'function') throw new Error('no handler export');
process.stdout.write(JSON.stringify({ initMs, sdkMs }));
`;

function runOnce(
  node: string,
  fn: TemplateFunction,
  env: NodeJS.ProcessEnv,
): Promise<{ initMs: number; sdkMs: number }> {
  const [file, exported] = fn.handler.split('.');
  const bundle = ['mjs', 'js'].map((ext) => join(fn.assetDir, `${file}.${ext}`)).find(existsSync);
  if (!bundle) return Promise.reject(new Error(`no ${file}.mjs or ${file}.js in ${fn.assetDir}`));
  return new Promise((resolve, reject) => {
    execFile(
      node,
      ['--input-type=module', '-e', PROBE],
      {
        cwd: fn.assetDir,
        env: {
          ...env,
          BENCH_BUNDLE_URL: pathToFileURL(bundle).href,
          BENCH_HANDLER_EXPORT: exported ?? 'handler',
        },
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(stderr.trim().split('\n').slice(-3).join(' ') || error.message));
        else resolve(JSON.parse(stdout) as { initMs: number; sdkMs: number });
      },
    );
  });
}

/** Measures a function's init `runs` times (a fresh process each) and returns the median. */
export async function initTime(
  node: string,
  fn: TemplateFunction,
  resources: Resources,
  nodeModules: string,
  runs = 3,
): Promise<InitTime> {
  const link = join(fn.assetDir, 'node_modules');
  if (!existsSync(link)) symlinkSync(nodeModules, link, 'dir');
  const environment = Object.fromEntries(
    Object.entries(fn.environment).map(([name, value]) => [name, resolveValue(value, resources)]),
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...environment,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize ?? 128),
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    LAMBDA_TASK_ROOT: fn.assetDir,
  };
  const results: Array<{ initMs: number; sdkMs: number }> = [];
  try {
    for (let run = 0; run < runs; run++) results.push(await runOnce(node, fn, env));
  } catch (error) {
    return { runs: results.map((r) => r.initMs), error: (error as Error).message };
  }
  const median = [...results].sort((a, b) => a.initMs - b.initMs)[Math.floor(results.length / 2)]!;
  return { initMs: median.initMs, sdkMs: median.sdkMs, runs: results.map((r) => r.initMs) };
}
