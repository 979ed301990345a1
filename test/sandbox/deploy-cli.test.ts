/**
 * `caretaker sandbox up --with-stack` as a user runs it, on a small cloud assembly (`--template`):
 * the ready line only once the stack is deployed, the exports and the stack's outputs on stdout,
 * what was not created on stderr; a stack that cannot be deployed stops the sandbox with status 1.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const READY = /^Sandbox ready at (http:\/\/127\.0\.0\.1:\d+)$/m;
const directories: string[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function scratch(): string {
  const directory = mkdtempSync(join(tmpdir(), 'caretaker-deploy-cli-'));
  directories.push(directory);
  return directory;
}

function assembly(template: object): string {
  const directory = scratch();
  writeFileSync(join(directory, 'Cli.template.json'), JSON.stringify(template));
  writeFileSync(
    join(directory, 'manifest.json'),
    JSON.stringify({
      version: '55.0.0',
      artifacts: {
        Cli: {
          type: 'aws:cloudformation:stack',
          environment: 'aws://unknown-account/unknown-region',
          properties: { templateFile: 'Cli.template.json' },
        },
      },
    }),
  );
  return directory;
}

function caretaker(args: string[]) {
  const child = spawn(process.execPath, ['bin/caretaker.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, AWS_ENDPOINT_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

const TEMPLATE = {
  Resources: {
    Queue: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 1209600 } },
    QueueAlarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { Threshold: 0 } },
  },
  Outputs: {
    QueueUrl: { Value: { Ref: 'Queue' }, Description: 'The queue' },
    QueueArn: { Value: { 'Fn::GetAtt': ['Queue', 'Arn'] } },
  },
};

describe('caretaker sandbox up --with-stack', () => {
  it('deploys the assembly, then prints the ready line, the exports and the outputs, and lists what it did not create', async () => {
    const cli = caretaker([
      'sandbox',
      'up',
      '--port',
      '0',
      '--data-dir',
      scratch(),
      '--with-stack',
      '--template',
      assembly(TEMPLATE),
    ]);
    for (let waited = 0; !/# {3}QueueArn/.test(cli.stdout()) && waited < 60_000; waited += 50) {
      if (cli.child.exitCode !== null) throw new Error(cli.stderr());
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = READY.exec(cli.stdout())?.[1] ?? '';
    const queueUrl = /^# {3}QueueUrl *= (\S+) {2}\(The queue\)$/m.exec(cli.stdout())?.[1] ?? '';
    const { Attributes } = await new SQSClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    }).send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MessageRetentionPeriod'] }),
    );
    cli.child.kill('SIGINT');
    const code = await cli.exited;

    expect(cli.stdout()).toContain(`export AWS_ENDPOINT_URL=${url}`);
    expect(queueUrl).toMatch(new RegExp(`^${url}/000000000000/Cli-Queue-[A-Za-z0-9]{12}$`));
    expect(Attributes?.MessageRetentionPeriod).toBe('1209600');
    expect(cli.stderr()).toContain('1 resource created, 1 not modelled by the sandbox');
    expect(cli.stderr()).toMatch(
      /AWS::CloudWatch::Alarm: the sandbox CloudWatch serves metric data only.*\n\s+QueueAlarm\n/,
    );
    expect(code).toBe(0);
  }, 90_000);

  it('exits with status 1, naming the resource type, when the stack cannot be deployed', async () => {
    const cli = caretaker([
      'sandbox',
      'up',
      '--port',
      '0',
      '--data-dir',
      scratch(),
      '--with-stack',
      '--template',
      assembly({ Resources: { Table: { Type: 'AWS::DynamoDB::Table' } } }),
    ]);

    const code = await cli.exited;

    expect(code).toBe(1);
    expect(cli.stderr()).toContain('AWS::DynamoDB::Table (Table)');
    expect(cli.stdout()).not.toMatch(READY);
  }, 60_000);

  it('refuses stack options without --with-stack (status 2)', async () => {
    const cli = caretaker(['sandbox', 'up', '--port', '0', '--template', 'cdk.out']);

    const code = await cli.exited;

    expect(code).toBe(2);
    expect(cli.stderr()).toContain(
      '-c/--config, --template, --stack and --pause-schedules go with --with-stack',
    );
  });
});
