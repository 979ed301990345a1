/**
 * A database's settings, captured when it is snapshotted and carried into a restore. Pure.
 *
 * An RDS restore takes the data from the snapshot but most settings from the request: anything
 * not given falls back to AWS's defaults (default parameter group, default security group,
 * single-AZ, no tags). So rds-snapshot records the source's settings **in the snapshot's own
 * tags** and rds-restore reads them back. Tags were chosen over a sidecar file because they
 * travel with the snapshot: `CopyTags` carries them into the DR region, where the primary
 * region's bucket may be unreachable during the very disaster the copy is for.
 *
 * RDS tag values hold at most 256 characters of letters, digits, spaces and `_ . : / = + - @`, so
 * each tag holds one name (class, groups) or a few `key=value` pairs (storage, network, flags);
 * a list longer than 256 characters continues in `<key>:2`, `<key>:3`, … docs/rds-snapshots.md
 * lists the tags.
 */
import type {
  CreateDBInstanceCommandInput,
  DBCluster,
  DBInstance,
  RestoreDBClusterFromSnapshotCommandInput,
  RestoreDBInstanceFromDBSnapshotCommandInput,
} from '@aws-sdk/client-rds';
import * as z from 'zod';
import { TAG } from '../contract.ts';

/** The settings Caretaker records; every field but `type` may be unknown. */
export const databaseSettingsSchema = z.object({
  type: z.enum(['instance', 'cluster']),
  /** Instance class (a cluster's: its writer's). */
  instanceClass: z.string().optional(),
  engine: z.string().optional(),
  engineVersion: z.string().optional(),
  /** Clusters: `provisioned`, `serverless`, … */
  engineMode: z.string().optional(),
  /** DB parameter group (instances) or DB cluster parameter group (clusters). */
  parameterGroup: z.string().optional(),
  /** Clusters: the writer instance's DB parameter group. */
  instanceParameterGroup: z.string().optional(),
  optionGroup: z.string().optional(),
  subnetGroup: z.string().optional(),
  securityGroups: z.array(z.string()).optional(),
  storageType: z.string().optional(),
  allocatedStorage: z.number().optional(),
  iops: z.number().optional(),
  storageThroughput: z.number().optional(),
  multiAZ: z.boolean().optional(),
  port: z.number().optional(),
  publiclyAccessible: z.boolean().optional(),
  deletionProtection: z.boolean().optional(),
  iamAuth: z.boolean().optional(),
  copyTagsToSnapshot: z.boolean().optional(),
  autoMinorVersionUpgrade: z.boolean().optional(),
  backupRetentionPeriod: z.number().optional(),
  caCertificate: z.string().optional(),
  serverlessV2Min: z.number().optional(),
  serverlessV2Max: z.number().optional(),
});

export type DatabaseSettings = z.output<typeof databaseSettingsSchema>;
type Field = Exclude<keyof DatabaseSettings, 'type' | 'securityGroups'>;

/** The tag that marks a snapshot as carrying settings, and their format: `v1 instance`. */
export const SETTINGS_TAG = TAG.settings;
const PREFIX = `${SETTINGS_TAG}:`;
const FORMAT = 'v1';

/** Tags holding one name each. */
const NAME_TAGS: readonly (readonly [Field, string])[] = [
  ['instanceClass', 'class'],
  ['parameterGroup', 'parameter-group'],
  ['instanceParameterGroup', 'instance-parameter-group'],
  ['optionGroup', 'option-group'],
  ['subnetGroup', 'subnet-group'],
];

type Kind = 'string' | 'number' | 'boolean';

/** Tags holding `key=value` pairs. */
const PAIR_TAGS: readonly { tag: string; fields: readonly (readonly [Field, string, Kind])[] }[] = [
  {
    tag: 'engine',
    fields: [
      ['engine', 'name', 'string'],
      ['engineVersion', 'version', 'string'],
      ['engineMode', 'mode', 'string'],
    ],
  },
  {
    tag: 'storage',
    fields: [
      ['storageType', 'type', 'string'],
      ['allocatedStorage', 'allocated', 'number'],
      ['iops', 'iops', 'number'],
      ['storageThroughput', 'throughput', 'number'],
    ],
  },
  {
    tag: 'network',
    fields: [
      ['port', 'port', 'number'],
      ['multiAZ', 'multi-az', 'boolean'],
      ['publiclyAccessible', 'public', 'boolean'],
    ],
  },
  {
    tag: 'flags',
    fields: [
      ['deletionProtection', 'deletion-protection', 'boolean'],
      ['iamAuth', 'iam-auth', 'boolean'],
      ['copyTagsToSnapshot', 'copy-tags', 'boolean'],
      ['autoMinorVersionUpgrade', 'auto-minor', 'boolean'],
      ['backupRetentionPeriod', 'backup-retention', 'number'],
      ['caCertificate', 'ca', 'string'],
      ['serverlessV2Min', 'serverless-min', 'number'],
      ['serverlessV2Max', 'serverless-max', 'number'],
    ],
  },
];

const SECURITY_GROUPS_TAG = `${PREFIX}security-groups`;
const MAX_VALUE = 256;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function definedEntries<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Settings of a DB instance as DescribeDBInstances reports them. */
export function captureInstanceSettings(db: DBInstance): DatabaseSettings {
  const port = db.Endpoint?.Port ?? (db.DbInstancePort ? db.DbInstancePort : undefined);
  return definedEntries({
    type: 'instance' as const,
    instanceClass: db.DBInstanceClass,
    engine: db.Engine,
    engineVersion: db.EngineVersion,
    parameterGroup: db.DBParameterGroups?.[0]?.DBParameterGroupName,
    optionGroup: db.OptionGroupMemberships?.[0]?.OptionGroupName,
    subnetGroup: db.DBSubnetGroup?.DBSubnetGroupName,
    securityGroups: db.VpcSecurityGroups?.flatMap((group) =>
      group.VpcSecurityGroupId ? [group.VpcSecurityGroupId] : [],
    ),
    storageType: db.StorageType,
    allocatedStorage: db.AllocatedStorage,
    iops: db.Iops,
    storageThroughput: db.StorageThroughput,
    multiAZ: db.MultiAZ,
    port,
    publiclyAccessible: db.PubliclyAccessible,
    deletionProtection: db.DeletionProtection,
    iamAuth: db.IAMDatabaseAuthenticationEnabled,
    copyTagsToSnapshot: db.CopyTagsToSnapshot,
    autoMinorVersionUpgrade: db.AutoMinorVersionUpgrade,
    backupRetentionPeriod: db.BackupRetentionPeriod,
    caCertificate: db.CACertificateIdentifier,
  });
}

/** Settings of an Aurora cluster, with its writer's class and parameter group when known. */
export function captureClusterSettings(cluster: DBCluster, writer: DBInstance | undefined): DatabaseSettings {
  return definedEntries({
    type: 'cluster' as const,
    instanceClass: writer?.DBInstanceClass ?? cluster.DBClusterInstanceClass,
    engine: cluster.Engine,
    engineVersion: cluster.EngineVersion,
    engineMode: cluster.EngineMode,
    parameterGroup: cluster.DBClusterParameterGroup,
    instanceParameterGroup: writer?.DBParameterGroups?.[0]?.DBParameterGroupName,
    subnetGroup: cluster.DBSubnetGroup,
    securityGroups: cluster.VpcSecurityGroups?.flatMap((group) =>
      group.VpcSecurityGroupId ? [group.VpcSecurityGroupId] : [],
    ),
    storageType: cluster.StorageType,
    iops: cluster.Iops,
    port: cluster.Port,
    publiclyAccessible: writer?.PubliclyAccessible,
    deletionProtection: cluster.DeletionProtection,
    iamAuth: cluster.IAMDatabaseAuthenticationEnabled,
    copyTagsToSnapshot: cluster.CopyTagsToSnapshot,
    autoMinorVersionUpgrade: writer?.AutoMinorVersionUpgrade,
    backupRetentionPeriod: cluster.BackupRetentionPeriod,
    caCertificate: writer?.CACertificateIdentifier,
    serverlessV2Min: cluster.ServerlessV2ScalingConfiguration?.MinCapacity,
    serverlessV2Max: cluster.ServerlessV2ScalingConfiguration?.MaxCapacity,
  });
}

/** Splits a long value over `key`, `key:2`, … (each at most 256 characters). */
function putChunked(tags: Record<string, string>, key: string, value: string): void {
  for (let index = 0, part = 1; index < value.length || part === 1; index += MAX_VALUE, part++) {
    tags[part === 1 ? key : `${key}:${part}`] = value.slice(index, index + MAX_VALUE);
  }
}

function readChunked(tags: Readonly<Record<string, string>>, key: string): string | undefined {
  const first = tags[key];
  if (first === undefined) return undefined;
  let value = first;
  for (let part = 2; tags[`${key}:${part}`] !== undefined; part++) value += tags[`${key}:${part}`];
  return value;
}

/**
 * The settings as tags, and the fields that could not be recorded (a value with a character RDS
 * tag values do not allow). Empty pair tags are left out.
 */
export function settingsToTags(settings: DatabaseSettings): {
  tags: Record<string, string>;
  unrecorded: string[];
} {
  const tags: Record<string, string> = { [SETTINGS_TAG]: `${FORMAT} ${settings.type}` };
  const unrecorded: string[] = [];
  for (const [field, name] of NAME_TAGS) {
    const value = settings[field];
    if (value === undefined) continue;
    const text = String(value);
    if (TAG_VALUE.test(text) && text.length <= MAX_VALUE) tags[`${PREFIX}${name}`] = text;
    else unrecorded.push(field);
  }
  if (settings.securityGroups?.length) {
    const text = settings.securityGroups.join(' ');
    if (TAG_VALUE.test(text)) putChunked(tags, SECURITY_GROUPS_TAG, text);
    else unrecorded.push('securityGroups');
  }
  for (const { tag, fields } of PAIR_TAGS) {
    const pairs: string[] = [];
    for (const [field, label] of fields) {
      const value = settings[field];
      if (value === undefined) continue;
      const text = String(value);
      if (TAG_VALUE.test(text) && !/[\s=]/u.test(text)) pairs.push(`${label}=${text}`);
      else unrecorded.push(field);
    }
    if (pairs.length) putChunked(tags, `${PREFIX}${tag}`, pairs.join(' '));
  }
  return { tags, unrecorded };
}

function parseValue(text: string, kind: Kind): string | number | boolean | undefined {
  if (kind === 'string') return text;
  if (kind === 'boolean') return text === 'true' ? true : text === 'false' ? false : undefined;
  const number = Number(text);
  return text !== '' && Number.isFinite(number) ? number : undefined;
}

/** Settings read back from a snapshot's tags, or undefined when it carries none (or not this format). */
export function settingsFromTags(tags: Readonly<Record<string, string>>): DatabaseSettings | undefined {
  const marker = tags[SETTINGS_TAG]?.split(' ');
  if (!marker || marker[0] !== FORMAT) return undefined;
  const raw: Record<string, unknown> = { type: marker[1] };
  for (const [field, name] of NAME_TAGS) {
    const value = tags[`${PREFIX}${name}`];
    if (value !== undefined) raw[field] = value;
  }
  const groups = readChunked(tags, SECURITY_GROUPS_TAG);
  if (groups !== undefined) raw.securityGroups = groups.split(' ').filter(Boolean);
  for (const { tag, fields } of PAIR_TAGS) {
    const text = readChunked(tags, `${PREFIX}${tag}`);
    if (text === undefined) continue;
    const pairs = new Map(
      text
        .split(' ')
        .filter((pair) => pair.includes('='))
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const),
    );
    for (const [field, label, kind] of fields) {
      const value = pairs.get(label);
      if (value !== undefined) raw[field] = parseValue(value, kind);
    }
  }
  const parsed = databaseSettingsSchema.safeParse(definedEntries(raw));
  return parsed.success ? parsed.data : undefined;
}

/** What a restore should set differently from the captured settings (e.g. a smaller class for DR). */
export interface RestoreOverrides {
  readonly instanceClass?: string;
  readonly multiAZ?: boolean;
  readonly parameterGroup?: string;
  readonly instanceParameterGroup?: string;
  readonly optionGroup?: string;
  readonly subnetGroup?: string;
  readonly securityGroups?: readonly string[];
  readonly port?: number;
  readonly publiclyAccessible?: boolean;
}

export interface RestoreContext {
  /** Restoring in the region the settings were captured in (groups and security groups exist there). */
  readonly sameRegion: boolean;
}

/** A restore request built from settings: what was carried, what falls back to defaults, and why. */
export interface RestorePlan<T> {
  readonly input: T;
  /** Settings carried from the capture (or overrides). */
  readonly carried: string[];
  /** Settings left to AWS's defaults. */
  readonly defaulted: string[];
  readonly notes: string[];
  /** The source had deletion protection: turn it on when the restored copy is promoted. */
  readonly protectOnPromote: boolean;
}

/** Names AWS provides in every region and account (default groups), safe to carry anywhere. */
function isDefaultName(name: string): boolean {
  return /^default($|[.:])/.test(name);
}

/** gp3 takes explicit IOPS/throughput only from this allocated size (GiB) up. */
function gp3Threshold(engine: string | undefined): number {
  if (engine?.startsWith('oracle')) return 200;
  if (engine?.startsWith('sqlserver')) return 20;
  return 400;
}

/** Collects request fields with the record of where each came from. */
class PlanBuilder {
  readonly input: Record<string, unknown> = {};
  readonly carried: string[] = [];
  readonly defaulted: string[] = [];
  readonly notes: string[] = [];

  constructor(private readonly context: RestoreContext) {}

  set(field: string, value: unknown, label: string): void {
    if (value === undefined) return;
    this.input[field] = value;
    this.carried.push(label);
  }

  /** A region-bound name: carried in its own region, else only the default names; overrides win. */
  regional(
    field: string,
    override: string | readonly string[] | undefined,
    captured: string | readonly string[] | undefined,
    label: string,
  ): void {
    if (override !== undefined) {
      this.set(field, copyOf(override), label);
      return;
    }
    if (captured === undefined) {
      this.defaulted.push(label);
      return;
    }
    const portable = typeof captured === 'string' && isDefaultName(captured);
    if (this.context.sameRegion || portable) {
      this.set(field, copyOf(captured), label);
      return;
    }
    this.defaulted.push(label);
    this.notes.push(
      `${label} ${JSON.stringify(captured)} belongs to the source region: AWS's default applies unless overrides.${label} names one in the restore region`,
    );
  }
}

/**
 * A restored copy is private unless the override says otherwise (the input schema allows only
 * `false` there): it holds the source's data, and a drill or rollback has no reason to put it on
 * the internet, even when the source is public. The request always says so, which the restore
 * role's IAM condition (`rds:PubliclyAccessible` false) requires.
 */
function privately(plan: PlanBuilder, s: DatabaseSettings, overrides: RestoreOverrides): void {
  plan.input.PubliclyAccessible = overrides.publiclyAccessible ?? false;
  if (s.publiclyAccessible === true && plan.input.PubliclyAccessible === false) {
    plan.notes.push(
      'publiclyAccessible: the source is publicly accessible; the restored copy is not (make it public by hand if it must be)',
    );
  }
}

function copyOf(value: string | readonly string[]): string | string[] {
  return typeof value === 'string' ? value : [...value];
}

function missing(settings: DatabaseSettings | undefined): string[] {
  return settings ? [] : ['no settings were captured with this snapshot: AWS defaults apply'];
}

/** RestoreDBInstanceFromDBSnapshot fields (without identifiers and tags) from captured settings. */
export function instanceRestorePlan(
  settings: DatabaseSettings | undefined,
  overrides: RestoreOverrides,
  context: RestoreContext,
): RestorePlan<Partial<RestoreDBInstanceFromDBSnapshotCommandInput>> {
  const s = settings ?? { type: 'instance' as const };
  const plan = new PlanBuilder(context);
  plan.set('DBInstanceClass', overrides.instanceClass ?? s.instanceClass, 'instanceClass');
  plan.regional('DBParameterGroupName', overrides.parameterGroup, s.parameterGroup, 'parameterGroup');
  plan.regional('OptionGroupName', overrides.optionGroup, s.optionGroup, 'optionGroup');
  plan.regional('DBSubnetGroupName', overrides.subnetGroup, s.subnetGroup, 'subnetGroup');
  plan.regional('VpcSecurityGroupIds', overrides.securityGroups, s.securityGroups, 'securityGroups');
  plan.set('StorageType', s.storageType, 'storageType');
  plan.set('AllocatedStorage', s.allocatedStorage, 'allocatedStorage');
  const provisioned = s.storageType === 'io1' || s.storageType === 'io2';
  const gp3Sized = s.storageType === 'gp3' && (s.allocatedStorage ?? 0) >= gp3Threshold(s.engine);
  if (provisioned || gp3Sized) plan.set('Iops', s.iops, 'iops');
  if (gp3Sized) plan.set('StorageThroughput', s.storageThroughput, 'storageThroughput');
  plan.set('MultiAZ', overrides.multiAZ ?? s.multiAZ, 'multiAZ');
  plan.set('Port', overrides.port ?? s.port, 'port');
  privately(plan, s, overrides);
  plan.set('EnableIAMDatabaseAuthentication', s.iamAuth, 'iamAuth');
  plan.set('CopyTagsToSnapshot', s.copyTagsToSnapshot, 'copyTagsToSnapshot');
  plan.set('AutoMinorVersionUpgrade', s.autoMinorVersionUpgrade, 'autoMinorVersionUpgrade');
  plan.set('BackupRetentionPeriod', s.backupRetentionPeriod, 'backupRetentionPeriod');
  plan.set('CACertificateIdentifier', s.caCertificate, 'caCertificate');
  // A restored copy stays deletable (a drill or rollback tears it down); protection comes back on promotion.
  plan.input.DeletionProtection = false;
  return {
    input: plan.input as Partial<RestoreDBInstanceFromDBSnapshotCommandInput>,
    carried: plan.carried,
    defaulted: plan.defaulted,
    notes: [...missing(settings), ...plan.notes],
    protectOnPromote: s.deletionProtection === true,
  };
}

/** RestoreDBClusterFromSnapshot fields (without identifiers, engine and tags) from captured settings. */
export function clusterRestorePlan(
  settings: DatabaseSettings | undefined,
  overrides: RestoreOverrides,
  context: RestoreContext,
): RestorePlan<Partial<RestoreDBClusterFromSnapshotCommandInput>> {
  const s = settings ?? { type: 'cluster' as const };
  const plan = new PlanBuilder(context);
  plan.regional('DBClusterParameterGroupName', overrides.parameterGroup, s.parameterGroup, 'parameterGroup');
  plan.regional('DBSubnetGroupName', overrides.subnetGroup, s.subnetGroup, 'subnetGroup');
  plan.regional('VpcSecurityGroupIds', overrides.securityGroups, s.securityGroups, 'securityGroups');
  if (s.engineMode && s.engineMode !== 'provisioned') plan.set('EngineMode', s.engineMode, 'engineMode');
  plan.set('StorageType', s.storageType, 'storageType');
  if (s.storageType === 'io1' || s.storageType === 'io2') plan.set('Iops', s.iops, 'iops');
  plan.set('Port', overrides.port ?? s.port, 'port');
  plan.set('EnableIAMDatabaseAuthentication', s.iamAuth, 'iamAuth');
  plan.set('CopyTagsToSnapshot', s.copyTagsToSnapshot, 'copyTagsToSnapshot');
  plan.set('BackupRetentionPeriod', s.backupRetentionPeriod, 'backupRetentionPeriod');
  if (s.serverlessV2Min !== undefined && s.serverlessV2Max !== undefined) {
    plan.set(
      'ServerlessV2ScalingConfiguration',
      { MinCapacity: s.serverlessV2Min, MaxCapacity: s.serverlessV2Max },
      'serverlessV2',
    );
  }
  plan.input.DeletionProtection = false;
  return {
    input: plan.input as Partial<RestoreDBClusterFromSnapshotCommandInput>,
    carried: plan.carried,
    defaulted: plan.defaulted,
    notes: [...missing(settings), ...plan.notes],
    protectOnPromote: s.deletionProtection === true,
  };
}

/** CreateDBInstance fields for a restored cluster's writer (without identifiers, engine and tags). */
export function writerInstancePlan(
  settings: DatabaseSettings | undefined,
  overrides: RestoreOverrides,
  context: RestoreContext,
): RestorePlan<Partial<CreateDBInstanceCommandInput>> {
  const s = settings ?? { type: 'cluster' as const };
  const plan = new PlanBuilder(context);
  plan.set('DBInstanceClass', overrides.instanceClass ?? s.instanceClass, 'instanceClass');
  plan.regional(
    'DBParameterGroupName',
    overrides.instanceParameterGroup,
    s.instanceParameterGroup,
    'instanceParameterGroup',
  );
  privately(plan, s, overrides);
  plan.set('AutoMinorVersionUpgrade', s.autoMinorVersionUpgrade, 'autoMinorVersionUpgrade');
  plan.set('CACertificateIdentifier', s.caCertificate, 'caCertificate');
  return {
    input: plan.input as Partial<CreateDBInstanceCommandInput>,
    carried: plan.carried,
    defaulted: plan.defaulted,
    notes: plan.notes,
    protectOnPromote: false,
  };
}
