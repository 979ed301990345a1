/**
 * db-maintenance: one database's maintenance in routine maintenance (DESIGN §11): ANALYZE (or
 * VACUUM (ANALYZE) where configured), and what its statistics say — table bloat (dead rows), the
 * largest tables, invalid indexes and long-running queries. Connects as the configured query check
 * does (or with its own user and secret), to the endpoint RDS gives the target. A database it
 * cannot reach or maintain fails with a named error; the flow reports it and goes on.
 */
import * as z from 'zod';
import { ENV } from '#common/contract';
import { resolvedDatabaseMaintenance } from '#common/maintenance/maintenance-config';
import type { DatabaseMaintenanceEntry } from '#common/maintenance/maintenance-results';
import { rds } from '#common/runtime/clients';
import { MissingEnvironmentError, optionalEnv } from '#common/runtime/env';
import { PreconditionFailedError } from '#common/runtime/errors';
import { jsonEnv } from '#common/runtime/json-env';
import { caretakerHandler } from '#common/runtime/middleware';
import { logger } from '#common/runtime/observability';
import type { DatabaseTls } from '../health-check/probes/query.ts';
import { describeDatabase } from '../health-check/probes/rds.ts';
import { cachedPasswords, type PasswordProvider, readSecretString } from '../health-check/secrets.ts';
import { maintainDatabase } from './maintain.ts';

const TARGETS = jsonEnv(ENV.databaseMaintenance, z.array(resolvedDatabaseMaintenance), '[]');

const TLS_MODES: Readonly<Record<string, DatabaseTls>> = {
  'verify-full': { rejectUnauthorized: true },
  require: { rejectUnauthorized: false },
  disable: false,
};
const TLS = TLS_MODES[optionalEnv(ENV.databaseTls, 'verify-full')];
if (TLS === undefined) {
  throw new MissingEnvironmentError(
    `Environment variable ${ENV.databaseTls} must be verify-full, require or disable`,
  );
}
const PASSWORDS: PasswordProvider = cachedPasswords(readSecretString);

const eventSchema = z
  .object({
    target: z.string().refine((name) => TARGETS.some((t) => t.rdsTarget === name), {
      message: `expected an RDS target of databaseMaintenance (${TARGETS.map((t) => t.rdsTarget).join(', ') || 'none configured'})`,
    }),
    executionId: z.string().min(1).max(256).optional(),
  })
  .strict();

/** Maintains the database of `target`. */
export async function maintain(
  event: z.output<typeof eventSchema>,
  deps = { rds: rds(), password: PASSWORDS, tls: TLS as DatabaseTls },
): Promise<DatabaseMaintenanceEntry> {
  const target = TARGETS.find((t) => t.rdsTarget === event.target)!;
  const db = await describeDatabase(deps.rds, target);
  if (!db.endpoint) {
    throw new PreconditionFailedError(
      `${target.type} ${target.identifier} has no endpoint (status ${db.status})`,
      {
        target: target.rdsTarget,
      },
    );
  }
  const password = await deps.password(target.passwordSecretArn);
  const entry = await maintainDatabase(target, { ...db.endpoint, password, tls: deps.tls });
  logger.info('Database maintained', {
    target: target.rdsTarget,
    maintenanceMs: entry.maintenanceMs,
    bloatedTables: entry.bloatedTables?.length,
    longQueries: entry.longQueries?.length,
  });
  return entry;
}

export const handler = caretakerHandler('db-maintenance', eventSchema, (event) => maintain(event));
