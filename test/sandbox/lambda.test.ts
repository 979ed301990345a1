/**
 * The sandbox's Lambda service through the AWS SDK v3 client, configured only by environment.
 */
import { fileURLToPath } from 'node:url';
import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  ResourceNotFoundException,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LambdaService } from '../../sandbox/services/lambda/index.ts';
import { lambdaService } from '../../sandbox/services/lambda/index.ts';
import { withSandbox } from '../support/sandbox.ts';

const handlers = (name: string) =>
  fileURLToPath(new URL(`../fixtures/statemachines/handlers/${name}.ts`, import.meta.url));

const sandbox = withSandbox([lambdaService], {
  settings: { lambda: { environment: { POWERTOOLS_LOG_LEVEL: 'SILENT' } } },
});

let client: LambdaClient;

function decode(payload: Uint8Array | undefined): unknown {
  return JSON.parse(Buffer.from(payload ?? new Uint8Array()).toString('utf8'));
}

async function invoke(
  functionName: string,
  event: unknown = {},
  extra: Partial<InvokeCommand['input']> = {},
) {
  const response = await client.send(
    new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify(event), ...extra }),
  );
  return { response, body: decode(response.Payload) as Record<string, unknown> };
}

beforeAll(() => {
  const lambda = sandbox.sandbox.context.service<LambdaService>('lambda');
  if (!lambda) throw new Error('lambda service missing');
  lambda.register({ name: 'echo-a', modulePath: handlers('echo'), environment: { FIXTURE_NAME: 'alpha' } });
  lambda.register({ name: 'echo-b', modulePath: handlers('echo'), environment: { FIXTURE_NAME: 'beta' } });
  lambda.register({ name: 'fail', modulePath: handlers('fail') });
  lambda.register({ name: 'slow', modulePath: handlers('echo'), timeoutMs: 1000 });
  lambda.register({ name: 'crash', modulePath: handlers('exit') });
  lambda.register({ name: 'canary', modulePath: handlers('echo'), environment: { FIXTURE_NAME: 'v1' } });
  client = new LambdaClient({});
});

describe('Invoke', () => {
  it('runs each function with its own environment, read at module scope', async () => {
    const [a, b] = await Promise.all([invoke('echo-a'), invoke('echo-b')]);

    expect(a.body.fixtureName).toBe('alpha');
    expect(b.body.fixtureName).toBe('beta');
    expect(a.body.endpoint).toBe(sandbox.sandbox.url);
  });

  it('gives the handler a Lambda-shaped context whose request id is the response request id', async () => {
    const { response, body } = await invoke('echo-a', { hello: 'world' });

    const context = body.context as Record<string, unknown>;
    expect(body.event).toEqual({ hello: 'world' });
    expect(context).toMatchObject({
      functionName: 'echo-a',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:echo-a',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/echo-a',
      awsRequestId: response.$metadata.requestId,
    });
    expect(context.remainingMs).toBeGreaterThan(0);
    expect(context.remainingMs).toBeLessThanOrEqual(60_000);
    expect(response.StatusCode).toBe(200);
    expect(response.ExecutedVersion).toBe('$LATEST');
  });

  it('finds a function by full ARN and by partial ARN', async () => {
    const byArn = await invoke('arn:aws:lambda:us-east-1:000000000000:function:echo-b');
    const byPartial = await invoke('000000000000:function:echo-b');

    expect(byArn.body.fixtureName).toBe('beta');
    expect(byPartial.body.fixtureName).toBe('beta');
  });

  it('reuses a warm environment for sequential calls and starts another for a concurrent one', async () => {
    const first = await invoke('echo-a');
    const second = await invoke('echo-a');
    const [x, y] = await Promise.all([
      invoke('echo-a', { sleepMs: 300 }),
      invoke('echo-a', { sleepMs: 300 }),
    ]);

    expect(second.body.threadId).toBe(first.body.threadId);
    expect(x.body.threadId).not.toBe(y.body.threadId);
  });

  it('answers an unknown function with ResourceNotFoundException', async () => {
    await expect(invoke('no-such-function')).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('returns a thrown error in the runtime format with X-Amz-Function-Error: Unhandled', async () => {
    const { response, body } = await invoke('fail', {
      errorName: 'IntegrityError',
      message: 'checksum mismatch',
    });

    expect(response.FunctionError).toBe('Unhandled');
    expect(response.StatusCode).toBe(200);
    expect(body).toMatchObject({ errorType: 'IntegrityError', errorMessage: 'checksum mismatch' });
    expect(Array.isArray(body.trace)).toBe(true);
  });

  it('reports a ValidationError from the real notify handler given a bad alert', async () => {
    const { response, body } = await invoke('caretaker-notify', { severity: 'loud', flow: 'Backup' });

    expect(response.FunctionError).toBe('Unhandled');
    expect(body.errorType).toBe('ValidationError');
    expect(body.errorMessage).toContain('severity');
    expect(body.errorMessage).toContain('summary');
  });

  it('stops a function at its timeout with the runtime timeout error', async () => {
    const { response, body } = await invoke('slow', { sleepMs: 5000 });

    expect(response.FunctionError).toBe('Unhandled');
    expect(body.errorType).toBe('Sandbox.Timedout');
    expect(body.errorMessage).toMatch(/^RequestId: [\w-]+ Error: Task timed out after 1\.00 seconds$/);
  });

  it('serves the next invocation from a fresh environment after a timeout', async () => {
    await invoke('slow', { sleepMs: 5000 });
    const { response, body } = await invoke('slow', { quick: true });

    expect(response.FunctionError).toBeUndefined();
    expect(body.invocations).toBe(1);
  });

  it('reports a runtime that exits as Runtime.ExitError', async () => {
    const { response, body } = await invoke('crash');

    expect(response.FunctionError).toBe('Unhandled');
    expect(body.errorType).toBe('Runtime.ExitError');
    expect(body.errorMessage).toContain('exit status 3');
  });

  it('accepts an Event invocation with 202 and runs it in the background', async () => {
    const response = await client.send(
      new InvokeCommand({ FunctionName: 'echo-a', InvocationType: 'Event', Payload: '{}' }),
    );

    expect(response.StatusCode).toBe(202);
  });

  it('returns the tail of the log when asked', async () => {
    const { response } = await invoke('echo-a', { marker: 'tail-me' }, { LogType: 'Tail' });

    const log = Buffer.from(response.LogResult ?? '', 'base64').toString('utf8');
    expect(log).toContain('START RequestId:');
    expect(log).toContain('tail-me');
    expect(log).toMatch(/REPORT RequestId: [\w-]+\tDuration: /);
  });

  it('rejects a payload that is not JSON', async () => {
    await expect(
      client.send(new InvokeCommand({ FunctionName: 'echo-a', Payload: Buffer.from('{not json') })),
    ).rejects.toMatchObject({ name: 'InvalidRequestContentException' });
  });
});

describe('functions, versions and aliases', () => {
  it('describes a registered function', async () => {
    const response = await client.send(new GetFunctionCommand({ FunctionName: 'echo-a' }));

    expect(response.Configuration).toMatchObject({
      FunctionName: 'echo-a',
      FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:echo-a',
      Version: '$LATEST',
      Timeout: 60,
      MemorySize: 256,
      Environment: { Variables: { FIXTURE_NAME: 'alpha' } },
    });
    expect(response.Configuration?.CodeSha256).toMatch(/^[A-Za-z0-9+/]+=*$/);
  });

  it('lists the registered functions, the Caretaker ones included', async () => {
    const response = await client.send(new ListFunctionsCommand({}));

    const names = (response.Functions ?? []).map((fn) => fn.FunctionName);
    expect(names).toEqual(expect.arrayContaining(['caretaker-notify', 'echo-a', 'echo-b']));
  });

  it('publishes versions that keep their configuration and routes an alias by weight', async () => {
    const lambda = sandbox.sandbox.context.service<LambdaService>('lambda');
    const v1 = await client.send(new PublishVersionCommand({ FunctionName: 'canary' }));
    const again = await client.send(new PublishVersionCommand({ FunctionName: 'canary' }));
    lambda?.register({ name: 'canary', modulePath: handlers('echo'), environment: { FIXTURE_NAME: 'v2' } });
    const v2 = await client.send(
      new PublishVersionCommand({ FunctionName: 'canary', Description: 'second' }),
    );
    await client.send(new CreateAliasCommand({ FunctionName: 'canary', Name: 'live', FunctionVersion: '1' }));
    const beforeShift = await invoke('canary:live');
    await client.send(
      new UpdateAliasCommand({
        FunctionName: 'canary',
        Name: 'live',
        RoutingConfig: { AdditionalVersionWeights: { '2': 1 } },
      }),
    );
    const shifted = await invoke('canary', {}, { Qualifier: 'live' });
    const alias = await client.send(new GetAliasCommand({ FunctionName: 'canary', Name: 'live' }));
    const versions = await client.send(new ListVersionsByFunctionCommand({ FunctionName: 'canary' }));

    expect(v1.Version).toBe('1');
    expect(again.Version).toBe('1');
    expect(v2.Version).toBe('2');
    expect(v2.FunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:canary:2');
    expect(beforeShift.body.fixtureName).toBe('v1');
    expect(beforeShift.response.ExecutedVersion).toBe('1');
    expect((beforeShift.body.context as Record<string, unknown>).invokedFunctionArn).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:canary:live',
    );
    expect(shifted.body.fixtureName).toBe('v2');
    expect(shifted.response.ExecutedVersion).toBe('2');
    expect(alias).toMatchObject({
      AliasArn: 'arn:aws:lambda:us-east-1:000000000000:function:canary:live',
      FunctionVersion: '1',
      RoutingConfig: { AdditionalVersionWeights: { '2': 1 } },
    });
    expect((versions.Versions ?? []).map((version) => version.Version)).toEqual(['$LATEST', '1', '2']);
  });

  it('refuses routing weights that point at the primary version', async () => {
    await expect(
      client.send(
        new CreateAliasCommand({
          FunctionName: 'canary',
          Name: 'bad',
          FunctionVersion: '1',
          RoutingConfig: { AdditionalVersionWeights: { '1': 0.5 } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterValueException' });
  });

  it('answers an unknown alias with ResourceNotFoundException', async () => {
    await expect(
      client.send(new GetAliasCommand({ FunctionName: 'echo-a', Name: 'nope' })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
