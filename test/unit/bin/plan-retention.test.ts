/**
 * `caretaker plan-retention` end to end: the real CLI entry point (`node bin/caretaker.js`) run
 * as a child process on fixture files.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { planRetention } from '../../../functions/common/retention/retention.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/retention');
const POINTS = join(FIXTURES, 'points.json');
const POLICY = join(FIXTURES, 'policy.json');
const NOW = '2026-03-29T10:00:00Z';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function caretaker(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/caretaker.js', 'plan-retention', ...args],
      { cwd: ROOT, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'plan-retention-'));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

// Each test spawns its own CLI process: they run side by side.
describe.concurrent('caretaker plan-retention', () => {
  it('prints a table with every point, its decision and reasons, and a summary', async ({ expect }) => {
    // Act
    const run = await caretaker('--points', POINTS, '--policy', POLICY, '--now', NOW);

    // Assess
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+CREATED AT\s+ACTION\s+REASONS$/);
    expect(lines[1]).toMatch(
      /^snap-2026-03-29-night\s+2026-03-29T00:30:00Z\s+KEEP\s+daily bucket 2026-03-29 \(1 of 3\); weekly bucket 2026-W13 \(1 of 2\); monthly bucket 2026-03 \(1 of 2\); younger than minAge PT12H$/,
    );
    expect(lines[3]).toMatch(
      /^snap-2026-03-28-morning\s+2026-03-28T06:00:00Z\s+DELETE\s+not kept by any rule$/,
    );
    expect(lines[9]).toMatch(/^hand-made-2026-03-20\s+2026-03-20T09:00:00Z\s+KEEP\s+unmanaged$/);
    expect(lines.at(-1)).toBe('6 kept, 3 deleted');
  });

  it('prints the same decisions as the planner as a JSON array with --json', async ({ expect }) => {
    // Prepare
    const points = (await import(POINTS, { with: { type: 'json' } })).default;
    const policy = (await import(POLICY, { with: { type: 'json' } })).default;

    // Act
    const run = await caretaker('--points', POINTS, '--policy', POLICY, '--now', NOW, '--json');

    // Assess
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(planRetention(points, policy, { now: new Date(NOW) }));
  });

  it('plans as of the current time without --now', async ({ expect }) => {
    // Prepare: one point an hour ago, one a year ago; minAge P1D protects only the recent one.
    const file = join(scratch, 'recent.json');
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    const yearAgo = new Date(Date.now() - 365 * 86_400_000).toISOString();
    await writeFile(
      file,
      JSON.stringify([
        { id: 'recent', createdAt: hourAgo, managed: true, verified: false },
        { id: 'old', createdAt: yearAgo, managed: true, verified: false },
      ]),
    );
    const policy = join(scratch, 'within.json');
    await writeFile(policy, JSON.stringify({ keepWithin: 'PT1S', minAge: 'P1D', minKeep: 0 }));

    // Act
    const run = await caretaker('--points', file, '--policy', policy, '--json');

    // Assess
    expect(JSON.parse(run.stdout)).toEqual([
      { id: 'recent', action: 'keep', reasons: ['within PT1S of newest', 'younger than minAge P1D'] },
      { id: 'old', action: 'delete', reasons: ['not kept by any rule'] },
    ]);
  });

  it('names every bad point field and exits 2 with nothing on stdout', async ({ expect }) => {
    // Act
    const run = await caretaker('--points', join(FIXTURES, 'bad-points.json'), '--policy', POLICY);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('points[2].managed: expected boolean, received string');
    expect(run.stderr).toContain('points[3].createdAt: expected an ISO 8601 time');
    expect(run.stderr).toContain('points[4].createdAt: expected an ISO 8601 time');
    expect(run.stderr).toContain('points[4].id: duplicate id "a" (also points[0])');
  });

  it('names every bad policy field and exits 2', async ({ expect }) => {
    // Act
    const run = await caretaker('--points', POINTS, '--policy', join(FIXTURES, 'bad-policy.json'));

    // Assess
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain('policy.keepDaily: expected 0 (off), -1 (unlimited) or a positive count');
    expect(run.stderr).toContain('policy.keepWithin: expected an ISO 8601 duration');
    expect(run.stderr).toContain('policy.timeZone: expected an IANA time zone name');
  });

  it('refuses a policy with no keep option', async ({ expect }) => {
    // Act
    const run = await caretaker('--points', POINTS, '--policy', join(FIXTURES, 'empty-policy.json'));

    // Assess
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain('policy: a retention policy needs at least one keep option');
  });

  it('reports a file that is not valid JSON', async ({ expect }) => {
    // Prepare
    const file = join(scratch, 'not-json.json');
    await writeFile(file, '[{"id": "a", ');

    // Act
    const run = await caretaker('--points', file, '--policy', POLICY);

    // Assess
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(/--points .*not-json\.json: not valid JSON/);
  });

  it('reports a missing file', async ({ expect }) => {
    // Act
    const run = await caretaker('--points', join(scratch, 'absent.json'), '--policy', POLICY);

    // Assess
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(/--points .*absent\.json: cannot read the file \(no such file\)/);
  });

  it('refuses points that are not an array', async ({ expect }) => {
    // Prepare
    const file = join(scratch, 'object.json');
    await writeFile(file, JSON.stringify({ points: [] }));

    // Act
    const run = await caretaker('--points', file, '--policy', POLICY);

    // Assess
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain('points: expected array, received object');
  });

  it('refuses an unparseable --now', async ({ expect }) => {
    // Act
    const run = await caretaker('--points', POINTS, '--policy', POLICY, '--now', 'yesterday');

    // Assess
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain('--now: expected an ISO 8601 time');
  });

  it('shows its usage and exits 2 when --policy is missing', async ({ expect }) => {
    // Act
    const run = await caretaker('--points', POINTS);

    // Assess
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toContain('missing --policy <file.json>');
    expect(run.stderr).toContain('Usage: caretaker plan-retention');
  });

  it('shows its usage on stdout and exits 0 with --help', async ({ expect }) => {
    // Act
    const run = await caretaker('--help');

    // Assess
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('Usage: caretaker plan-retention --points <file.json> --policy <file.json>');
  });
});
