import { describe, expect, it } from 'vitest';
import {
  caretakerTags,
  isFromExecution,
  MAX_TAGS,
  tagValue,
  userTags,
  withinTagLimit,
} from '../../../../functions/common/caretaker-tags.ts';

describe('caretakerTags', () => {
  it('has the five contract tags', () => {
    expect(caretakerTags({ stack: 'prod', executionId: 'run-1', kind: 'drill', target: 'orders' })).toEqual({
      'caretaker:managed': 'true',
      'caretaker:stack': 'prod',
      'caretaker:execution': 'run-1',
      'caretaker:kind': 'drill',
      'caretaker:target': 'orders',
    });
  });

  it('recognises its execution even when the id had characters tags do not allow', () => {
    const tags = caretakerTags({
      stack: 'prod',
      executionId: 'run#1 (retry)',
      kind: 'snapshot',
      target: 't',
    });

    expect(tags['caretaker:execution']).toBe('run_1 _retry_');
    expect(isFromExecution(tags, 'run#1 (retry)')).toBe(true);
    expect(isFromExecution(tags, 'run#2 (retry)')).toBe(false);
  });
});

describe('tag values', () => {
  it('keeps allowed characters and cuts to 256', () => {
    expect(tagValue('arn:aws:states:eu-west-1:1:execution:m/x=1+y@z')).toBe(
      'arn:aws:states:eu-west-1:1:execution:m/x=1+y@z',
    );
    expect(tagValue('x'.repeat(300))).toHaveLength(256);
  });
});

describe('userTags and withinTagLimit', () => {
  it('drops Caretaker and reserved keys from a source', () => {
    expect(userTags({ app: 'orders', 'caretaker:kind': 'x', 'aws:cloudformation:stack-name': 's' })).toEqual({
      app: 'orders',
    });
  });

  it('always keeps Caretaker tags and drops the user tags that do not fit 50', () => {
    const caretaker = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`caretaker:k${i}`, 'v']));
    const user = Object.fromEntries(
      Array.from({ length: 45 }, (_, i) => [`u${String(i).padStart(2, '0')}`, 'v']),
    );

    const { tags, dropped } = withinTagLimit(caretaker, user);

    expect(Object.keys(tags)).toHaveLength(MAX_TAGS);
    expect(Object.keys(caretaker).every((key) => key in tags)).toBe(true);
    expect(dropped).toEqual(['u38', 'u39', 'u40', 'u41', 'u42', 'u43', 'u44']);
  });
});
