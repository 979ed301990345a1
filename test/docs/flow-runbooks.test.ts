/**
 * Every flow has a runbook in docs/flows/ with the sections an operator needs, and its diagram is
 * the one generated from the flow's ASL file as committed (`npm run docs:diagrams` refreshes it).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flowFile, flowRunbook, STATE_MACHINE_FLOWS } from '#common/flows/names';
import { withCurrentDiagram } from '../../lib/flows/runbook-diagram.ts';

const FLOWS = STATE_MACHINE_FLOWS.filter((flow) => existsSync(`statemachines/${flowFile(flow)}`));
const SECTIONS = [
  '## When it runs',
  '## Input',
  '## What each alert means',
  '## If the flow itself fails',
  '## Diagram',
];

describe('statemachines/', () => {
  it('holds only the ASL files of known flows', () => {
    const files = readdirSync('statemachines').filter((file) => file.endsWith('.asl.json'));

    expect(files.sort()).toEqual(FLOWS.map(flowFile).sort());
  });
});

describe.each(FLOWS)('the %s runbook', (flow) => {
  const path = `docs/flows/${flowRunbook(flow)}`;

  it('exists with the sections an operator needs', () => {
    const text = readFileSync(path, 'utf8');

    for (const section of SECTIONS) expect(text, `${path}: ${section}`).toContain(section);
  });

  it("shows the diagram of the flow's ASL file as committed", () => {
    const text = readFileSync(path, 'utf8');

    expect(text, `${path} is stale: run npm run docs:diagrams`).toBe(withCurrentDiagram(text, flow));
  });
});
