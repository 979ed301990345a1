/**
 * The diagram section of a flow's runbook (docs/flows/<flow>.md): a Mermaid block generated from
 * the flow's ASL file between two markers, so `caretaker diagram --update-docs` can rewrite it and
 * a test can tell when it is stale.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { flowFile, type StateMachineFlow } from '../../functions/common/flows/names.ts';
import type { AslMachine } from './asl.ts';
import { mermaidOf } from './diagram.ts';

export const DIAGRAM_START =
  '<!-- diagram: generated from the ASL file by `npm run docs:diagrams`; do not edit -->';
export const DIAGRAM_END = '<!-- end of diagram -->';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The flow's ASL document, as committed. */
export function flowMachine(flow: StateMachineFlow): AslMachine {
  return JSON.parse(readFileSync(`${ROOT}statemachines/${flowFile(flow)}`, 'utf8')) as AslMachine;
}

/** The diagram block of `flow`, markers included. */
export function diagramBlock(flow: StateMachineFlow): string {
  return `${DIAGRAM_START}\n\`\`\`mermaid\n${mermaidOf(flowMachine(flow))}\`\`\`\n${DIAGRAM_END}`;
}

/** `markdown` with its diagram block replaced by the current one; throws when it has no block. */
export function withCurrentDiagram(markdown: string, flow: StateMachineFlow): string {
  const start = markdown.indexOf(DIAGRAM_START);
  const end = markdown.indexOf(DIAGRAM_END);
  if (start < 0 || end < start) throw new Error(`The runbook of ${flow} has no diagram markers`);
  return `${markdown.slice(0, start)}${diagramBlock(flow)}${markdown.slice(end + DIAGRAM_END.length)}`;
}
