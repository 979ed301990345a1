/**
 * Conventions every `caretaker` command keeps, checked over the commands `caretaker help` lists
 * (so a new command is held to them without editing this file): a usage error goes to stderr with
 * exit 2 and nothing on stdout; `--help` goes to stdout with exit 0; a command that reports says
 * how to get it as JSON. No command here reaches AWS: each stops at its arguments.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');

async function caretaker(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/caretaker.js', ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** The command names `caretaker help` lists. */
async function commands(): Promise<string[]> {
  const help = await caretaker(['help']);
  const listed = help.stdout.split('Commands:\n')[1] ?? '';
  return [...listed.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((match) => match[1]!);
}

/** Commands whose output is a report of state or of a plan, and so must offer --json. */
const REPORTING = ['plan-retention', 'run', 'status'];

describe('the caretaker CLI', () => {
  it('lists every command module under bin/commands in its help', async () => {
    const listed = await commands();
    const source = readFileSync(resolve(ROOT, 'bin/caretaker.ts'), 'utf8');
    const modules = [...source.matchAll(/import\('\.\/commands\/([a-z-]+)\.ts'\)/g)].map((match) => match[1]);

    expect(listed.sort()).toEqual(modules.sort());
    expect(listed).toEqual(expect.arrayContaining([...REPORTING, 'diagram', 'sandbox']));
  });

  it('refuses an unknown option of every command with exit 2, on stderr only', async () => {
    for (const name of await commands()) {
      const args = name === 'sandbox' ? ['sandbox', 'up', '--no-such-option'] : [name, '--no-such-option'];
      const result = await caretaker(args);

      expect({ name, code: result.code, stdout: result.stdout }).toEqual({ name, code: 2, stdout: '' });
      expect(result.stderr, name).toContain(`caretaker ${name}: `);
      expect(result.stderr, name).toContain('--no-such-option');
    }
  }, 60_000);

  it('prints each command help on stdout with exit 0, and --json in the help of every reporting command', async () => {
    for (const name of await commands()) {
      const args = name === 'sandbox' ? ['sandbox', 'up', '--help'] : [name, '--help'];
      const result = await caretaker(args);

      expect({ name, code: result.code, stderr: result.stderr }).toEqual({ name, code: 0, stderr: '' });
      expect(result.stdout, name).toMatch(/^Usage: caretaker /);
      if (REPORTING.includes(name)) expect(result.stdout, name).toMatch(/^ {2}--json /m);
    }
  }, 60_000);

  it('answers no command and an unknown command with the usage on stderr and exit 2', async () => {
    const none = await caretaker([]);
    const unknown = await caretaker(['stauts']);

    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toMatch(/^Usage: caretaker <command>/);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toContain('unknown command "stauts"');
  });

  it('prints its version from package.json', async () => {
    const manifest = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string };

    expect(await caretaker(['--version'])).toEqual({
      code: 0,
      stdout: `caretaker ${manifest.version}\n`,
      stderr: '',
    });
  });
});
