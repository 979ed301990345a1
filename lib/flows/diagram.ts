/**
 * A Mermaid flowchart of a state machine, generated from its ASL file: the runbooks in docs/flows/
 * embed it (a test keeps them in step) and `caretaker diagram` prints it. Tasks are boxes,
 * Choices diamonds, Map and Parallel states subgraphs, Succeed/Fail rounded; Catch edges are
 * dashed and labelled with the errors they catch, Choice edges with their condition.
 */
import {
  type AslChoiceRule,
  type AslMachine,
  type AslState,
  childMachines,
  type LocatedState,
  statesOf,
} from './asl.ts';

const COMPARISONS: Readonly<Record<string, string>> = {
  StringEquals: '==',
  NumericEquals: '==',
  BooleanEquals: '==',
  TimestampEquals: '==',
  NumericLessThan: '<',
  NumericGreaterThan: '>',
  NumericLessThanEquals: '<=',
  NumericGreaterThanEquals: '>=',
  TimestampLessThan: '<',
  TimestampGreaterThan: '>',
  StringMatches: 'matches',
  IsPresent: 'present:',
  IsNull: 'null:',
};

/** A short text for a Choice rule, e.g. `$.status.done == true`. */
export function describeRule(rule: AslChoiceRule): string {
  if (rule.And) return rule.And.map(describeRule).join(' and ');
  if (rule.Or) return rule.Or.map(describeRule).join(' or ');
  if (rule.Not) return `not (${describeRule(rule.Not)})`;
  for (const [key, value] of Object.entries(rule)) {
    if (key === 'Variable' || key === 'Next') continue;
    const path = key.endsWith('Path');
    const operator = COMPARISONS[path ? key.slice(0, -4) : key] ?? key;
    return `${rule.Variable} ${operator} ${path ? String(value) : JSON.stringify(value)}`;
  }
  return String(rule.Variable ?? '');
}

/** Mermaid-safe label text. */
function label(text: string): string {
  return `"${text.replace(/"/g, '#quot;').replace(/[<>]/g, (c) => (c === '<' ? '#lt;' : '#gt;'))}"`;
}

function node(id: string, name: string, state: AslState): string {
  switch (state.Type) {
    case 'Choice':
      return `${id}{${label(name)}}`;
    case 'Succeed':
      return `${id}([${label(`${name} ✔`)}])`;
    case 'Fail':
      return `${id}([${label(`${name} ✘ ${state.Error ?? ''}`.trim())}])`;
    case 'Wait':
      return `${id}[/${label(`${name} (wait)`)}/]`;
    case 'Pass':
      return `${id}[${label(name)}]`;
    default:
      return `${id}[${label(`${name}`)}]`;
  }
}

/** The Mermaid `flowchart TD` text of `machine`. */
export function mermaidOf(machine: AslMachine): string {
  const located = statesOf(machine);
  const ids = new Map(located.map(({ name }, index) => [name, `s${index}`]));
  const id = (name: string) => ids.get(name) ?? name;
  const lines = ['flowchart TD', `  start((start)) --> ${id(machine.StartAt)}`];

  const declare = (states: readonly LocatedState[], indent: string) => {
    for (const { name, state } of states) {
      const children = childMachines(state);
      if (children.length === 0) {
        lines.push(`${indent}${node(id(name), name, state)}`);
        continue;
      }
      lines.push(`${indent}subgraph ${id(name)} [${label(`${name} (${state.Type})`)}]`);
      children.forEach((child, branch) => {
        const entry = `${id(name)}_in${branch}`;
        lines.push(`${indent}  ${entry}(( )) --> ${id(child.StartAt)}`);
        declare(
          located.filter((s) => s.parent === name && s.startAt === child.StartAt),
          `${indent}  `,
        );
      });
      lines.push(`${indent}end`);
    }
  };
  declare(
    located.filter((s) => s.parent === undefined),
    '  ',
  );

  for (const { name, state } of located) {
    if (state.Next) lines.push(`  ${id(name)} --> ${id(state.Next)}`);
    // The end of an iteration or branch is the end of its subgraph; only the machine's own end is drawn.
    if (state.End && !located.find((s) => s.name === name)?.parent)
      lines.push(`  ${id(name)} --> finish((end))`);
    for (const rule of state.Choices ?? []) {
      if (rule.Next) lines.push(`  ${id(name)} -->|${label(describeRule(rule))}| ${id(rule.Next)}`);
    }
    if (state.Default) lines.push(`  ${id(name)} -->|"otherwise"| ${id(state.Default)}`);
    for (const catcher of state.Catch ?? []) {
      lines.push(
        `  ${id(name)} -.->|${label(`catch ${catcher.ErrorEquals.join(', ')}`)}| ${id(catcher.Next)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
