/**
 * The config sections of the maintenance beyond backups: window, log analysis checks, capacity,
 * database maintenance (with its cross-field rules) and escalation, checked as synth checks them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../../lib/config/load.ts';

const example = JSON.parse(readFileSync('config/example.json', 'utf8')) as Record<string, any>;
const SECRET = 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:orders-maintenance';

function variant(mutate: (config: Record<string, any>) => void): Record<string, unknown> {
  const copy = structuredClone(example);
  mutate(copy);
  return copy;
}

function problemsOf(document: unknown): string[] {
  try {
    parseConfig(document);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('maintenance config', () => {
  it('accepts a window, a log check, capacity thresholds, a maintained database and escalation levels', () => {
    const config = parseConfig(
      variant((c) => {
        c.maintenanceWindow = { start: '01:30', durationMinutes: 240, days: ['SUN'] };
        c.healthChecks.logs = [{ name: 'api-logs', logGroups: ['/aws/lambda/orders-api'] }];
        c.healthChecks.queries = [
          {
            name: 'orders-rows',
            rdsTarget: 'orders',
            database: 'orders',
            user: 'reader',
            passwordSecretArn: SECRET,
            query: 'SELECT 1',
          },
        ];
        c.databaseMaintenance = [{ rdsTarget: 'orders', queryCheck: 'orders-rows', vacuum: true }];
        c.capacity = { warnDays: 60, criticalDays: 14 };
        c.alerts.escalation = {
          levels: [
            { respondWithinMinutes: 15, subscriptions: [{ protocol: 'sms', endpoint: '+4915112345678' }] },
            {
              respondWithinMinutes: 30,
              subscriptions: [{ protocol: 'email', endpoint: 'lead@example.com' }],
            },
          ],
        };
      }),
    );

    expect(config.maintenanceWindow).toMatchObject({ start: '01:30', expectedMinutes: {} });
    expect(config.healthChecks.logs[0]).toMatchObject({
      errorPattern: 'ERROR|FATAL|Exception',
      errorRateThresholdPercent: 5,
      windowMinutes: 15,
    });
    expect(config.capacity).toMatchObject({ lookbackDays: 14, warnDays: 60, criticalDays: 14 });
    expect(config.databaseMaintenance[0]).toMatchObject({
      analyze: true,
      vacuum: true,
      longQuerySeconds: 300,
    });
    expect(config.alerts.escalation?.checkEveryMinutes).toBe(5);
  });

  it('names every problem of a maintained database: unknown target, unknown check, missing connection', () => {
    expect(
      problemsOf(
        variant((c) => {
          c.databaseMaintenance = [{ rdsTarget: 'ledger', queryCheck: 'nope' }, { rdsTarget: 'orders' }];
        }),
      ),
    ).toEqual([
      'databaseMaintenance[0].rdsTarget: unknown RDS target "ledger" (defined: orders)',
      'databaseMaintenance[0].queryCheck: unknown query check "nope" (healthChecks.queries: none)',
      'databaseMaintenance[1].database: required without queryCheck (how to connect)',
      'databaseMaintenance[1].user: required without queryCheck (how to connect)',
      'databaseMaintenance[1].passwordSecretArn: required without queryCheck (how to connect)',
    ]);
  });

  it('refuses a log pattern with inline flags, thresholds in the wrong order and a window without its length', () => {
    expect(
      problemsOf(
        variant((c) => {
          c.healthChecks.logs = [
            { name: 'api-logs', logGroups: ['/aws/lambda/api'], errorPattern: '(?i)error' },
          ];
          c.capacity = { warnDays: 7, criticalDays: 7 };
          c.maintenanceWindow = { start: '02:00' };
        }),
      ),
    ).toEqual([
      'healthChecks.logs[0].errorPattern: expected no inline flags or lookbehind (use caseSensitive: false)',
      'maintenanceWindow.durationMinutes: expected number, received nothing (the field is missing)',
      'capacity.criticalDays: expected criticalDays below warnDays',
    ]);
  });

  it('refuses an escalation subscriber whose endpoint does not fit its protocol', () => {
    expect(
      problemsOf(
        variant((c) => {
          c.alerts.escalation = {
            levels: [{ respondWithinMinutes: 15, subscriptions: [{ protocol: 'sms', endpoint: 'call me' }] }],
          };
        }),
      ),
    ).toEqual([
      'alerts.escalation.levels[0].subscriptions[0].endpoint: expected a phone number in E.164 form (+4915112345678) for protocol sms',
    ]);
  });
});
