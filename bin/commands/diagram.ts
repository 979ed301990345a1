/**
 * `caretaker diagram [flow]`: the Mermaid flowchart of a flow, generated from its ASL file.
 * `--update-docs` rewrites the diagram in each flow's runbook (docs/flows/<flow>.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { flowRunbook, STATE_MACHINE_FLOWS, type StateMachineFlow } from '#common/flows/names';
import { mermaidOf } from '../../lib/flows/diagram.ts';
import { flowMachine, withCurrentDiagram } from '../../lib/flows/runbook-diagram.ts';

const USAGE = `Usage: caretaker diagram [flow] [--update-docs]

Prints the Mermaid flowchart of a flow, generated from its ASL file in statemachines/.
Flows: ${STATE_MACHINE_FLOWS.join(', ')} (all of them when none is given).

  --update-docs   rewrite the diagram in each flow's runbook (docs/flows/<flow>.md) instead

Exit codes: 0 done, 2 bad arguments.`;

export async function run(args: string[]): Promise<number> {
  const options = { 'update-docs': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  let parsed: { values: { 'update-docs'?: boolean; help?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: true });
  } catch (error) {
    console.error(`caretaker diagram: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return 0;
  }
  const [name, ...extra] = parsed.positionals;
  if (
    extra.length > 0 ||
    (name !== undefined && !(STATE_MACHINE_FLOWS as readonly string[]).includes(name))
  ) {
    console.error(`caretaker diagram: unknown flow "${[name, ...extra].join(' ')}"\n\n${USAGE}`);
    return 2;
  }
  const flows = name ? [name as StateMachineFlow] : [...STATE_MACHINE_FLOWS];
  for (const flow of flows) {
    let machine: ReturnType<typeof flowMachine>;
    try {
      machine = flowMachine(flow);
    } catch {
      if (name) {
        console.error(`caretaker diagram: the ${flow} flow has no ASL file yet`);
        return 2;
      }
      continue;
    }
    if (parsed.values['update-docs']) {
      const path = `docs/flows/${flowRunbook(flow)}`;
      writeFileSync(path, withCurrentDiagram(readFileSync(path, 'utf8'), flow));
      console.log(`Updated the diagram in ${path}`);
    } else {
      process.stdout.write(`${flows.length > 1 ? `%% ${flow}\n` : ''}${mermaidOf(machine)}`);
    }
  }
  return 0;
}
