/**
 * Every condition operator against one request value, each with cases that hold and cases that
 * do not. Operator semantics: IAM User Guide, "IAM JSON policy elements: Condition operators".
 */
import { describe, expect, it } from 'vitest';
import type { ContextScalar } from '../../../sandbox/iam/index.ts';
import { conditionHolds } from './support.ts';

type Row = [
  operator: string,
  policyValue: string | number | boolean,
  requestValue: ContextScalar,
  holds: boolean,
];

function check([operator, policyValue, requestValue, holds]: Row): void {
  expect(conditionHolds({ [operator]: { 'test:key': policyValue } }, { 'test:key': requestValue })).toBe(
    holds,
  );
}

describe('string operators', () => {
  it.each<Row>([
    ['StringEquals', 'backups', 'backups', true],
    ['StringEquals', 'backups', 'Backups', false],
    ['StringEquals', 'back*', 'backups', false],
    ['StringEquals', 'back*', 'back*', true],
    ['StringNotEquals', 'backups', 'uploads', true],
    ['StringNotEquals', 'backups', 'backups', false],
    ['StringEqualsIgnoreCase', 'BACKUPS', 'backups', true],
    ['StringEqualsIgnoreCase', 'backups', 'uploads', false],
    ['StringNotEqualsIgnoreCase', 'BACKUPS', 'backups', false],
    ['StringNotEqualsIgnoreCase', 'backups', 'uploads', true],
    ['StringLike', 'backups/*', 'backups/2026/part-1', true],
    ['StringLike', 'backups/*', 'uploads/2026', false],
    ['StringLike', 'part-?', 'part-7', true],
    ['StringLike', 'part-?', 'part-17', false],
    ['StringLike', 'part-?', 'part-', false],
    ['StringLike', 'Backups/*', 'backups/x', false],
    ['StringLike', '*', '', true],
    ['StringLike', '', '', true],
    ['StringLike', 'a*b*c', 'a-b-b-c', true],
    ['StringLike', 'a.c', 'abc', false],
    ['StringNotLike', 'tmp/*', 'backups/x', true],
    ['StringNotLike', 'tmp/*', 'tmp/x', false],
  ])('%s %j against %j holds: %j', (...row) => check(row));
});

describe('numeric operators', () => {
  it.each<Row>([
    ['NumericEquals', '10', '10', true],
    ['NumericEquals', '10', '10.0', true],
    ['NumericEquals', 10, '11', false],
    ['NumericNotEquals', '10', '11', true],
    ['NumericNotEquals', '10', 10, false],
    ['NumericLessThan', 1.2, '1.1', true],
    ['NumericLessThan', 1.2, '1.2', false],
    ['NumericLessThanEquals', '10', 10, true],
    ['NumericLessThanEquals', '10', 11, false],
    ['NumericGreaterThan', '10', 11, true],
    ['NumericGreaterThan', '10', 10, false],
    ['NumericGreaterThanEquals', '10', 10, true],
    ['NumericGreaterThanEquals', '10', 9, false],
    ['NumericLessThan', '10', 'many', false],
  ])('%s %j against %j holds: %j', (...row) => check(row));
});

describe('date operators', () => {
  it.each<Row>([
    ['DateEquals', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', true],
    ['DateEquals', '2026-01-01T00:00:00Z', '1767225600', true],
    ['DateEquals', '1767225600', new Date('2026-01-01T00:00:00Z'), true],
    ['DateEquals', '2026-01-01T01:00:00+01:00', '2026-01-01T00:00:00Z', true],
    ['DateEquals', '2026-01-01', '2026-01-01T00:00:00Z', true],
    ['DateEquals', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', false],
    ['DateNotEquals', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', true],
    ['DateNotEquals', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', false],
    ['DateLessThan', '2026-06-01T00:00:00Z', '2026-05-31T23:59:59Z', true],
    ['DateLessThan', '2026-06-01T00:00:00Z', '2026-06-01T00:00:00Z', false],
    ['DateLessThanEquals', '2026-06-01T00:00:00Z', '2026-06-01T00:00:00Z', true],
    ['DateLessThanEquals', '2026-06-01T00:00:00Z', '2026-06-01T00:00:01Z', false],
    ['DateGreaterThan', '2020-01-01T00:00:01Z', '2026-01-01T00:00:00Z', true],
    ['DateGreaterThan', '2020-01-01T00:00:01Z', '2020-01-01T00:00:01Z', false],
    ['DateGreaterThanEquals', '2020-01-01T00:00:01Z', '2020-01-01T00:00:01Z', true],
    ['DateGreaterThanEquals', '2020-01-01T00:00:01Z', '2020-01-01T00:00:00Z', false],
    ['DateLessThan', '2026-06-01T00:00:00Z', 'yesterday', false],
  ])('%s %j against %j holds: %j', (...row) => check(row));

  it('reads a time without a zone as UTC, not as the machine local time', () => {
    expect(
      conditionHolds(
        { DateEquals: { 'aws:CurrentTime': '2026-01-01T00:00:00' } },
        { 'aws:CurrentTime': '1767225600' },
      ),
    ).toBe(true);
  });
});

describe('Bool', () => {
  it.each<Row>([
    ['Bool', 'true', true, true],
    ['Bool', true, 'true', true],
    ['Bool', 'false', true, false],
    ['Bool', 'false', 'false', true],
    ['Bool', 'True', 'true', true],
  ])('%s %j against %j holds: %j', (...row) => check(row));
});

describe('BinaryEquals', () => {
  const value = 'QmluYXJ5VmFsdWVJbkJhc2U2NA==';

  it.each<Row>([
    ['BinaryEquals', value, value, true],
    ['BinaryEquals', value, Buffer.from('BinaryValueInBase64'), true],
    ['BinaryEquals', value, Buffer.from('BinaryValueInBase65'), false],
    ['BinaryEquals', value, 'not base64!', false],
  ])('%s %j against %j holds: %j', (...row) => check(row));
});

describe('IP address operators', () => {
  it.each<Row>([
    ['IpAddress', '203.0.113.0/24', '203.0.113.7', true],
    ['IpAddress', '203.0.113.0/24', '203.0.114.1', false],
    ['IpAddress', '203.0.113.7', '203.0.113.7', true],
    ['IpAddress', '203.0.113.7', '203.0.113.8', false],
    ['IpAddress', '0.0.0.0/0', '198.51.100.1', true],
    ['IpAddress', '2001:DB8:1234:5678::/64', '2001:db8:1234:5678::1', true],
    ['IpAddress', '2001:DB8:1234:5678::/64', '2001:db8:1234:5679::1', false],
    ['IpAddress', '2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001', true],
    ['IpAddress', '::ffff:203.0.113.0/120', '::ffff:203.0.113.9', true],
    ['IpAddress', '203.0.113.0/24', '::ffff:203.0.113.7', false],
    ['IpAddress', '203.0.113.0/24', 'vpce-1a2b3c4d', false],
    ['NotIpAddress', '203.0.113.0/24', '198.51.100.1', true],
    ['NotIpAddress', '203.0.113.0/24', '203.0.113.200', false],
  ])('%s %j against %j holds: %j', (...row) => check(row));
});

describe('ARN operators', () => {
  const topic = 'arn:aws:sns:us-east-1:111122223333:alerts';

  it.each<Row>([
    ['ArnEquals', topic, topic, true],
    ['ArnEquals', 'arn:aws:sns:*:111122223333:alerts', topic, true],
    ['ArnLike', 'arn:aws:sns:*:111122223333:alert?', topic, true],
    ['ArnLike', 'arn:aws:sns:*:111122223333:*', topic, true],
    ['ArnLike', 'arn:aws:sns:*:444455556666:*', topic, false],
    ['ArnLike', 'arn:aws:SNS:*:111122223333:*', topic, false],
    ['ArnLike', 'arn:aws:sns:*:111122223333:*', 'alerts', false],
    ['ArnNotEquals', topic, 'arn:aws:sns:us-east-1:111122223333:other', true],
    ['ArnNotEquals', topic, topic, false],
    ['ArnNotLike', 'arn:aws:sns:*:*:alerts', topic, false],
    ['ArnNotLike', 'arn:aws:sns:*:*:other*', topic, true],
  ])('%s %j against %j holds: %j', (...row) => check(row));

  it('lets a wildcard in the resource part cover further colons', () => {
    const logGroup = 'arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/backup:*';

    expect(
      conditionHolds(
        { ArnLike: { 'aws:SourceArn': 'arn:aws:logs:us-east-1:111122223333:log-group:*' } },
        { 'aws:SourceArn': logGroup },
      ),
    ).toBe(true);
  });
});

describe('condition keys', () => {
  it('finds a key whatever the case of its name in the policy or the request', () => {
    expect(conditionHolds({ Bool: { 'AWS:securetransport': 'true' } }, { 'aws:SecureTransport': true })).toBe(
      true,
    );
  });

  it('refuses a context with two keys that differ only in case', () => {
    expect(() =>
      conditionHolds(
        { Bool: { 'aws:SecureTransport': 'true' } },
        { 'aws:SecureTransport': true, 'aws:securetransport': false },
      ),
    ).toThrow(/same key/);
  });

  it('takes the keys of a tag-shaped key with the tag name in it', () => {
    const condition = { StringEquals: { 'rds:db-tag/caretaker:managed': 'true' } };

    expect(conditionHolds(condition, { 'rds:db-tag/caretaker:managed': 'true' })).toBe(true);
    expect(conditionHolds(condition, { 'rds:db-tag/caretaker:other': 'true' })).toBe(false);
  });
});
