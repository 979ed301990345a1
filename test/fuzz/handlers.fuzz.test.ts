/**
 * Malformed events against every handler in functions/<name>/handler.ts, found by listing the
 * folder so a new function cannot be left out: each event must be refused with a ValidationError
 * naming the broken field, before any AWS SDK call (every client's `send` is mocked and counted),
 * and no handler may crash with anything else.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ValidationError } from '../../functions/common/runtime/errors.ts';
import { fakeContext } from '../support/lambda-context.ts';
import {
  forbiddenKey,
  type Mutation,
  missing,
  type Path,
  unknownField,
  wrongType,
} from './json-mutations.ts';

const BACKUP_BUCKET = 'caretaker-backups';
const BACKUP_ID = '20260101T000000Z-0000abcd';

/** How to break one handler's event. */
interface EventSpec {
  /** A valid event; every mutation starts from it. */
  readonly valid: Record<string, unknown>;
  /** Fields a value of another JSON type is wrong for. */
  readonly typed: readonly Path[];
  /** Fields that must be present. */
  readonly required: readonly Path[];
  /** Objects where an unknown field is an error (`[]` is the event itself). */
  readonly strict: readonly Path[];
  /** Well-formed events that must still be refused, each with the field it is refused at. */
  readonly harmful: readonly { readonly label: string; readonly event: unknown; readonly path: string }[];
}

const restoreOverrides = {
  instanceClass: 'db.t4g.small',
  multiAZ: false,
  port: 5432,
  publiclyAccessible: false,
};
const healthChecks = {
  http: [{ name: 'api', url: 'http://127.0.0.1:9/health', samples: 1 }],
  tls: [{ name: 'cert', host: '127.0.0.1', port: 9 }],
  backupFreshness: false,
};
const backupSet = {
  name: 'uploads',
  sourceBucket: 'example-app-uploads',
  prefix: 'uploads/',
  mode: 'incremental',
  fullEvery: 7,
};

/** One spec per function folder. A function without one fails the test that lists them. */
const SPECS: Record<string, EventSpec> = {
  'backup-restore': {
    valid: {
      set: 'uploads',
      backupId: BACKUP_ID,
      prefix: 'data/',
      targetBucket: 'restore-target',
      targetPrefix: 'restored/',
      verifyFirst: 'objects',
      executionId: 'run-1',
      startedAt: '2026-01-01T00:00:00Z',
      timeBudgetMs: 1000,
    },
    typed: [
      ['set'],
      ['backupId'],
      ['prefix'],
      ['targetBucket'],
      ['targetPrefix'],
      ['verifyFirst'],
      ['executionId'],
      ['startedAt'],
      ['timeBudgetMs'],
    ],
    required: [['set'], ['targetBucket'], ['targetPrefix']],
    strict: [[]],
    harmful: [
      {
        label: 'a restore into the backup bucket',
        event: { set: 'uploads', targetBucket: BACKUP_BUCKET, targetPrefix: '' },
        path: 'targetBucket',
      },
    ],
  },
  'backup-verify': {
    valid: {
      set: 'uploads',
      backupId: BACKUP_ID,
      subset: '1/7',
      rotate: true,
      executionId: 'run-1',
      timeBudgetMs: 1000,
    },
    typed: [['set'], ['backupId'], ['subset'], ['rotate'], ['executionId'], ['timeBudgetMs']],
    required: [['set']],
    strict: [[]],
    harmful: [{ label: 'a subset of none', event: { set: 'uploads', subset: '0/7' }, path: 'subset' }],
  },
  capacity: {
    valid: { targets: ['orders'], executionId: 'run-1' },
    typed: [['targets'], ['targets', 0], ['executionId']],
    required: [],
    strict: [[]],
    harmful: [
      {
        label: 'a forecast of a target that is not configured',
        event: { targets: ['payments'] },
        path: 'targets[0]',
      },
    ],
  },
  cleanup: {
    valid: { dryRun: true, targets: ['orders'], executionId: 'run-1', now: '2026-01-01T00:00:00Z' },
    typed: [['dryRun'], ['targets'], ['targets', 0], ['executionId'], ['now']],
    required: [['dryRun']],
    strict: [[]],
    harmful: [
      {
        label: 'a cleanup that does not say whether it deletes',
        event: { targets: ['orders'] },
        path: 'dryRun',
      },
      {
        label: 'a real cleanup planned as of the future',
        event: { dryRun: false, now: '2099-01-01T00:00:00Z' },
        path: 'now',
      },
    ],
  },
  'db-maintenance': {
    valid: { target: 'orders', executionId: 'run-1' },
    typed: [['target'], ['executionId']],
    required: [['target']],
    strict: [[]],
    harmful: [
      {
        label: 'maintenance of a database that is not configured for it',
        event: { target: 'payments' },
        path: 'target',
      },
    ],
  },
  escalation: {
    valid: {},
    typed: [],
    required: [],
    strict: [[]],
    harmful: [
      {
        label: 'an event carrying a __proto__ key',
        event: JSON.parse('{"__proto__":{"levels":[]}}'),
        path: '__proto__',
      },
    ],
  },
  'flow-input': {
    valid: { flow: 'Cleanup', input: { dryRun: true } },
    typed: [['flow']],
    required: [['flow']],
    strict: [[]],
    harmful: [
      { label: 'a Cleanup flow input without dryRun', event: { flow: 'Cleanup', input: {} }, path: 'dryRun' },
    ],
  },
  'health-check': {
    valid: { checks: healthChecks, failOn: 'unhealthy', executionId: 'run-1', label: 'post-restore' },
    typed: [
      ['checks'],
      ['checks', 'http'],
      ['checks', 'http', 0, 'name'],
      ['checks', 'http', 0, 'url'],
      ['checks', 'http', 0, 'samples'],
      ['checks', 'tls', 0, 'host'],
      ['checks', 'tls', 0, 'port'],
      ['checks', 'backupFreshness'],
      ['failOn'],
      ['executionId'],
      ['label'],
    ],
    required: [
      ['checks', 'http', 0, 'name'],
      ['checks', 'http', 0, 'url'],
      ['checks', 'tls', 0, 'host'],
    ],
    strict: [[], ['checks'], ['checks', 'http', 0], ['checks', 'tls', 0]],
    // Link-local fe80:: only: even if both guards failed, an unscoped fe80:: address cannot be connected to.
    harmful: [
      {
        label: 'an HTTP check against an IPv6 link-local address',
        event: { checks: { http: [{ name: 'x', url: 'http://[fe80::1]/latest/meta-data/' }] } },
        path: 'checks.http[0].url',
      },
      {
        label: 'a TLS check against an IPv6 link-local host',
        event: { checks: { tls: [{ name: 'x', host: 'fe80::a9fe:a9fe' }] } },
        path: 'checks.tls[0].host',
      },
    ],
  },
  notify: {
    valid: {
      severity: 'warning',
      flow: 'Cleanup',
      summary: 'Cleanup skipped a snapshot',
      where: 'orders',
      action: 'Nothing to do',
      details: 'busy',
      executionArn: 'arn:aws:states:us-east-1:111122223333:execution:Caretaker-test-Cleanup:run-1',
      evidence: { count: 1 },
    },
    typed: [
      ['severity'],
      ['flow'],
      ['summary'],
      ['where'],
      ['action'],
      ['details'],
      ['executionArn'],
      ['evidence'],
    ],
    required: [['severity'], ['flow'], ['summary'], ['where'], ['action']],
    strict: [[]],
    harmful: [
      {
        label: 'evidence carrying a __proto__ key',
        event: JSON.parse(
          '{"severity":"info","flow":"Cleanup","summary":"s","where":"w","action":"a","evidence":{"__proto__":{"admin":true}}}',
        ),
        path: 'evidence.__proto__',
      },
    ],
  },
  'rds-restore': {
    valid: {
      action: 'restore',
      target: 'orders',
      executionId: 'run-1',
      snapshotIdentifier: 'snap-1',
      region: 'eu-west-1',
      identifier: 'orders-db-r1',
      kind: 'drill',
      overrides: restoreOverrides,
    },
    typed: [
      ['action'],
      ['target'],
      ['executionId'],
      ['snapshotIdentifier'],
      ['region'],
      ['identifier'],
      ['kind'],
      ['overrides'],
      ['overrides', 'instanceClass'],
      ['overrides', 'multiAZ'],
      ['overrides', 'port'],
      ['overrides', 'publiclyAccessible'],
    ],
    required: [['action'], ['target'], ['executionId'], ['snapshotIdentifier']],
    strict: [[], ['overrides']],
    harmful: [
      {
        label: 'a restore made publicly accessible',
        event: {
          action: 'restore',
          target: 'orders',
          executionId: 'run-1',
          snapshotIdentifier: 'snap-1',
          overrides: { publiclyAccessible: true },
        },
        path: 'overrides.publiclyAccessible',
      },
    ],
  },
  'rds-switch-over': {
    valid: {
      action: 'switch-over',
      target: 'orders',
      executionId: 'run-1',
      restoredIdentifier: 'orders-db-r0123abcd',
      startedAt: '2026-01-01T00:00:00Z',
    },
    typed: [['action'], ['target'], ['executionId'], ['restoredIdentifier'], ['startedAt']],
    required: [['action'], ['target'], ['executionId']],
    strict: [[]],
    harmful: [
      {
        label: 'a switch-over of a database that is not a configured target',
        event: { action: 'switch-over', target: 'payments', executionId: 'run-1' },
        path: 'target',
      },
      {
        label: 'a restored copy named with something that is not a DB identifier',
        event: {
          action: 'undo-switch-over',
          target: 'orders',
          executionId: 'run-1',
          restoredIdentifier: 'orders; DROP',
        },
        path: 'restoredIdentifier',
      },
    ],
  },
  'rds-snapshot': {
    valid: { action: 'create', target: 'orders', executionId: 'run-1', kind: 'snapshot' },
    typed: [['action'], ['target'], ['executionId'], ['kind']],
    required: [['action'], ['target'], ['executionId']],
    strict: [[]],
    harmful: [
      {
        label: 'a snapshot of a target that is not configured',
        event: { action: 'create', target: 'payments', executionId: 'run-1' },
        path: 'target',
      },
    ],
  },
  report: {
    valid: {
      flow: 'Cleanup',
      executionArn: 'arn:aws:states:us-east-1:111122223333:execution:Caretaker-test-Cleanup:run-1',
      startedAt: '2026-01-01T00:00:00Z',
      finishedAt: '2026-01-01T00:10:00Z',
      cleanup: { dryRun: true, targets: [] },
      failures: [{ step: 'Cleanup', error: 'PreconditionFailedError' }],
    },
    typed: [
      ['flow'],
      ['executionArn'],
      ['startedAt'],
      ['finishedAt'],
      ['cleanup'],
      ['cleanup', 'dryRun'],
      ['cleanup', 'targets'],
      ['failures'],
      ['failures', 0, 'step'],
      ['failures', 0, 'error'],
    ],
    required: [
      ['flow'],
      ['startedAt'],
      ['cleanup', 'dryRun'],
      ['failures', 0, 'step'],
      ['failures', 0, 'error'],
    ],
    strict: [[]],
    harmful: [
      {
        label: 'health evidence carrying a constructor key',
        event: JSON.parse(
          '{"flow":"HealthCheck","startedAt":"2026-01-01T00:00:00Z","health":{"status":"healthy","checks":[{"name":"api","kind":"http","status":"pass","summary":"ok","evidence":{"constructor":{"prototype":{}}}}]}}',
        ),
        path: 'health.checks[0].evidence.constructor',
      },
    ],
  },
  'security-maintenance': {
    valid: { executionId: 'run-1' },
    typed: [['executionId']],
    required: [],
    strict: [[]],
    harmful: [
      {
        label: 'an execution id longer than any execution name',
        event: { executionId: 'x'.repeat(300) },
        path: 'executionId',
      },
    ],
  },
  's3-backup': {
    valid: {
      step: 'run',
      set: backupSet,
      backupId: BACKUP_ID,
      executionId: 'run-1',
      startedAt: '2026-01-01T00:00:00Z',
      forceFull: false,
      timeBudgetMs: 1000,
    },
    typed: [
      ['step'],
      ['set'],
      ['set', 'name'],
      ['set', 'sourceBucket'],
      ['set', 'prefix'],
      ['set', 'mode'],
      ['set', 'fullEvery'],
      ['backupId'],
      ['executionId'],
      ['startedAt'],
      ['forceFull'],
      ['timeBudgetMs'],
    ],
    required: [['set'], ['set', 'name'], ['set', 'sourceBucket'], ['set', 'prefix']],
    strict: [[]],
    harmful: [
      {
        label: 'a backup of the backup bucket itself',
        event: { set: { ...backupSet, sourceBucket: BACKUP_BUCKET } },
        path: 'set.sourceBucket',
      },
    ],
  },
  'task-statistics': {
    valid: { days: 30, maxExecutions: 200, executionId: 'run-1' },
    typed: [['days'], ['maxExecutions'], ['executionId']],
    required: [],
    strict: [[]],
    harmful: [
      {
        label: 'a year of history (more than the 90 days it may read)',
        event: { days: 365 },
        path: 'days',
      },
      {
        label: 'more executions per flow than it may read',
        event: { maxExecutions: 100_000 },
        path: 'maxExecutions',
      },
    ],
  },
  update: {
    valid: {
      action: 'alias-shift',
      functionName: 'checkout',
      alias: 'live',
      targetVersion: '4',
      step: 0,
      steps: [5, 25, 50, 100],
      originalVersion: '3',
    },
    typed: [
      ['action'],
      ['functionName'],
      ['alias'],
      ['targetVersion'],
      ['step'],
      ['steps'],
      ['originalVersion'],
    ],
    required: [['action'], ['functionName'], ['alias'], ['targetVersion']],
    strict: [[]],
    harmful: [
      {
        label: 'canary steps that never reach 100',
        event: {
          action: 'alias-shift',
          functionName: 'checkout',
          alias: 'live',
          targetVersion: '4',
          steps: [10, 50],
        },
        path: 'steps',
      },
    ],
  },
};

/** The environment every handler reads at cold start: one stack's worth of configuration. */
const ENVIRONMENT = {
  BACKUP_BUCKET,
  BACKUP_KEY_ARN: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  CARETAKER_STACK: 'caretaker-test',
  CARETAKER_ENVIRONMENT: 'test',
  ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:111122223333:caretaker-alerts',
  RDS_TARGETS: JSON.stringify([{ name: 'orders', identifier: 'orders-db', retention: 'daily' }]),
  RETENTION_POLICIES: JSON.stringify({ daily: { keepDaily: 7 } }),
  BACKUP_SETS: JSON.stringify([{ ...backupSet, retention: 'daily' }]),
  LAMBDA_FUNCTIONS: '[]',
  HEALTH_CHECKS: JSON.stringify({ http: [], backupFreshness: false }),
  STACK_KEY_ARN: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  STATE_MACHINE_ARN_PREFIX: 'arn:aws:states:us-east-1:111122223333:stateMachine:',
  STATE_MACHINE_NAMES: JSON.stringify({ Cleanup: 'Caretaker-test-Cleanup' }),
  ESCALATION_LEVELS: JSON.stringify([{ respondWithinMinutes: 15 }, { respondWithinMinutes: 30 }]),
  DATABASE_MAINTENANCE: JSON.stringify([
    {
      rdsTarget: 'orders',
      type: 'instance',
      identifier: 'orders-db',
      database: 'orders',
      user: 'maintainer',
      passwordSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:orders-maintainer',
    },
  ]),
};

/** Every function folder with a handler. */
const FUNCTIONS = readdirSync('functions', { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join('functions', entry.name, 'handler.ts')))
  .map((entry) => entry.name)
  .sort();

/** Malformed events per function: enough that the whole run makes at least 150. */
const RUNS_PER_FUNCTION = Math.max(20, Math.ceil(150 / FUNCTIONS.length));

// Every client the functions use is mocked; each call fails so nothing can pass by reaching AWS.
const CLIENTS = [
  S3Client,
  RDSClient,
  KMSClient,
  SNSClient,
  SFNClient,
  LambdaClient,
  SecretsManagerClient,
  CloudWatchClient,
  CloudWatchLogsClient,
];
const mocks = [
  mockClient(S3Client),
  mockClient(RDSClient),
  mockClient(KMSClient),
  mockClient(SNSClient),
  mockClient(SFNClient),
  mockClient(LambdaClient),
  mockClient(SecretsManagerClient),
  mockClient(CloudWatchClient),
  mockClient(CloudWatchLogsClient),
];
// A client class added later would not be in the list above: its calls reach the SDK's shared base class.
const baseClients = new Set(
  CLIENTS.map(
    (client) => Object.getPrototypeOf(client.prototype) as { send: (...args: unknown[]) => unknown },
  ),
);
const baseSends = [...baseClients].map((base) =>
  vi.spyOn(base, 'send').mockRejectedValue(new Error('unexpected SDK call (not mocked)')),
);

function sdkSends(): number {
  return (
    mocks.reduce((count, mock) => count + mock.calls().length, 0) +
    baseSends.reduce((count, spy) => count + spy.mock.calls.length, 0)
  );
}

type Handler = (event: unknown, context: ReturnType<typeof fakeContext>) => Promise<unknown>;
const handlers = new Map<string, Handler>();

beforeAll(async () => {
  for (const [name, value] of Object.entries(ENVIRONMENT)) vi.stubEnv(name, value);
  for (const name of FUNCTIONS) {
    const module = (await import(`../../functions/${name}/handler.ts`)) as { handler: Handler };
    handlers.set(name, module.handler);
  }
});

afterAll(() => {
  vi.unstubAllEnvs();
  for (const spy of baseSends) spy.mockRestore();
});

beforeEach(() => {
  for (const mock of mocks) {
    mock.reset();
    mock.rejects(new Error('unexpected SDK call'));
  }
  for (const spy of baseSends) spy.mockClear();
});

/** Runs one event and returns how it was refused (or that it was not). */
async function refusal(name: string, event: unknown): Promise<{ error?: ValidationError; other?: unknown }> {
  try {
    await handlers.get(name)!(event, fakeContext(name));
    return {};
  } catch (error) {
    return (error as Error)?.name === 'ValidationError'
      ? { error: error as ValidationError }
      : { other: error };
  }
}

/** The kinds of breakage a spec allows (an event with no typed or required field has none of those). */
function mutations(spec: EventSpec): fc.Arbitrary<Mutation> {
  return fc.oneof(
    ...(spec.typed.length > 0 ? [wrongType(spec.valid, spec.typed)] : []),
    ...(spec.required.length > 0 ? [missing(spec.valid, spec.required)] : []),
    unknownField(spec.valid, spec.strict),
    forbiddenKey(spec.valid),
  );
}

describe('handler event fuzzing', () => {
  it('has an event generator for every handler in functions/', () => {
    // Act
    const withoutSpec = FUNCTIONS.filter((name) => !(name in SPECS));

    // Assess
    expect(FUNCTIONS.length).toBeGreaterThan(0);
    expect(withoutSpec, 'add an EventSpec to SPECS for each of these functions').toEqual([]);
    expect(FUNCTIONS.length * RUNS_PER_FUNCTION).toBeGreaterThanOrEqual(150);
  });

  describe.each(FUNCTIONS.filter((name) => name in SPECS))('%s', (name) => {
    const spec = SPECS[name]!;

    it('accepts the valid event the mutations start from, up to its first SDK call', async () => {
      // Act
      const outcome = await refusal(name, spec.valid);

      // Assess: anything but a ValidationError; a handler may fail later, on the mocked SDK.
      expect(outcome.error?.problems).toBeUndefined();
    });

    it(`refuses ${RUNS_PER_FUNCTION} malformed events with a ValidationError naming the field, before any SDK call`, async () => {
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(mutations(spec), async (mutation) => {
          // Prepare
          runs++;
          for (const mock of mocks) mock.resetHistory();
          for (const spy of baseSends) spy.mockClear();

          // Act
          const outcome = await refusal(name, mutation.document);

          // Assess
          expect(outcome.other, `${mutation.kind} must fail validation, not crash`).toBeUndefined();
          expect(outcome.error, `${mutation.kind} at ${mutation.path} was accepted`).toBeDefined();
          expect(outcome.error!.problems.map((problem) => problem.path)).toContain(mutation.path);
          expect(sdkSends()).toBe(0);
        }),
        { numRuns: RUNS_PER_FUNCTION },
      );
      expect(runs).toBeGreaterThanOrEqual(RUNS_PER_FUNCTION);
    });

    it.each(spec.harmful.map((harm) => [harm.label, harm] as const))(
      'refuses %s before any SDK call',
      async (_label, harm) => {
        // Act
        const outcome = await refusal(name, harm.event);

        // Assess
        expect(outcome.error?.problems.map((problem) => problem.path)).toContain(harm.path);
        expect(sdkSends()).toBe(0);
      },
    );
  });
});
