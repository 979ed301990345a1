/**
 * The functions the sandbox can run, with their published versions and aliases, per region.
 * A function's code is a handler module on this machine; `$LATEST` follows registrations, and a
 * published version freezes the configuration it was published from.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, resolve } from 'node:path';
import { AwsError } from '../../core/types.ts';
import { functionArn, isValidAliasName } from './names.ts';

/** What a caller gives to make a function runnable (tests, `caretaker sandbox drill`). */
export interface FunctionRegistration {
  /** e.g. `caretaker-notify`. */
  readonly name: string;
  /** The handler module: absolute, or relative to the current directory. */
  readonly modulePath: string;
  /** The exported handler's name. @default 'handler' */
  readonly handler?: string;
  /** The function's own environment variables. */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default 60_000 (Caretaker's function default: one minute) */
  readonly timeoutMs?: number;
  /** @default 256 */
  readonly memoryMb?: number;
  readonly description?: string;
  /** @default the sandbox's default region */
  readonly region?: string;
  /**
   * The execution role's ARN (a deployed template's Role), reported by GetFunction and kept so the
   * function's requests can be attributed to it. @default a role named `caretaker-sandbox-<name>`
   */
  readonly role?: string;
}

/** One version's frozen configuration (`$LATEST` is the mutable one). */
export interface VersionConfig {
  readonly version: string;
  readonly modulePath: string;
  readonly handlerName: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly memoryMb: number;
  readonly description: string;
  readonly codeSha256: string;
  readonly codeSize: number;
  readonly lastModified: Date;
  readonly revisionId: string;
  readonly role: string;
}

/** The Handler setting as Lambda shows it: the module's file name without extension, then the export (`index.handler`). */
export function handlerSetting(config: Pick<VersionConfig, 'modulePath' | 'handlerName'>): string {
  return `${basename(config.modulePath, extname(config.modulePath))}.${config.handlerName}`;
}

export interface AliasRecord {
  readonly name: string;
  readonly functionVersion: string;
  readonly description: string;
  /** Additional version → share of invocations (0..1) routed to it instead of `functionVersion`. */
  readonly additionalVersionWeights: Readonly<Record<string, number>>;
  readonly revisionId: string;
}

export interface FunctionRecord {
  readonly name: string;
  readonly region: string;
  latest: VersionConfig;
  readonly versions: Map<string, VersionConfig>;
  readonly aliases: Map<string, AliasRecord>;
  nextVersion: number;
}

/** The version and configuration an invocation runs, after resolving the qualifier. */
export interface ResolvedTarget {
  readonly fn: FunctionRecord;
  readonly config: VersionConfig;
  /** The ARN as invoked (qualified by the alias or version when one was given). */
  readonly invokedArn: string;
}

const LATEST = '$LATEST';

function sameConfig(a: VersionConfig, b: VersionConfig): boolean {
  return (
    a.codeSha256 === b.codeSha256 &&
    a.modulePath === b.modulePath &&
    a.handlerName === b.handlerName &&
    a.timeoutMs === b.timeoutMs &&
    a.memoryMb === b.memoryMb &&
    a.description === b.description &&
    a.role === b.role &&
    JSON.stringify(a.environment) === JSON.stringify(b.environment)
  );
}

function codeOf(modulePath: string): { codeSha256: string; codeSize: number } {
  try {
    const code = readFileSync(modulePath);
    return {
      codeSha256: createHash('sha256').update(code).digest('base64'),
      codeSize: statSync(modulePath).size,
    };
  } catch (error) {
    throw new AwsError(
      'InvalidParameterValueException',
      `The handler module ${modulePath} cannot be read: ${(error as Error).message}`,
    );
  }
}

function validateWeights(
  fn: FunctionRecord,
  primary: string,
  weights: Readonly<Record<string, number>>,
): void {
  const entries = Object.entries(weights);
  if (entries.length > 1) {
    throw new AwsError('InvalidParameterValueException', 'Only one additional version can be specified.');
  }
  for (const [version, weight] of entries) {
    if (!fn.versions.has(version)) {
      throw new AwsError('InvalidParameterValueException', `Version ${version} does not exist for function.`);
    }
    if (version === primary) {
      throw new AwsError(
        'InvalidParameterValueException',
        'Alias routing configuration must not reference the primary version.',
      );
    }
    if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1)) {
      throw new AwsError('InvalidParameterValueException', 'Routing weight must be between 0.0 and 1.0.');
    }
  }
  if (entries.length > 0 && primary === LATEST) {
    throw new AwsError(
      'InvalidParameterValueException',
      '$LATEST is not supported for an alias pointing to more than 1 version',
    );
  }
}

export class FunctionRegistry {
  readonly #functions = new Map<string, FunctionRecord>();

  constructor(
    private readonly accountId: string,
    private readonly defaultRegion: string,
  ) {}

  /** Creates a function, or updates `$LATEST` of an existing one. */
  register(registration: FunctionRegistration): FunctionRecord {
    const region = registration.region ?? this.defaultRegion;
    const modulePath = isAbsolute(registration.modulePath)
      ? registration.modulePath
      : resolve(registration.modulePath);
    const latest: VersionConfig = {
      version: LATEST,
      modulePath,
      handlerName: registration.handler ?? 'handler',
      environment: { ...registration.environment },
      timeoutMs: registration.timeoutMs ?? 60_000,
      memoryMb: registration.memoryMb ?? 256,
      description: registration.description ?? '',
      ...codeOf(modulePath),
      lastModified: new Date(),
      revisionId: randomUUID(),
      role: registration.role ?? `arn:aws:iam::${this.accountId}:role/caretaker-sandbox-${registration.name}`,
    };
    const key = `${region}/${registration.name}`;
    const existing = this.#functions.get(key);
    if (existing) {
      existing.latest = latest;
      return existing;
    }
    const record: FunctionRecord = {
      name: registration.name,
      region,
      latest,
      versions: new Map(),
      aliases: new Map(),
      nextVersion: 1,
    };
    this.#functions.set(key, record);
    return record;
  }

  find(region: string, name: string): FunctionRecord | undefined {
    return this.#functions.get(`${region}/${name}`);
  }

  /** The function, or ResourceNotFoundException. */
  get(region: string, name: string): FunctionRecord {
    const fn = this.find(region, name);
    if (!fn) {
      throw new AwsError(
        'ResourceNotFoundException',
        `Function not found: ${functionArn(region, this.accountId, name)}`,
        404,
      );
    }
    return fn;
  }

  list(region: string): FunctionRecord[] {
    return [...this.#functions.values()]
      .filter((fn) => fn.region === region)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The configuration of a version (`$LATEST` or a number), or ResourceNotFoundException. */
  version(fn: FunctionRecord, version: string): VersionConfig {
    if (version === LATEST) return fn.latest;
    const config = fn.versions.get(version);
    if (!config) {
      throw new AwsError(
        'ResourceNotFoundException',
        `Function not found: ${functionArn(fn.region, this.accountId, fn.name, version)}`,
        404,
      );
    }
    return config;
  }

  /**
   * What an invocation with this qualifier runs. An alias with routing weights picks its
   * additional version with that probability (`random` is injectable for tests).
   */
  resolve(fn: FunctionRecord, qualifier: string | undefined, random = Math.random): ResolvedTarget {
    const invokedArn = functionArn(fn.region, this.accountId, fn.name, qualifier);
    if (qualifier === undefined || qualifier === LATEST || /^\d+$/.test(qualifier)) {
      return { fn, config: this.version(fn, qualifier ?? LATEST), invokedArn };
    }
    const alias = this.alias(fn, qualifier);
    let version = alias.functionVersion;
    let roll = random();
    for (const [additional, weight] of Object.entries(alias.additionalVersionWeights)) {
      if (roll < weight) {
        version = additional;
        break;
      }
      roll -= weight;
    }
    return { fn, config: this.version(fn, version), invokedArn };
  }

  /** Publishes `$LATEST` as a new version, or returns the newest version when nothing changed. */
  publish(
    fn: FunctionRecord,
    options: { codeSha256?: string; description?: string; revisionId?: string },
  ): VersionConfig {
    if (options.revisionId !== undefined && options.revisionId !== fn.latest.revisionId) {
      throw new AwsError(
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
        412,
      );
    }
    if (options.codeSha256 !== undefined && options.codeSha256 !== fn.latest.codeSha256) {
      throw new AwsError(
        'InvalidParameterValueException',
        `CodeSHA256 (${options.codeSha256}) is different from current CodeSHA256 in $LATEST (${fn.latest.codeSha256}). Please try again`,
      );
    }
    const newest = fn.versions.get(String(fn.nextVersion - 1));
    if (newest && sameConfig(newest, fn.latest)) return newest;
    const version: VersionConfig = {
      ...fn.latest,
      version: String(fn.nextVersion),
      description: options.description ?? fn.latest.description,
      lastModified: new Date(),
      revisionId: randomUUID(),
    };
    fn.versions.set(version.version, version);
    fn.nextVersion += 1;
    return version;
  }

  alias(fn: FunctionRecord, name: string): AliasRecord {
    const alias = fn.aliases.get(name);
    if (!alias) {
      throw new AwsError(
        'ResourceNotFoundException',
        `Alias not found: ${functionArn(fn.region, this.accountId, fn.name, name)}`,
        404,
      );
    }
    return alias;
  }

  createAlias(
    fn: FunctionRecord,
    input: { name: string; functionVersion: string; description?: string; weights?: Record<string, number> },
  ): AliasRecord {
    if (!isValidAliasName(input.name)) {
      throw new AwsError('ValidationException', `Alias name "${input.name}" is not valid`);
    }
    if (fn.aliases.has(input.name)) {
      throw new AwsError(
        'ResourceConflictException',
        `Alias already exists: ${functionArn(fn.region, this.accountId, fn.name, input.name)}`,
        409,
      );
    }
    this.version(fn, input.functionVersion);
    const weights = input.weights ?? {};
    validateWeights(fn, input.functionVersion, weights);
    const alias: AliasRecord = {
      name: input.name,
      functionVersion: input.functionVersion,
      description: input.description ?? '',
      additionalVersionWeights: { ...weights },
      revisionId: randomUUID(),
    };
    fn.aliases.set(alias.name, alias);
    return alias;
  }

  updateAlias(
    fn: FunctionRecord,
    name: string,
    input: {
      functionVersion?: string;
      description?: string;
      weights?: Record<string, number>;
      revisionId?: string;
    },
  ): AliasRecord {
    const current = this.alias(fn, name);
    if (input.revisionId !== undefined && input.revisionId !== current.revisionId) {
      throw new AwsError(
        'PreconditionFailedException',
        'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
        412,
      );
    }
    const functionVersion = input.functionVersion ?? current.functionVersion;
    this.version(fn, functionVersion);
    const weights = input.weights ?? current.additionalVersionWeights;
    validateWeights(fn, functionVersion, weights);
    const updated: AliasRecord = {
      name,
      functionVersion,
      description: input.description ?? current.description,
      additionalVersionWeights: { ...weights },
      revisionId: randomUUID(),
    };
    fn.aliases.set(name, updated);
    return updated;
  }

  deleteAlias(fn: FunctionRecord, name: string): void {
    fn.aliases.delete(name);
  }
}
