/**
 * One alert per incident (DESIGN §6), counted: for each failure scenario, what the failure makes
 * happen (the metrics it moves, the path its flow takes), and every way an alert can then reach a
 * subscriber of the topic, read from the synthesized template and the ASL files themselves:
 *
 * - an alarm whose metric the scenario moves past its threshold (composite alarms through their
 *   children), announced by an EventBridge rule that invokes notify, or by an SNS action on the
 *   topic: one alert each when it goes off, one when it clears;
 * - each call of the report function on the flow's path (walked through the ASL from the failing
 *   state's Catch): one alert (report publishes exactly one per run, test/unit/functions/report),
 *   and one "resolved" message when a later run of the same flow succeeds.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AslMachine, type AslState, choiceTargets, statesOf } from '../../lib/flows/asl.ts';
import { buildStack } from '../support/stack.ts';

type Built = ReturnType<typeof buildStack>;
let template: Built['template'];
let stack: Built['stack'];

beforeAll(() => {
  ({ template, stack } = buildStack());
});

/** A metric the scenario moves, with the value it takes, or `missing` when its datapoints stop. */
interface Signal {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, unknown>>;
  readonly value?: number;
  readonly missing?: true;
}

interface MetricJson {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions?: readonly { Name: string; Value: unknown }[];
}

/** Dimensions as sorted JSON, so the template's list and a signal's map compare. */
const sorted = (entries: [string, unknown][]) =>
  JSON.stringify(entries.sort(([a], [b]) => a.localeCompare(b)));

const matches = (metric: MetricJson, signal: Signal) =>
  metric.Namespace === signal.namespace &&
  metric.MetricName === signal.metricName &&
  sorted((metric.Dimensions ?? []).map((d) => [d.Name, d.Value])) ===
    sorted(Object.entries(signal.dimensions));

const COMPARE: Readonly<Record<string, (value: number, threshold: number) => boolean>> = {
  GreaterThanThreshold: (v, t) => v > t,
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};

/** A CloudWatch metric-math expression (IF, AND, OR, comparisons) evaluated over `values`. */
function evaluate(expression: string, values: Record<string, number>): number {
  const js = expression
    .replace(/\bAND\b/g, '&&')
    .replace(/\bOR\b/g, '||')
    .replace(/\bIF\(/g, 'iff(');
  const names = Object.keys(values);
  // The expressions are the template's own (the degraded alarm's), evaluated as CloudWatch would.
  return Number(
    new Function('iff', ...names, `return (${js});`)(
      (c: unknown, a: number, b: number) => (c ? a : b),
      ...names.map((n) => values[n]),
    ),
  );
}

/** Whether the alarm `id` goes off when `signals` happen. */
function goesOff(id: string, signals: readonly Signal[]): boolean {
  const composite = template.findResources('AWS::CloudWatch::CompositeAlarm')[id];
  if (composite) {
    const children = [
      ...JSON.stringify(composite.Properties.AlarmRule).matchAll(/"Fn::GetAtt":\["(\w+)","Arn"\]/g),
    ];
    return children.some(([, child]) => goesOff(child!, signals));
  }
  const props = template.findResources('AWS::CloudWatch::Alarm')[id]!.Properties;
  const fires = (value: number) => COMPARE[props.ComparisonOperator]!(value, props.Threshold);
  if (!props.Metrics) {
    const signal = signals.find((each) => matches(props, each));
    if (!signal) return false;
    return signal.missing ? props.TreatMissingData === 'breaching' : fires(signal.value ?? 1);
  }
  const values: Record<string, number> = {};
  for (const query of props.Metrics.filter((q: any) => q.MetricStat)) {
    const signal = signals.find((each) => matches(query.MetricStat.Metric, each));
    if (!signal || signal.missing) return false;
    values[query.Id] = signal.value ?? 1;
  }
  const expression = props.Metrics.find((q: any) => q.Expression);
  return fires(evaluate(expression.Expression, values));
}

/** Alerts an alarm sends when it goes off and when it clears (routed through notify, or SNS actions). */
function deliveries(id: string): { raised: number; cleared: number } {
  const rules = Object.values(template.findResources('AWS::Events::Rule')).filter(
    (rule) =>
      JSON.stringify(rule.Properties.EventPattern.resources) ===
      JSON.stringify([{ 'Fn::GetAtt': [id, 'Arn'] }]),
  );
  const on = (state: string) =>
    rules.filter(
      (rule) => JSON.stringify(rule.Properties.EventPattern.detail.state.value) === JSON.stringify([state]),
    ).length;
  const props = (
    template.findResources('AWS::CloudWatch::Alarm')[id] ??
    template.findResources('AWS::CloudWatch::CompositeAlarm')[id]!
  ).Properties;
  return {
    raised: on('ALARM') + (props.AlarmActions?.length ?? 0),
    cleared: on('OK') + (props.OKActions?.length ?? 0),
  };
}

/** Every alarm of the template (composite alarms included) that goes off, with what it sends. */
function alarmAlerts(signals: readonly Signal[]): { raised: number; cleared: number; alarms: string[] } {
  const ids = [
    ...Object.keys(template.findResources('AWS::CloudWatch::Alarm')),
    ...Object.keys(template.findResources('AWS::CloudWatch::CompositeAlarm')),
  ];
  const routed = ids.filter((id) => goesOff(id, signals)).filter((id) => deliveries(id).raised > 0);
  return {
    alarms: routed,
    raised: routed.reduce((sum, id) => sum + deliveries(id).raised, 0),
    cleared: routed.reduce((sum, id) => sum + deliveries(id).cleared, 0),
  };
}

const machine = (file: string) => JSON.parse(readFileSync(`statemachines/${file}`, 'utf8')) as AslMachine;

/** The value at a simple JSONPath of `input`. */
const at = (input: unknown, path: string) =>
  path
    .replace(/^\$\.?/, '')
    .split('.')
    .reduce<any>((value, key) => value?.[key], input);

/** Where a Choice goes for `input` (the comparisons Caretaker's flows use on these paths). */
function choose(state: AslState, input: unknown): string {
  for (const rule of state.Choices ?? []) {
    const value = at(input, rule.Variable as string);
    if ('BooleanEquals' in rule && value === rule.BooleanEquals) return rule.Next!;
    if (
      'NumericGreaterThan' in rule &&
      typeof value === 'number' &&
      value > (rule.NumericGreaterThan as number)
    )
      return rule.Next!;
  }
  if (!state.Default) throw new Error(`No choice matches ${JSON.stringify(input)}`);
  return state.Default;
}

/**
 * The report calls on the path from `start` to the end of its machine (or of its Map iteration),
 * taking each Choice as `input` decides: report alerts once per call.
 */
function reportCalls(file: string, start: string, input: unknown): number {
  const states = new Map(statesOf(machine(file)).map((s) => [s.name, s.state]));
  let calls = 0;
  for (let name: string | undefined = start, steps = 0; name && steps < 100; steps++) {
    const state: AslState = states.get(name)!;
    if (state.Type === 'Task' && JSON.stringify(state.Parameters).includes('${ReportFunctionArn}')) calls++;
    name = state.Type === 'Choice' ? choose(state, input) : state.End ? undefined : state.Next;
    expect(choiceTargets(state).length === 0 || name !== undefined).toBe(true);
  }
  return calls;
}

/** The state a Catch of `state` goes to. */
const catchOf = (file: string, state: string) =>
  statesOf(machine(file)).find((s) => s.name === state)!.state.Catch![0]!.Next;

const ref = (construct: { node: { defaultChild?: unknown } }) => ({
  Ref: stack.getLogicalId(construct.node.defaultChild as never),
});
const errors = (fn: { fn: { node: { defaultChild?: unknown } } }): Signal => ({
  namespace: 'AWS/Lambda',
  metricName: 'Errors',
  dimensions: { FunctionName: ref(fn.fn) },
  value: 1,
});
const executions = (
  metricName: string,
  flow: { stateMachine: { node: { defaultChild?: unknown } } },
): Signal => ({
  namespace: 'AWS/States',
  metricName,
  dimensions: { StateMachineArn: ref(flow.stateMachine) },
  value: 1,
});
const health = (metricName: string, check: string, kind: string, value: number): Signal => ({
  namespace: 'Caretaker',
  metricName,
  dimensions: { check, function: 'health-check', kind, service: 'caretaker' },
  value,
});

/** A scenario's alerts: report calls on its flows' paths, plus the alarms it sets off. */
function count(signals: readonly Signal[], reports: number) {
  const alarms = alarmAlerts(signals);
  // A flow's failure report opens its incident; a later successful run's report resolves it.
  return { raised: alarms.raised + reports, cleared: alarms.cleared + reports, alarms: alarms.alarms };
}

describe('alerts per incident', () => {
  it('a Backup run whose step fails: one critical report, one resolved when a later run succeeds', () => {
    const reports = reportCalls('backup.asl.json', catchOf('backup.asl.json', 'Plan'), { nested: false });

    const alerts = count(
      [errors(stack.backups.backup), executions('ExecutionsFailed', stack.backupFlow)],
      reports,
    );

    expect(alerts).toEqual({ raised: 1, cleared: 1, alarms: [] });
  });

  it('a Backup run whose verification fails: one', () => {
    const reports = reportCalls('backup.asl.json', catchOf('backup.asl.json', 'Verify'), { nested: false });

    const alerts = count(
      [errors(stack.backups.verify), executions('ExecutionsFailed', stack.backupFlow)],
      reports,
    );

    expect(alerts).toEqual({ raised: 1, cleared: 1, alarms: [] });
  });

  it('a nightly run whose nested Backup fails: one, from the parent (the child does not report)', () => {
    const child = reportCalls('backup.asl.json', catchOf('backup.asl.json', 'Plan'), { nested: true });
    const iteration = reportCalls(
      'routine-maintenance.asl.json',
      catchOf('routine-maintenance.asl.json', 'BackUpSet'),
      {},
    );
    const parent = reportCalls('routine-maintenance.asl.json', 'Maintain', {
      report: { outcome: { failures: 1 } },
    });

    const alerts = count(
      [
        errors(stack.backups.backup),
        executions('ExecutionsFailed', stack.backupFlow),
        executions('ExecutionsFailed', stack.routineMaintenanceFlow),
      ],
      child + iteration + parent,
    );

    expect([child, iteration, parent]).toEqual([0, 0, 1]);
    expect(alerts).toEqual({ raised: 1, cleared: 1, alarms: [] });
  });

  it('a nightly run whose RDS snapshot or copy fails: one', () => {
    const snapshot = reportCalls(
      'routine-maintenance.asl.json',
      catchOf('routine-maintenance.asl.json', 'SnapshotStatus'),
      {},
    );
    const copy = reportCalls(
      'routine-maintenance.asl.json',
      catchOf('routine-maintenance.asl.json', 'CopySnapshot'),
      {},
    );
    const parent = reportCalls('routine-maintenance.asl.json', 'Maintain', {
      report: { outcome: { failures: 1 } },
    });

    const alerts = count(
      [errors(stack.rds.snapshot), executions('ExecutionsFailed', stack.routineMaintenanceFlow)],
      snapshot + copy + parent,
    );

    expect(alerts).toEqual({ raised: 1, cleared: 1, alarms: [] });
  });

  it('a Cleanup run that fails: one', () => {
    const reports = reportCalls('cleanup.asl.json', catchOf('cleanup.asl.json', 'Cleanup'), {});

    const alerts = count(
      [errors(stack.cleanup.function), executions('ExecutionsFailed', stack.cleanupFlow)],
      reports,
    );

    expect(alerts).toEqual({ raised: 1, cleared: 1, alarms: [] });
  });

  it('a backup set gets stale: one critical alarm (not the freshness check and the backup age both)', () => {
    const alerts = count(
      [
        health('CheckStatus', 'backup-set:uploads', 'freshness', 0),
        health('BackupAgeSeconds', 'backup-set:uploads', 'freshness', 30 * 3600),
      ],
      0,
    );

    expect(alerts.raised).toBe(1);
    expect(alerts.cleared).toBe(1);
  });

  it('a health check fails: one critical alarm (not also the degraded one)', () => {
    const alerts = count([health('CheckStatus', 'api', 'http', 0)], 0);

    expect(alerts).toMatchObject({ raised: 1, cleared: 1 });
  });

  it('the health-check function fails on its schedule: one (its results stop)', () => {
    const alerts = count(
      [
        errors(stack.healthCheck.function),
        {
          namespace: 'Caretaker',
          metricName: 'Healthy',
          dimensions: { function: 'health-check', service: 'caretaker' },
          missing: true,
        },
      ],
      0,
    );

    expect(alerts).toMatchObject({ raised: 1, cleared: 1 });
  });

  it("a flow's health step finds the service unhealthy (failOn, an error on purpose): only the flow's report", () => {
    const alerts = count([errors(stack.healthCheck.function)], 0);

    expect(alerts).toEqual({ raised: 0, cleared: 0, alarms: [] });
  });

  it('report itself fails at the end of a failed run: one, from its own alarm', () => {
    const alerts = count(
      [
        errors(stack.report.function),
        errors(stack.backups.backup),
        executions('ExecutionsFailed', stack.backupFlow),
      ],
      0,
    );

    expect(alerts).toMatchObject({ raised: 1, cleared: 1 });
  });

  it('a flow run times out: one, from its timed-out alarm (it could not report)', () => {
    const alerts = count([executions('ExecutionsTimedOut', stack.cleanupFlow)], 0);

    expect(alerts).toMatchObject({ raised: 1, cleared: 1 });
  });

  it('a nightly run times out while its nested Backup runs: two (known: the stopped child counts as aborted, docs/alerts.md)', () => {
    const alerts = count(
      [
        executions('ExecutionsTimedOut', stack.routineMaintenanceFlow),
        executions('ExecutionsAborted', stack.backupFlow),
      ],
      0,
    );

    expect(alerts).toMatchObject({ raised: 2, cleared: 2 });
  });
});
