/**
 * Cross-field rules of the maintenance beyond backups (DESIGN §11): each database to maintain
 * names a configured RDS target, and a connection (a query check's, or its own fields).
 */
import type { ConfigIssue } from './config-issue.ts';

interface MaintenanceConfig {
  readonly rdsTargets: readonly { readonly name: string }[];
  readonly healthChecks: {
    readonly queries: readonly { readonly name: string; readonly rdsTarget: string }[];
  };
  readonly databaseMaintenance: readonly {
    readonly rdsTarget: string;
    readonly queryCheck?: string | undefined;
    readonly database?: string | undefined;
    readonly user?: string | undefined;
    readonly passwordSecretArn?: string | undefined;
  }[];
}

/** Every problem of `databaseMaintenance`, each at its field. */
export function maintenanceProblems(config: MaintenanceConfig): ConfigIssue[] {
  const problems: ConfigIssue[] = [];
  const targets = config.rdsTargets.map((target) => target.name);
  const seen = new Map<string, number>();
  config.databaseMaintenance.forEach((entry, i) => {
    const at = (field: string) => ['databaseMaintenance', i, field];
    if (!targets.includes(entry.rdsTarget)) {
      problems.push({
        path: at('rdsTarget'),
        message: `unknown RDS target "${entry.rdsTarget}" (defined: ${targets.join(', ') || 'none'})`,
      });
    }
    const first = seen.get(entry.rdsTarget);
    if (first !== undefined) {
      problems.push({
        path: at('rdsTarget'),
        message: `RDS target "${entry.rdsTarget}" is maintained twice (also databaseMaintenance[${first}])`,
      });
    } else seen.set(entry.rdsTarget, i);

    const check = entry.queryCheck
      ? config.healthChecks.queries.find((query) => query.name === entry.queryCheck)
      : undefined;
    if (entry.queryCheck && !check) {
      problems.push({
        path: at('queryCheck'),
        message: `unknown query check "${entry.queryCheck}" (healthChecks.queries: ${config.healthChecks.queries.map((q) => q.name).join(', ') || 'none'})`,
      });
    } else if (check && check.rdsTarget !== entry.rdsTarget) {
      problems.push({
        path: at('queryCheck'),
        message: `query check "${check.name}" connects to RDS target "${check.rdsTarget}", not "${entry.rdsTarget}"`,
      });
    }
    if (!entry.queryCheck) {
      for (const field of ['database', 'user', 'passwordSecretArn'] as const) {
        if (entry[field] === undefined) {
          problems.push({ path: at(field), message: 'required without queryCheck (how to connect)' });
        }
      }
    }
  });
  return problems;
}
