/**
 * A deployment's result as a person reads it: the outputs, then everything the sandbox did not
 * create or applied only in part, grouped so that eleven functions ignoring the same property read
 * as one line.
 */
import type { DeployResult } from './deploy.ts';

/** The stack's outputs, one per line (`Name = value  (description)`). */
export function outputLines(result: DeployResult): string[] {
  const width = Math.max(0, ...Object.keys(result.outputs).map((name) => name.length));
  return Object.entries(result.outputs).map(([name, value]) => {
    const description = result.outputDescriptions[name];
    return `${name.padEnd(width)} = ${value}${description ? `  (${description})` : ''}`;
  });
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function grouped(entries: readonly [string, string][]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [key, value] of entries) groups.set(key, [...(groups.get(key) ?? []), value]);
  return groups;
}

/** What was not created, ignored or done differently, for the deployment's summary. */
export function differenceLines(result: DeployResult): string[] {
  const lines: string[] = [];
  const created = Object.keys(result.resources).length;
  lines.push(
    `Stack ${result.stackName} in ${result.region}: ${plural(created, 'resource')} created, ${result.notModelled.length} not modelled by the sandbox.`,
  );
  const byReason = grouped(
    result.notModelled.map((entry) => [`${entry.type}: ${entry.reason}`, entry.logicalId]),
  );
  if (byReason.size > 0) lines.push('Not modelled (nothing created):');
  for (const [reason, ids] of byReason) lines.push(`  ${reason}`, `    ${ids.join(', ')}`);
  const ignored = grouped(
    Object.values(result.resources).flatMap((resource) =>
      resource.ignoredProperties.map((property): [string, string] => [resource.type, property]),
    ),
  );
  if (ignored.size > 0) lines.push('Properties the sandbox ignores:');
  for (const [type, properties] of ignored) {
    const counts = grouped(properties.map((property): [string, string] => [property, property]));
    lines.push(`  ${type}: ${[...counts.keys()].sort().join(', ')}`);
  }
  const notes = grouped(
    Object.entries(result.resources).flatMap(([id, resource]) =>
      resource.notes.filter((note) => !note.startsWith('Code: ')).map((note): [string, string] => [note, id]),
    ),
  );
  if (notes.size > 0) lines.push('Applied in part:');
  for (const [note, ids] of notes) lines.push(`  ${note}`, `    ${ids.join(', ')}`);
  for (const warning of result.warnings) lines.push(`Warning: ${warning}`);
  return lines;
}
