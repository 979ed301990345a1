import { describe, expect, it } from 'vitest';
import { parseDrillArgs } from '../../../bin/commands/drill.ts';

describe('caretaker sandbox drill arguments', () => {
  it('takes flows by name in any case, an injection, JSON and sizes', () => {
    expect(
      parseDrillArgs([
        '--flows',
        'update,disasterrecovery',
        '--inject',
        'rds-restore:permanent',
        '--json',
        '--rows',
        '500',
        '--objects',
        '20',
      ]),
    ).toEqual({
      flows: ['Update', 'DisasterRecovery'],
      inject: { function: 'rds-restore', mode: 'permanent' },
      json: true,
      rows: 500,
      objects: 20,
    });
  });

  it('defaults to every flow, text, the committed drill config', () => {
    expect(parseDrillArgs([])).toEqual({ json: false });
  });

  it.each([
    [
      ['--flows', 'Backup'],
      /--flows: "Backup" is not one of RoutineMaintenance, Cleanup, Update, DisasterRecovery/,
    ],
    [['--inject', 'rds-restore'], /--inject takes FUNCTION:transient or FUNCTION:permanent/],
    [['--inject', 'rds-restore:sometimes'], /--inject takes FUNCTION:transient/],
    [['--rows=-1'], /--rows must be a whole number/],
    [['--objects', '0'], /--objects must be a whole number from 1/],
    [
      ['-c', 'config=a.json', '--template', 'cdk.out'],
      /either -c config=FILE .* or --template DIR, not both/,
    ],
    [['-c', 'a.json'], /-c takes config=FILE/],
    [['--colour'], /Unknown option '--colour'/],
  ])('refuses %j naming the option', (args, message) => {
    expect(() => parseDrillArgs(args)).toThrow(message);
  });
});
