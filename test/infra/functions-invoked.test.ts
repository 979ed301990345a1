/**
 * Every deployed function is invoked by something the stack deploys: a flow's task, a schedule, or
 * an EventBridge rule (alarm alerts to notify). Derived from the synthesized template, so a
 * function added without a caller — deployed but never run — fails here.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack } from '../support/stack.ts';

let resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;

beforeAll(() => {
  resources = buildStack().template.toJSON().Resources;
});

/** Logical ids of the Lambda functions `value` refers to (Ref or GetAtt …Arn, at any depth). */
function referencedFunctions(value: unknown, functions: ReadonlySet<string>): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => referencedFunctions(item, functions));
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  const ref = object.Ref;
  if (typeof ref === 'string' && functions.has(ref)) return [ref];
  const getAtt = object['Fn::GetAtt'];
  if (Array.isArray(getAtt) && functions.has(String(getAtt[0]))) return [String(getAtt[0])];
  return Object.values(object).flatMap((item) => referencedFunctions(item, functions));
}

describe('deployed functions', () => {
  it('are each invoked by a flow, a schedule or an event rule', () => {
    const functions = new Set(
      Object.entries(resources)
        .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
        .map(([id]) => id),
    );
    const callers: Record<string, string> = {
      'AWS::StepFunctions::StateMachine': 'DefinitionSubstitutions',
      'AWS::Scheduler::Schedule': 'Target',
      'AWS::Events::Rule': 'Targets',
    };
    const invoked = new Set(
      Object.values(resources).flatMap((resource) => {
        const property = callers[resource.Type];
        return property ? referencedFunctions(resource.Properties?.[property], functions) : [];
      }),
    );

    expect(functions.size).toBeGreaterThan(10);
    expect([...functions].filter((id) => !invoked.has(id))).toEqual([]);
  });
});
