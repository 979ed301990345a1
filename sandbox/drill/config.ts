/**
 * The drill's config: the committed config/drill.json (or the one given), its loopback health
 * endpoint pointed at the port the drill serves it on, and the names the drill seeds and checks,
 * read from the config rather than repeated.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../lib/config/load.ts';
import type { CaretakerConfig } from '../../lib/config/schema.ts';
import type { ScenarioNames } from './scenarios.ts';
import type { DrillNames } from './seed.ts';

/** The instance classes the drill's updates move to: one the application runs on, one it breaks on. */
export const INITIAL_CLASS = 'db.t4g.micro';
const GOOD_CLASS = 'db.t4g.small';
const BAD_CLASS = 'db.t4g.medium';

export interface DrillConfig {
  readonly config: CaretakerConfig;
  readonly names: DrillNames;
  readonly scenarioNames: ScenarioNames;
  readonly restorePrefix: string;
  readonly badClass: string;
  /** The config document with every loopback HTTP check on `port`. */
  withAppPort(port: number): unknown;
}

function required<T>(value: T | undefined, what: string, path: string): T {
  if (value === undefined) throw new Error(`The drill config ${path} must name ${what}`);
  return value;
}

export function drillConfig(path: string): DrillConfig {
  const config = loadConfig(path);
  const document = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const target = required(
    config.rdsTargets.find((t) => t.type === 'instance'),
    'an RDS instance target',
    path,
  );
  const set = required(config.backupSets[0], 'a backup set', path);
  const copy = required(target.crossRegionCopy, `a crossRegionCopy for ${target.name}`, path);
  const alias = /:(alias\/[\w/-]+)$/.exec(copy.kmsKeyArn)?.[1];
  const restoreBucket = required(
    config.disasterRecovery.restoreBucket,
    'disasterRecovery.restoreBucket',
    path,
  );
  const appFunctionArn = required(
    config.updates.lambdaFunctions[0],
    'a function in updates.lambdaFunctions',
    path,
  );
  if (!alias) throw new Error(`The drill config ${path} must name the DR key by alias (…:alias/<name>)`);
  if (!config.healthChecks.http.some((check) => new URL(check.url).hostname === '127.0.0.1')) {
    throw new Error(`The drill config ${path} must have an HTTP check on 127.0.0.1 (the drill serves it)`);
  }
  return {
    config,
    names: {
      instance: target.identifier,
      sourceBucket: set.sourceBucket,
      sourcePrefix: set.prefix,
      restoreBucket,
      drRegion: copy.region,
      drKeyAlias: alias,
    },
    scenarioNames: {
      target: target.name,
      backupSet: set.name,
      environment: config.environment.name,
      goodClass: GOOD_CLASS,
      badClass: BAD_CLASS,
      appFunctionArn,
    },
    restorePrefix: config.disasterRecovery.restorePrefix,
    badClass: BAD_CLASS,
    withAppPort(port) {
      const checks = (document.healthChecks as { http?: { url: string }[] } | undefined)?.http ?? [];
      const http = checks.map((check) => {
        const url = new URL(check.url);
        if (url.hostname === '127.0.0.1') url.port = String(port);
        return { ...check, url: url.toString() };
      });
      return { ...document, healthChecks: { ...(document.healthChecks as object), http } };
    },
  };
}
