/** Scheduler's rate and one-time expressions, and which of the three an expression is. */
import { describe, expect, it } from 'vitest';
import { scheduleExpressionProblem } from '../../../../lib/config/schedule-expression.ts';

describe('rate expressions', () => {
  it.each([
    'rate(1 minute)',
    'rate(5 minutes)',
    'rate(1 hour)',
    'rate(12 hours)',
    'rate(1 day)',
    'rate(7 days)',
  ])('accepts %s', (expression) => {
    expect(scheduleExpressionProblem(expression)).toBeUndefined();
  });

  it('refuses a plural unit for 1', () => {
    expect(scheduleExpressionProblem('rate(1 hours)')).toBe('use "1 hour"');
  });

  it('refuses a singular unit above 1', () => {
    expect(scheduleExpressionProblem('rate(5 minute)')).toBe('use "5 minutes"');
  });

  it('refuses a rate of 0', () => {
    expect(scheduleExpressionProblem('rate(0 minutes)')).toBe('a rate must be at least 1');
  });

  it('refuses a unit Scheduler does not have', () => {
    expect(scheduleExpressionProblem('rate(30 seconds)')).toMatch(/^a rate expression is rate\(/);
  });

  it('refuses a fractional value', () => {
    expect(scheduleExpressionProblem('rate(1.5 hours)')).toMatch(/^a rate expression is rate\(/);
  });
});

describe('one-time expressions', () => {
  it('accepts a date and time', () => {
    expect(scheduleExpressionProblem('at(2030-02-28T23:59:59)')).toBeUndefined();
  });

  it('accepts 29 February in a leap year', () => {
    expect(scheduleExpressionProblem('at(2028-02-29T05:00:00)')).toBeUndefined();
  });

  it('refuses 29 February in a common year', () => {
    expect(scheduleExpressionProblem('at(2027-02-29T05:00:00)')).toBe('at(): 2027-02 has no day 29');
  });

  it('refuses month 13', () => {
    expect(scheduleExpressionProblem('at(2027-13-01T00:00:00)')).toBe('at(): month 13 is not 01-12');
  });

  it('refuses 24:00:00', () => {
    expect(scheduleExpressionProblem('at(2027-01-01T24:00:00)')).toBe('at(): 24:00:00 is not a time of day');
  });

  it('refuses a space instead of T', () => {
    expect(scheduleExpressionProblem('at(2027-01-01 00:00:00)')).toBe(
      'a one-time expression is at(yyyy-mm-ddThh:mm:ss)',
    );
  });

  it('refuses a time zone offset (the zone is the schedule’s)', () => {
    expect(scheduleExpressionProblem('at(2027-01-01T00:00:00Z)')).toBe(
      'a one-time expression is at(yyyy-mm-ddThh:mm:ss)',
    );
  });
});

describe('expression kinds', () => {
  it('refuses anything that is not rate, cron or at', () => {
    expect(scheduleExpressionProblem('every day')).toBe(
      'expected rate(<n> <unit>), cron(<6 fields>) or at(<yyyy-mm-ddThh:mm:ss>)',
    );
  });

  it('passes a cron body to the cron grammar', () => {
    expect(scheduleExpressionProblem('cron(0 3 * * SUN *)')).toBe(
      'exactly one of day-of-month and day-of-week must be "?"',
    );
  });
});
