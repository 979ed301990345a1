/**
 * `caretaker sandbox drill`: the whole product rehearsed on this machine (DESIGN §9). A sandbox on
 * a free port in a fresh data directory, IAM enforced; the stack synthesized from the drill config
 * (or a given cloud assembly) and deployed into it; the resources the config names seeded
 * (100,000 rows, 1,000 objects); then every flow started through StartExecution on the deployed
 * state machines, followed state by state, and checked afterwards: the data, what Caretaker did
 * not make, the alerts sent (one per run), and IAM denials (none). Leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type HistoryEvent,
  paginateGetExecutionHistory,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { flowFile, type StateMachineFlow } from '../../functions/common/flows/names.ts';
import type { AslMachine } from '../../lib/flows/asl.ts';
import { ProgressNarrator } from '../../lib/flows/progress.ts';
import { type DeployResult, deployStack } from '../deploy/index.ts';
import { type Sandbox, startDefaultSandbox } from '../index.ts';
import type { LambdaService } from '../services/lambda/index.ts';
import type { SnsService } from '../services/sns/index.ts';
import { type AppServer, startAppServer } from './app-server.ts';
import { type CheckResult, checkExpectation, commonChecks, sourceObjectsCheck } from './checks.ts';
import { drillClients } from './clients.ts';
import { drillConfig } from './config.ts';
import { type Scenario, scenarios } from './scenarios.ts';
import { type Seeded, seed, seedRemnant } from './seed.ts';

export const DEFAULT_DRILL_CONFIG = 'config/drill.json';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const APP_MODULE = fileURLToPath(new URL('./app-function.mjs', import.meta.url));
const SYNTH_PROCESS = fileURLToPath(new URL('./synth-process.mjs', import.meta.url));
const FLOWS: readonly StateMachineFlow[] = ['RoutineMaintenance', 'Cleanup', 'Update', 'DisasterRecovery'];

export interface Injection {
  /** A Caretaker function, by its folder name under functions/ (e.g. `rds-restore`). */
  readonly function: string;
  /** transient: it fails once per flow run (the flow must retry); permanent: it always fails. */
  readonly mode: 'transient' | 'permanent';
}

export interface DrillOptions {
  /** @default config/drill.json */
  readonly configPath?: string;
  /** An already-synthesized cloud assembly (of the drill config) instead of synthesizing. */
  readonly templateDir?: string;
  /** Run only these flows' scenarios. @default every flow */
  readonly flows?: readonly StateMachineFlow[];
  readonly inject?: Injection;
  /** @default 100_000 */
  readonly rows?: number;
  /** @default 1_000 */
  readonly objects?: number;
  /** Multiplies every Wait of the flows. @default 0.001 */
  readonly timeScale?: number;
  /** Receives progress lines. */
  readonly progress?: (line: string) => void;
  /** Stops the drill (Ctrl-C): it cleans up and throws. */
  readonly signal?: AbortSignal;
}

export interface ScenarioResult {
  readonly name: string;
  readonly flow: StateMachineFlow;
  readonly input: Record<string, unknown>;
  readonly executionArn: string;
  readonly expected: 'SUCCEEDED' | 'FAILED';
  readonly outcome: string;
  readonly error?: string;
  readonly cause?: string;
  readonly seconds: number;
  readonly transitions: number;
  readonly states: readonly string[];
  readonly alerts: readonly { readonly severity: string; readonly subject: string }[];
  readonly expectedAlerts: number;
  readonly denials: readonly string[];
  readonly injected: number;
  readonly checks: readonly CheckResult[];
  readonly drill?: { readonly rtoSeconds: number; readonly rpoSeconds: number };
  /** Outcome as expected, every check passed, alerts as expected, no denial. */
  readonly ok: boolean;
}

export interface DrillReport {
  readonly ok: boolean;
  readonly seconds: number;
  readonly phases: Readonly<Record<string, number>>;
  readonly stackName: string;
  readonly notModelled: readonly string[];
  readonly inject?: Injection;
  readonly seeded: { readonly rows: number; readonly objects: number };
  readonly scenarios: readonly ScenarioResult[];
  readonly finalChecks: readonly CheckResult[];
  readonly denials: readonly string[];
}

/** The port of the loopback health endpoint an assembly's template probes. */
function appPortOf(assemblyDir: string, stackName: string): number {
  const template = readFileSync(join(assemblyDir, `${stackName}.template.json`), 'utf8');
  const match = /http:\/\/127\.0\.0\.1:(\d+)\/health/.exec(template);
  if (!match)
    throw new Error('The template probes no loopback HTTP endpoint (http://127.0.0.1:<port>/health)');
  return Number(match[1]);
}

/** Deployed Caretaker function name (its folder) → physical function name, from the template's tags. */
function functionsByName(
  assemblyDir: string,
  stackName: string,
  deployed: DeployResult,
): Map<string, string> {
  const template = JSON.parse(readFileSync(join(assemblyDir, `${stackName}.template.json`), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties?: { Tags?: { Key: string; Value: string }[] } }>;
  };
  const names = new Map<string, string>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const tag = resource.Properties?.Tags?.find((t) => t.Key === 'caretaker:function');
    const physical = deployed.resources[logicalId]?.physicalId;
    if (tag && physical) names.set(tag.Value, physical);
  }
  return names;
}

function machineOf(flow: StateMachineFlow): AslMachine {
  return JSON.parse(readFileSync(join(ROOT, 'statemachines', flowFile(flow)), 'utf8')) as AslMachine;
}

/** mm:ss since `start`. */
const clock = (start: number) => {
  const seconds = Math.floor((Date.now() - start) / 1000);
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
};

export async function runDrill(options: DrillOptions = {}): Promise<DrillReport> {
  const started = Date.now();
  const phases: Record<string, number> = {};
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const at = Date.now();
    try {
      return await work();
    } finally {
      phases[name] = (Date.now() - at) / 1000;
    }
  };
  const say = (line: string) => options.progress?.(`[${clock(started)}] ${line}`);
  const checkAbort = () => {
    if (options.signal?.aborted) throw new Error('The drill was stopped');
  };
  const workDir = mkdtempSync(join(tmpdir(), 'caretaker-drill-'));
  let sandbox: Sandbox | undefined;
  let app: AppServer | undefined;
  let cleanupAssembly = () => {};
  // Once, whether the drill ends, fails or is stopped (Ctrl-C aborts while a step is in flight).
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await app?.close().catch(() => undefined);
      await sandbox?.stop().catch(() => undefined);
      cleanupAssembly();
      rmSync(workDir, { recursive: true, force: true });
    })();
    return stopping;
  };
  options.signal?.addEventListener('abort', () => void stop(), { once: true });

  try {
    const config = drillConfig(options.configPath ?? DEFAULT_DRILL_CONFIG);
    sandbox = await phase('sandbox', () =>
      startDefaultSandbox({
        port: 0,
        dataDir: join(workDir, 'sandbox'),
        settings: {
          iam: { enforcement: 'enforce' },
          scheduler: { evaluate: false },
          states: { timeScale: options.timeScale ?? 0.001 },
          lambda: {
            registerCaretakerFunctions: false,
            environment: { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' },
          },
        },
      }),
    );
    say(`Sandbox at ${sandbox.url} (IAM enforced), data in ${workDir}`);
    const clients = drillClients(sandbox.url, sandbox.context.defaultRegion);
    const lambda = sandbox.context.service<LambdaService>('lambda')!;
    checkAbort();

    // The application the health checks probe, then the config that names its port.
    const assembly = options.templateDir
      ? {
          assemblyDir: options.templateDir,
          stackName: `Caretaker-${config.config.environment.name}`,
          cleanup: () => {},
        }
      : undefined;
    app = await startAppServer({
      port: assembly ? appPortOf(assembly.assemblyDir, assembly.stackName) : 0,
      rds: clients.rds,
      instance: config.names.instance,
      breaksOnClass: config.badClass,
    });
    const configFile = join(workDir, 'drill-config.json');
    writeFileSync(configFile, JSON.stringify(config.withAppPort(app.port), null, 2));

    const sizes = { rows: options.rows ?? 100_000, objects: options.objects ?? 1_000 };
    say(
      `Seeding ${config.names.instance} with ${sizes.rows} rows and s3://${config.names.sourceBucket}/${config.names.sourcePrefix} with ${sizes.objects} objects`,
    );
    const seeding = phase('seed', () => seed(clients, lambda, config.names, sizes, APP_MODULE));
    seeding.catch(() => undefined);
    let synthesized: { assemblyDir: string; stackName: string; cleanup(): void };
    if (assembly) synthesized = assembly;
    else {
      say(
        `Synthesizing the stack for ${options.configPath ?? DEFAULT_DRILL_CONFIG} (bundling every function)`,
      );
      synthesized = await phase('synth', () =>
        synthesizeApart(configFile, join(workDir, 'cdk.out'), options.signal),
      );
    }
    cleanupAssembly = () => synthesized.cleanup();
    const seeded: Seeded = await seeding;
    checkAbort();
    say(`Deploying ${synthesized.stackName} into the sandbox`);
    const deployed = await phase('deploy', () =>
      deployStack(sandbox!, {
        assemblyDir: synthesized.assemblyDir,
        stackName: synthesized.stackName,
        pauseSchedules: true,
      }),
    );
    say(
      `Deployed: ${Object.keys(deployed.resources).length} resources (${deployed.notModelled.length} listed as not modelled)`,
    );
    const physical = functionsByName(synthesized.assemblyDir, synthesized.stackName, deployed);
    if (options.inject && !physical.has(options.inject.function)) {
      throw new Error(
        `--inject: no deployed function named ${options.inject.function} (functions: ${[...physical.keys()].sort().join(', ')})`,
      );
    }
    const topicArn = deployed.outputs.AlertTopicArn!;
    const backupBucket = deployed.outputs.BackupBucketName!;
    const sns = sandbox.context.service<SnsService>('sns')!;

    const selected = new Set(options.flows ?? FLOWS);
    const list = scenarios(config.scenarioNames).filter((scenario) => selected.has(scenario.flow));
    // What an interrupted cleanup leaves, for the cleanup runs to find (and the real one to finish).
    const remnant = selected.has('Cleanup')
      ? await seedRemnant(clients, backupBucket, config.scenarioNames.backupSet)
      : undefined;
    // Flows that need recovery points get them from an unjudged nightly run first when the judged
    // one is not part of the drill or may fail on purpose.
    const needsPoints = list.some((s) => s.flow === 'Cleanup' || s.flow === 'DisasterRecovery');
    if (needsPoints && (!selected.has('RoutineMaintenance') || options.inject)) {
      const prepare = scenarios(config.scenarioNames).find((s) => s.flow === 'RoutineMaintenance')!;
      say('Preparing recovery points: one routine maintenance run (not judged)');
      const run = await execute(prepare, deployed, clients, say);
      if (run.status !== 'SUCCEEDED')
        throw new Error(
          `The preparing routine maintenance run ended ${run.status}: ${run.error ?? ''} ${run.cause ?? ''}`,
        );
    }

    const results: ScenarioResult[] = [];
    await phase('flows', async () => {
      for (const scenario of list) {
        checkAbort();
        const injectedFn = options.inject ? physical.get(options.inject.function)! : undefined;
        const injectedBefore = injectedFn ? (lambda.faults.injected.get(injectedFn) ?? 0) : 0;
        if (options.inject && injectedFn) {
          lambda.faults.arm(injectedFn, {
            errorType: options.inject.mode === 'transient' ? 'ThrottledError' : 'PreconditionFailedError',
            errorMessage: `Injected by the drill (${options.inject.mode})`,
            times: options.inject.mode === 'transient' ? 1 : 'always',
          });
        }
        const alertsBefore = sns.messages(topicArn).length;
        const denialsBefore = sandbox!.denials().length;
        say(`${scenario.name}: starting ${scenario.flow} ${JSON.stringify(scenario.input)}`);
        const run = await execute(scenario, deployed, clients, (line) => say(`${scenario.name}: ${line}`));
        if (injectedFn) lambda.faults.clear(injectedFn);
        const injected = injectedFn ? (lambda.faults.injected.get(injectedFn) ?? 0) - injectedBefore : 0;
        const alerts = sns
          .messages(topicArn)
          .slice(alertsBefore)
          .map((message) => ({
            severity: message.messageAttributes.severity?.StringValue ?? '',
            subject: message.subject ?? '',
          }));
        const denials = sandbox!
          .denials()
          .slice(denialsBefore)
          .map((denial) => denial.explanation.join(' '));
        const permanentHit =
          options.inject?.mode === 'permanent' &&
          injected > 0 &&
          !(scenario.tolerates ?? []).includes(options.inject.function);
        const expected = permanentHit ? 'FAILED' : scenario.expected;
        // A run refused at its first state, or whose report cannot run, sends nothing.
        const silent = permanentHit && ['flow-input', 'report'].includes(options.inject!.function);
        const expectedAlerts = silent ? 0 : 1;
        const report = await readReport(clients.s3, backupBucket, scenario.flow, run.executionArn);
        const checks = [
          ...(await commonChecks(clients, config.names, seeded)),
          // A permanent fault may stop a flow before what it would have done: only the data must hold.
          ...(permanentHit
            ? []
            : await Promise.all(
                scenario.expectations.map((expectation) =>
                  checkExpectation(expectation, {
                    clients,
                    names: config.names,
                    seeded,
                    backupSet: config.scenarioNames.backupSet,
                    restorePrefix: config.restorePrefix,
                    report,
                    backupBucket,
                    remnant,
                  }),
                ),
              )),
        ];
        const drill = report?.drill as { rtoSeconds: number; rpoSeconds: number } | undefined;
        const ok =
          run.status === expected &&
          checks.every((check) => check.ok) &&
          alerts.length === expectedAlerts &&
          denials.length === 0;
        const result: ScenarioResult = {
          name: scenario.name,
          flow: scenario.flow,
          input: scenario.input,
          executionArn: run.executionArn,
          expected,
          outcome: run.status,
          ...(run.error ? { error: run.error } : {}),
          ...(run.cause ? { cause: run.cause } : {}),
          seconds: run.seconds,
          transitions: run.states.length,
          states: run.states,
          alerts,
          expectedAlerts,
          denials,
          injected,
          checks,
          ...(drill && scenario.flow === 'DisasterRecovery'
            ? { drill: { rtoSeconds: drill.rtoSeconds, rpoSeconds: drill.rpoSeconds } }
            : {}),
          ok,
        };
        results.push(result);
        say(
          `${scenario.name}: ${ok ? '✔' : '✘'} ${run.status} (expected ${expected}) in ${run.seconds.toFixed(1)} s, ${run.states.length} transitions`,
        );
      }
    });

    const finalChecks = await phase('final checks', async () => [
      await sourceObjectsCheck(clients, config.names, seeded),
    ]);
    const allDenials = sandbox.denials().map((denial) => denial.explanation.join(' '));
    const ok = results.every((r) => r.ok) && finalChecks.every((c) => c.ok) && allDenials.length === 0;
    return {
      ok,
      seconds: (Date.now() - started) / 1000,
      phases,
      stackName: synthesized.stackName,
      notModelled: deployed.notModelled.map((resource) => `${resource.logicalId} (${resource.type})`),
      ...(options.inject ? { inject: options.inject } : {}),
      seeded: { rows: seeded.rows, objects: seeded.objects.size },
      scenarios: results,
      finalChecks,
      denials: allDenials,
    };
  } finally {
    await stop();
  }
}

/**
 * Synthesizes in a child process (sandbox/drill/synth-process.mjs), so seeding goes on meanwhile;
 * its bundling logs are kept and shown only if it fails. The config was validated before.
 */
async function synthesizeApart(
  configPath: string,
  outdir: string,
  signal?: AbortSignal,
): Promise<{ assemblyDir: string; stackName: string; cleanup(): void }> {
  // Stopping the drill stops the synthesis too (the child is killed on abort).
  const child = spawn(process.execPath, [SYNTH_PROCESS, configPath, outdir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(signal ? { signal } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const line = stdout.trim().split('\n').at(-1);
  if (code !== 0 || !line) {
    throw new Error(`Synthesizing the drill's stack failed (exit ${code}):\n${stderr.trim().slice(-4000)}`);
  }
  const { assemblyDir, stackName } = JSON.parse(line) as { assemblyDir: string; stackName: string };
  return { assemblyDir, stackName, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

interface ExecutionOutcome {
  readonly executionArn: string;
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
  readonly seconds: number;
  readonly states: string[];
}

/** Starts the scenario's flow on the deployed state machine and follows it to its end. */
async function execute(
  scenario: Scenario,
  deployed: DeployResult,
  clients: ReturnType<typeof drillClients>,
  say: (line: string) => void,
): Promise<ExecutionOutcome> {
  const stateMachineArn = deployed.outputs[`${scenario.flow}StateMachineArn`];
  if (!stateMachineArn) throw new Error(`The stack has no ${scenario.flow}StateMachineArn output`);
  const { executionArn = '' } = await clients.sfn.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(scenario.input) }),
  );
  const narrator = new ProgressNarrator(machineOf(scenario.flow));
  const byId = new Map<number, HistoryEvent>();
  let seen = 0;
  for (;;) {
    const described = await clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    let index = 0;
    for await (const page of paginateGetExecutionHistory({ client: clients.sfn }, { executionArn })) {
      for (const event of page.events ?? []) {
        index += 1;
        if (index <= seen) continue;
        seen = index;
        byId.set(event.id!, event);
        for (const line of narrator.lines(event, byId)) say(line);
      }
    }
    if (described.status !== 'RUNNING') {
      return {
        executionArn,
        status: described.status ?? 'UNKNOWN',
        ...(described.error ? { error: described.error } : {}),
        ...(described.cause ? { cause: described.cause } : {}),
        seconds:
          ((described.stopDate?.getTime() ?? Date.now()) - (described.startDate?.getTime() ?? Date.now())) /
          1000,
        states: narrator.states,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** The run's report (JSON) from the backup bucket, when the run wrote one. */
async function readReport(
  s3: ReturnType<typeof drillClients>['s3'],
  bucket: string,
  flow: StateMachineFlow,
  executionArn: string,
): Promise<Record<string, unknown> | undefined> {
  const name = executionArn.split(':').pop()!;
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `reports/${flow}/` }));
  const key = (listed.Contents ?? []).map((o) => o.Key!).find((k) => k.endsWith(`/${name}.json`));
  if (!key) return undefined;
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await object.Body!.transformToString()) as Record<string, unknown>;
}
