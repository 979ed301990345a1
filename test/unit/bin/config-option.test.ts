import { describe, expect, it } from 'vitest';
import { configPathOf } from '../../../bin/commands/config-option.ts';

const usage = (message: string) => new Error(message);

describe('the config option every command takes', () => {
  it('takes --config FILE and cdk’s -c config=FILE alike', () => {
    expect(configPathOf({ config: 'config/prod.json' }, usage)).toBe('config/prod.json');
    expect(configPathOf({ c: ['config=config/prod.json'] }, usage)).toBe('config/prod.json');
    expect(configPathOf({ config: 'a.json', c: ['config=a.json'] }, usage)).toBe('a.json');
    expect(configPathOf({}, usage)).toBeUndefined();
  });

  it('refuses a -c that is not config=FILE, and two different configs, naming them', () => {
    expect(() => configPathOf({ c: ['env=prod'] }, usage)).toThrow(
      '-c takes config=FILE, as cdk does (got "env=prod")',
    );
    expect(() => configPathOf({ config: 'a.json', c: ['config=b.json'] }, usage)).toThrow(
      'two configs given (a.json, b.json): give one',
    );
  });
});
