import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack } from '../support/stack.ts';

type Built = ReturnType<typeof buildStack>;
let template: Built['template'];
let stack: Built['stack'];

beforeAll(() => {
  ({ template, stack } = buildStack());
});

/** Every statement of the role of the function whose description starts with `description`. */
function statementsOf(description: string): any[] {
  const [fnId, fn] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, f]) =>
    String(f.Properties.Description).startsWith(description),
  )!;
  expect(fnId).toBeDefined();
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

const flat = (value: unknown) => JSON.stringify(stack.resolve(value));
const withAction = (statements: any[], action: string) =>
  statements.filter((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action));

describe('rds-snapshot', () => {
  it('may create snapshots of the configured instance, named caretaker-*, only', () => {
    const [create] = withAction(statementsOf('Creates tagged manual RDS snapshots'), 'rds:CreateDBSnapshot');

    expect(flat(create.Resource)).toContain(':db:orders-prod');
    expect(flat(create.Resource)).toContain(':snapshot:caretaker-*');
    expect(flat(create.Resource)).not.toContain(':db:*');
  });

  it('may copy to the DR region and use the DR key only through RDS, grants only for AWS resources', () => {
    const statements = statementsOf('Creates tagged manual RDS snapshots');
    const [copy] = withAction(statements, 'rds:CopyDBSnapshot');
    const [grant] = withAction(statements, 'kms:CreateGrant');
    const [describeKey] = withAction(statements, 'kms:DescribeKey');

    expect(flat(copy.Resource)).toContain('rds:eu-west-1:');
    expect(grant.Resource).toContain(
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    expect(grant.Condition.Bool).toEqual({ 'kms:GrantIsForAWSResource': 'true' });
    // DescribeKey requests never carry kms:GrantIsForAWSResource: it must not be conditioned on it.
    expect(describeKey.Action).toBe('kms:DescribeKey');
    expect(describeKey.Condition).not.toHaveProperty('Bool');
    expect(flat(describeKey.Condition)).toContain('rds.eu-west-1.amazonaws.com');
  });

  it('gets the quota and target settings', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Creates tagged manual RDS snapshots'),
      Environment: {
        Variables: Match.objectLike({
          SNAPSHOT_QUOTA: '100',
          SNAPSHOT_WARN_PERCENT: '80',
          MAX_CONCURRENT_COPIES: '5',
        }),
      },
    });
  });
});

describe('rds-restore', () => {
  const statements = () => statementsOf('Restores RDS instances');

  it('deletes only its own copies (<id>-r<8 characters>), and only while tagged caretaker:managed=true', () => {
    const [del] = withAction(statements(), 'rds:DeleteDBInstance');

    expect(del.Condition).toEqual({ StringEquals: { 'rds:db-tag/caretaker:managed': 'true' } });
    expect(flat(del.Resource)).toContain(':db:orders-prod-r????????"');
    expect(flat(del.Resource)).not.toContain(':db:orders-prod"');
    expect(flat(del.Resource)).not.toContain('*');
  });

  it('creates only private resources tagged as managed in the request', () => {
    const [restore] = withAction(statements(), 'rds:RestoreDBInstanceFromDBSnapshot');

    expect(restore.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/caretaker:managed': 'true' },
      Bool: { 'rds:PubliclyAccessible': 'false' },
    });
  });

  it('may neither modify nor rename any database, nor tag one but its own copies as managed', () => {
    const all = statements();
    const [tag] = withAction(all, 'rds:AddTagsToResource');

    expect(withAction(all, 'rds:ModifyDBInstance')).toEqual([]);
    expect(withAction(all, 'rds:ModifyDBCluster')).toEqual([]);
    expect(withAction(all, 'rds:RemoveTagsFromResource')).toEqual([]);
    expect(tag.Condition).toEqual({ StringEquals: { 'aws:RequestTag/caretaker:managed': 'true' } });
    expect(flat(tag.Resource)).not.toContain(':db:orders-prod"');
    expect(flat(tag.Resource)).not.toContain('-old-');
  });

  it('may describe keys through RDS without the grant condition DescribeKey never carries', () => {
    const [describeKey] = withAction(statements(), 'kms:DescribeKey');

    expect(describeKey.Action).toBe('kms:DescribeKey');
    expect(describeKey.Condition).not.toHaveProperty('Bool');
  });
});

describe('rds-switch-over', () => {
  const statements = () => statementsOf('Switches an RDS target over');

  it('renames only the source, its restored copies and its parked original, by exact name patterns', () => {
    const [modify] = withAction(statements(), 'rds:ModifyDBInstance');
    const resources = flat(modify.Resource);

    expect(resources).toContain(':db:orders-prod"');
    expect(resources).toContain(':db:orders-prod-r????????"');
    expect(resources).toContain(':db:orders-prod-old-??????????????"');
    expect(resources).not.toContain('*');
  });

  it('tags only with its journal keys (never caretaker:managed), and needs tag keys in the request', () => {
    const [add] = withAction(statements(), 'rds:AddTagsToResource');
    const [remove] = withAction(statements(), 'rds:RemoveTagsFromResource');

    expect(add.Condition['ForAllValues:StringEquals']['aws:TagKeys']).not.toContain('caretaker:managed');
    expect(add.Condition['ForAllValues:StringEquals']['aws:TagKeys']).toContain('caretaker:switch-parking');
    expect(add.Condition.Null).toEqual({ 'aws:TagKeys': 'false' });
    expect(remove.Condition.Null).toEqual({ 'aws:TagKeys': 'false' });
  });

  it('may delete, restore or create nothing', () => {
    const actions = statements().flatMap((s) => [s.Action].flat());

    expect(actions.filter((action: string) => /^rds:(Delete|Restore|Create)/.test(action))).toEqual([]);
  });
});

describe('update', () => {
  it('may shift the aliases of the configured functions only', () => {
    const [alias] = withAction(statementsOf('Applies RDS changes'), 'lambda:UpdateAlias');

    expect(alias.Resource).toEqual([
      'arn:aws:lambda:eu-central-1:111122223333:function:orders-api',
      'arn:aws:lambda:eu-central-1:111122223333:function:orders-api:*',
    ]);
  });
});

describe('cleanup', () => {
  it('deletes only snapshots named caretaker-* and tagged caretaker:managed=true, in the primary and DR regions', () => {
    const [del] = withAction(statementsOf('Applies retention'), 'rds:DeleteDBSnapshot');

    expect(del.Condition).toEqual({ StringEquals: { 'rds:snapshot-tag/caretaker:managed': 'true' } });
    expect(flat(del.Resource)).toContain('rds:eu-west-1:');
    expect(flat(del.Resource)).toContain(':snapshot:caretaker-*');
    expect(flat(del.Resource)).not.toContain(':snapshot:*');
  });

  it('may open seals with the stack key, and decrypt nothing else but through S3', () => {
    const decrypts = withAction(statementsOf('Applies retention'), 'kms:Decrypt');

    expect(decrypts.map((s) => Object.keys(s.Condition ?? {}).sort())).toEqual([
      ['StringEquals'],
      ['StringEquals'],
    ]);
    expect(flat(decrypts.map((s) => s.Condition))).toContain('kms:EncryptionContext:caretaker:purpose');
    expect(flat(decrypts.map((s) => s.Condition))).toContain('kms:ViaService');
  });

  it('deletes backup objects under backups/ only', () => {
    const [del] = withAction(statementsOf('Applies retention'), 's3:DeleteObject');

    expect(flat(del.Resource)).toMatch(/\/backups\/\*"/);
  });

  it('gets the retention policies and targets, and 15 minutes', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Applies retention'),
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          BACKUP_SETS: JSON.stringify([{ name: 'uploads', retention: 'standard' }]),
          RETENTION_POLICIES: Match.stringLikeRegexp('"standard":\\{"keepLast":3'),
        }),
      },
    });
  });
});
