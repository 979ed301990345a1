/**
 * Roles that cannot hurt production (issue 11, docs/security.md), attacked on the sandbox with IAM
 * enforced: the RDS statements of every Caretaker role, as the stack synthesizes them for this
 * account and region, are stored in the sandbox's IAM registry, and a session of each role tries
 * the tag-then-delete attack on the production instance — tag it `caretaker:managed=true`, then
 * delete it (even once someone else has tagged it managed). Every attempt must be refused by policy
 * while the restore role may still tag and delete a copy it restored (so the refusals are the
 * policies' doing, not an empty policy's).
 */
import {
  AddTagsToResourceCommand,
  CreateDBInstanceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  ListTagsForResourceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { TAG } from '../../functions/common/caretaker-tags.ts';
import { iamRegistryService } from '../../sandbox/iam-registry/index.ts';
import { kmsService } from '../../sandbox/services/kms/index.ts';
import { rdsService } from '../../sandbox/services/rds/index.ts';
import { withSandbox } from '../support/sandbox.ts';
import { buildStack, exampleConfig } from '../support/stack.ts';
import { ACCOUNT, asAdministrator, asRole, failure, REGION, role, type TestRole } from './iam-support.ts';
import { waitForInstance } from './rds-support.ts';

const handle = withSandbox([kmsService, rdsService, iamRegistryService], {
  settings: { iam: { enforcement: 'enforce' }, rds: { statusDelayMs: 100 } },
});
const sandbox = () => handle.sandbox;
const admin = () => new RDSClient(asAdministrator(sandbox()));

/** The example config's RDS target, and a copy named as rds-restore names its copies. */
const PRODUCTION = 'orders-prod';
const COPY = 'orders-prod-r0123abcd';
const ARN = `arn:aws:rds:${REGION}:${ACCOUNT}:db`;

/** Every Caretaker role that holds an RDS permission, by the logical id prefix of its role. */
const ROLES = [
  'RdsSnapshotRole',
  'RdsRestoreRole',
  'RdsSwitchOverRole',
  'RdsUpdateRole',
  'CleanupFunctionRole',
  'HealthCheckFunctionRole',
  'MaintenanceCapacityRole',
  'MaintenanceSecurityMaintenanceRole',
] as const;

const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** Resolves the intrinsics RDS ARNs are built from (pseudo parameters, Fn::Join); fails on any other. */
function resolve(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolve);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  if ('Ref' in object) {
    const resolved = PSEUDO[String(object.Ref)];
    if (resolved === undefined) throw new Error(`cannot resolve Ref ${String(object.Ref)}`);
    return resolved;
  }
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return (resolve(parts) as string[]).join(separator);
  }
  return Object.fromEntries(Object.entries(object).map(([key, inner]) => [key, resolve(inner)]));
}

const rdsOnly = (statement: { Action: string | string[] }) =>
  [statement.Action].flat().every((action) => action.startsWith('rds:'));

let sessions: Map<string, TestRole>;

beforeAll(async () => {
  const config = exampleConfig() as any;
  config.environment = { ...config.environment, account: ACCOUNT, region: REGION };
  const { template, stack } = buildStack(config);
  const roleIds = Object.keys(template.findResources('AWS::IAM::Role'));
  const policies = Object.values(template.findResources('AWS::IAM::Policy'));
  sessions = new Map(
    ROLES.map((prefix) => {
      const roleId = roleIds.find((id) => id.startsWith(prefix));
      if (!roleId) throw new Error(`no role ${prefix}* in the template`);
      const statements = policies
        .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
        .flatMap((policy) => stack.resolve(policy.Properties.PolicyDocument.Statement) as any[])
        .filter(rdsOnly)
        .map(resolve);
      return [prefix, role(sandbox(), prefix, statements)];
    }),
  );
  for (const id of [PRODUCTION, COPY]) {
    await admin().send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        DBInstanceClass: 'db.t4g.micro',
        Engine: 'postgres',
        MasterUsername: 'owner',
        MasterUserPassword: 'owner-secret-1',
        BackupRetentionPeriod: 0,
      }),
    );
  }
  await waitForInstance(admin(), PRODUCTION);
  await waitForInstance(admin(), COPY);
}, 300_000);

const as = (prefix: string) => new RDSClient(asRole(sandbox(), sessions.get(prefix)!));

async function tagsOf(id: string): Promise<Record<string, string>> {
  const out = await admin().send(new ListTagsForResourceCommand({ ResourceName: `${ARN}:${id}` }));
  return Object.fromEntries((out.TagList ?? []).map((tag) => [tag.Key!, tag.Value!]));
}

describe('the tag-then-delete attack on production', () => {
  it('is refused at the first step: no Caretaker role may tag the production instance as managed', async () => {
    const refusals: Record<string, string> = {};
    for (const prefix of ROLES) {
      const error = await failure(
        as(prefix).send(
          new AddTagsToResourceCommand({
            ResourceName: `${ARN}:${PRODUCTION}`,
            Tags: [{ Key: TAG.managed, Value: 'true' }],
          }),
        ),
      );
      refusals[prefix] = error.name;
    }

    expect(refusals).toEqual(Object.fromEntries(ROLES.map((prefix) => [prefix, 'AccessDenied'])));
    expect(await tagsOf(PRODUCTION)).not.toHaveProperty(TAG.managed);
    expect(sandbox().denials().at(-1)).toMatchObject({
      action: 'rds:AddTagsToResource',
      resources: [`${ARN}:${PRODUCTION}`],
    });
  });

  it('is refused at the second step: no role may delete production, even once it carries caretaker:managed=true', async () => {
    // As if the first step had succeeded some other way.
    await admin().send(
      new AddTagsToResourceCommand({
        ResourceName: `${ARN}:${PRODUCTION}`,
        Tags: [{ Key: TAG.managed, Value: 'true' }],
      }),
    );

    const refusals: Record<string, string[]> = {};
    for (const prefix of ROLES) {
      const skip = await failure(
        as(prefix).send(
          new DeleteDBInstanceCommand({ DBInstanceIdentifier: PRODUCTION, SkipFinalSnapshot: true }),
        ),
      );
      const withFinal = await failure(
        as(prefix).send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: PRODUCTION,
            FinalDBSnapshotIdentifier: 'caretaker-orders-final',
          }),
        ),
      );
      refusals[prefix] = [skip.name, withFinal.name];
    }

    expect(refusals).toEqual(
      Object.fromEntries(ROLES.map((prefix) => [prefix, ['AccessDenied', 'AccessDenied']])),
    );
    const out = await admin().send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: PRODUCTION }));
    expect(out.DBInstances?.[0]?.DBInstanceStatus).toBe('available');
  });

  it('leaves the restore role what it needs: tagging and deleting a copy it restored', async () => {
    const restore = as('RdsRestoreRole');

    await restore.send(
      new AddTagsToResourceCommand({
        ResourceName: `${ARN}:${COPY}`,
        Tags: [{ Key: TAG.managed, Value: 'true' }],
      }),
    );
    const deleted = await restore.send(
      new DeleteDBInstanceCommand({ DBInstanceIdentifier: COPY, SkipFinalSnapshot: true }),
    );

    expect(deleted.DBInstance?.DBInstanceStatus).toBe('deleting');
  });
});
