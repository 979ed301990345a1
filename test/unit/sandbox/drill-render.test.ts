import { describe, expect, it } from 'vitest';
import { renderDrillReport } from '../../../sandbox/drill/render.ts';
import type { DrillReport, ScenarioResult } from '../../../sandbox/drill/run.ts';

const scenario = (overrides: Partial<ScenarioResult>): ScenarioResult => ({
  name: 'disaster recovery drill',
  flow: 'DisasterRecovery',
  input: { mode: 'drill' },
  executionArn: 'arn:aws:states:us-east-1:000000000000:execution:Caretaker-drill-DisasterRecovery:x',
  expected: 'SUCCEEDED',
  outcome: 'SUCCEEDED',
  seconds: 12.34,
  transitions: 57,
  states: [],
  alerts: [{ severity: 'info', subject: 'Caretaker drill DisasterRecovery: drill succeeded' }],
  expectedAlerts: 1,
  denials: [],
  injected: 0,
  checks: [{ name: 'database intact', ok: true, detail: '100000 rows, same hash' }],
  drill: { rtoSeconds: 9.5, rpoSeconds: 30 },
  ok: true,
  ...overrides,
});

const report = (scenarios: ScenarioResult[], denials: string[] = []): DrillReport => ({
  ok: scenarios.every((s) => s.ok) && denials.length === 0,
  seconds: 75,
  phases: { synth: 30, flows: 40 },
  stackName: 'Caretaker-drill',
  notModelled: [],
  seeded: { rows: 100_000, objects: 1_000 },
  scenarios,
  finalChecks: [{ name: 'source objects intact', ok: true, detail: '1000 objects byte-identical' }],
  denials,
});

describe('the drill report as text', () => {
  it('shows each run with its outcome, RTO/RPO, checks, alerts and denials, then the verdict', () => {
    const lines = renderDrillReport(report([scenario({})]));

    expect(lines).toContain(
      '✔ disaster recovery drill — DisasterRecovery: SUCCEEDED as expected, 12.3 s, 57 states entered',
    );
    expect(lines).toContain('    RTO 9.5 s (time to recover), RPO 30.0 s (age of the recovery point)');
    expect(lines).toContain('    data: 1/1 checks passed (database intact)');
    expect(lines).toContain('    IAM denials: 0');
    expect(lines.at(-1)).toMatch(/^✔ Drill passed: 1 flow runs ended as expected/);
    expect(lines).toContain('Time: 1 min 15 s (synth 30.0 s, flows 40.0 s)');
  });

  it('counts what the sandbox does not model by type instead of naming every resource', () => {
    const lines = renderDrillReport({
      ...report([scenario({})]),
      notModelled: [
        'AlarmA (AWS::CloudWatch::Alarm)',
        'RuleA (AWS::Events::Rule)',
        'AlarmB (AWS::CloudWatch::Alarm)',
        'Dashboard (AWS::CloudWatch::Dashboard)',
      ],
    });

    expect(lines).toContain(
      'Not modelled by the sandbox (listed, not deployed; each by name in --json): 2 AWS::CloudWatch::Alarm, 1 AWS::CloudWatch::Dashboard, 1 AWS::Events::Rule',
    );
    expect(lines.join('\n')).not.toContain('AlarmA');
  });

  it('names the failed check, the unexpected outcome, the denial and the failed run in the verdict', () => {
    const denial =
      'arn:aws:sts::000000000000:assumed-role/R/f is not authorized to perform: rds:CreateDBSnapshot';
    const lines = renderDrillReport(
      report(
        [
          scenario({
            outcome: 'FAILED',
            error: 'RestoreFailed',
            cause: 'the restore\nfailed',
            ok: false,
            denials: [denial],
            checks: [{ name: 'database intact', ok: false, detail: '99990 rows of 100000' }],
          }),
        ],
        [denial],
      ),
    );

    expect(lines).toContain(
      '✘ disaster recovery drill — DisasterRecovery: FAILED (expected SUCCEEDED), 12.3 s, 57 states entered',
    );
    expect(lines).toContain('    error: RestoreFailed: the restore failed');
    expect(lines).toContain('      ✘ database intact: 99990 rows of 100000');
    expect(lines).toContain(`      ✘ ${denial}`);
    expect(lines.at(-1)).toBe('✘ Drill FAILED: disaster recovery drill (see above).');
  });
});
