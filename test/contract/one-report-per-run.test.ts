/**
 * One alert per incident, as a property of the ASL files: once a flow's input is accepted, every
 * way its execution can end — success, a caught failure, a rollback, an uncaught failure of any
 * state — passes exactly one report call (report publishes the run's single alert). Derived from
 * the files: each state's successors are its Next, every Choice branch and every Catch target, and
 * a state whose failures no `States.ALL` catcher takes can also end the execution right there
 * (a Map or Parallel only when something inside it can fail uncaught).
 * Poll loops contain no report call, so a path that comes back to a state it passed adds nothing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type AslMachine, type AslState, childMachines, choiceTargets } from '../../lib/flows/asl.ts';

const FILES = readdirSync('statemachines').filter((file) => file.endsWith('.asl.json'));
const machine = (file: string) => JSON.parse(readFileSync(`statemachines/${file}`, 'utf8')) as AslMachine;

const isReport = (state: AslState) =>
  state.Type === 'Task' && JSON.stringify(state.Parameters ?? {}).includes('${ReportFunctionArn}');
const catchesAll = (state: AslState) =>
  (state.Catch ?? []).some((catcher) => catcher.ErrorEquals.includes('States.ALL'));
/**
 * Whether `state` can fail the execution on its own: a Task always can; a Map or Parallel only when
 * a state inside it can fail without being caught there (or is a Fail state).
 */
function canFail(state: AslState): boolean {
  if (state.Type === 'Task') return true;
  return childMachines(state).some((child) =>
    Object.values(child.States).some(
      (inner) => inner.Type === 'Fail' || (canFail(inner) && !catchesAll(inner)),
    ),
  );
}

/**
 * The numbers of report calls on the ways from `start` to the end of the execution. A Choice on a
 * variable in `assume` takes only the branch that value selects (BooleanEquals rules).
 */
function reportCounts(
  top: AslMachine,
  start: string,
  assume: Readonly<Record<string, boolean>> = {},
): Set<number> {
  const memo = new Map<string, Set<number>>();
  const visit = (name: string, onPath: Set<string>): Set<number> => {
    const known = memo.get(name);
    if (known) return known;
    if (onPath.has(name)) return new Set();
    const state = top.States[name]!;
    const own = isReport(state) ? 1 : 0;
    const next: string[] = [];
    let ends = state.Type === 'Succeed' || state.Type === 'Fail' || state.End === true;
    if (state.Type === 'Choice') {
      const assumed = (state.Choices ?? []).find(
        (rule) => typeof rule.Variable === 'string' && rule.Variable in assume && 'BooleanEquals' in rule,
      );
      if (assumed) {
        const variable = assumed.Variable as string;
        const taken = (state.Choices ?? []).find(
          (rule) => rule.Variable === variable && rule.BooleanEquals === assume[variable],
        );
        next.push(taken?.Next ?? state.Default!);
      } else next.push(...choiceTargets(state));
    } else if (state.Next) next.push(state.Next);
    next.push(...(state.Catch ?? []).map((catcher) => catcher.Next));
    if (canFail(state) && !catchesAll(state)) ends = true;
    const counts = new Set<number>(ends ? [own] : []);
    const path = new Set(onPath).add(name);
    for (const successor of next) for (const count of visit(successor, path)) counts.add(count + own);
    if (onPath.size === 0 || !next.some((successor) => onPath.has(successor))) memo.set(name, counts);
    return counts;
  };
  return visit(start, new Set());
}

describe.each(FILES)('%s', (file) => {
  const top = machine(file);
  const validate = top.States.ValidateInput!;

  it('starts by validating its input, which fails the execution at once (nothing to report yet)', () => {
    expect(top.StartAt).toBe('ValidateInput');
    expect(validate.Catch ?? []).toEqual([]);
  });

  it('reports exactly once on every way an accepted run can end', () => {
    const assume: Record<string, boolean> = file === 'backup.asl.json' ? { '$.nested': false } : {};

    expect([...reportCounts(top, validate.Next!, assume)]).toEqual([1]);
  });
});

describe('backup.asl.json run by another flow', () => {
  it('never reports: its parent reports the whole run', () => {
    const top = machine('backup.asl.json');

    expect([...reportCounts(top, top.States.ValidateInput!.Next!, { '$.nested': true })]).toEqual([0]);
  });
});
