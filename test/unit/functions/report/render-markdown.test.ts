import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findings } from '../../../../functions/report/findings.ts';
import { renderMarkdown } from '../../../../functions/report/render-markdown.ts';
import { runRecordSchema } from '../../../../functions/report/run-record.ts';

const GOLDEN = 'test/fixtures/report/routine-maintenance-run.md';
const record = runRecordSchema.parse(
  JSON.parse(readFileSync('test/fixtures/report/routine-maintenance-run.json', 'utf8')),
);
const markdown = renderMarkdown(record, findings(record), 'prod', record.finishedAt!);

describe('the Markdown report of a recorded run', () => {
  it('opens with the outcome, the run and its console link', () => {
    const [title, , outcome] = markdown.split('\n');

    expect(title).toBe('# Caretaker report: Routine maintenance in prod');
    expect(outcome).toBe('**Outcome: 1 failure, 2 warnings** (severity critical). See below for what to do.');
    expect(markdown).toContain('- Finished: 2026-11-21T01:19:41.000Z (19 min 38 s)');
    expect(markdown).toContain(
      'https://eu-central-1.console.aws.amazon.com/states/home?region=eu-central-1#/v2/executions/details/',
    );
  });

  it('lists failures and warnings before the sections, each with what to do', () => {
    const order = [
      '## Failures',
      '## Warnings',
      '## Health: degraded',
      '## Backups',
      '## Snapshots',
      '## Cleanup',
    ].map((h) => markdown.indexOf(h));

    expect(order.every((index) => index > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(markdown).toContain('  - What to do: Renew the certificate before it expires.');
  });

  it('shows backup figures in human units with verification results', () => {
    expect(markdown).toContain(
      '| uploads | succeeded | 20261121T010012Z-4f2a9c1e | incremental | 48213 | 68.0 GiB | 312 objects, 460.0 MiB | 4 min 21 s | yes (subset 3/7), 6890 objects read |',
    );
    expect(markdown).toContain(
      '| invoices | succeeded | 20261121T010012Z-9b01d2aa | full | 1200 | 2.0 GiB |',
    );
    expect(markdown).toContain('FAILED (subset all), 731 objects read');
  });

  it('explains each cleanup decision', () => {
    expect(markdown).toContain('- `caretaker-orders-77e0c3d1-snapshot`: not kept by any rule');
    expect(markdown).toContain(
      '`caretaker-orders-3c9e1f7a-snapshot` (last 1 of 3; daily bucket 2026-11-21 (1 of 7); newest verified)',
    );
  });

  it('matches the reviewed rendering (the one golden file; regenerate with UPDATE_GOLDEN=1)', () => {
    if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, markdown);

    expect(markdown).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it("says what the run means for its flow's incident and what was rolled back", () => {
    const incident = {
      openedBy: 'arn:aws:states:eu-central-1:111122223333:execution:Caretaker-prod-RoutineMaintenance:n1',
      openedAt: '2026-11-20T01:00:00.000Z',
      failedRuns: 2,
      lastFailedBy: record.executionArn!,
      lastFailedAt: record.startedAt,
    };
    const rolledBack = { ...record, rolledBack: ['orders-prod: instance class back to db.r6g.large'] };

    const text = renderMarkdown(rolledBack, findings(rolledBack), 'prod', record.finishedAt!, {
      decision: 'ongoing',
      incident,
    });

    expect(text).toContain(
      `## Incident\n\nThe incident opened by \`${incident.openedBy}\` (started 2026-11-20T01:00:00.000Z) is still open: 2 failed runs in a row.`,
    );
    expect(text).toContain('## Rolled back\n\n- orders-prod: instance class back to db.r6g.large');
  });
});
