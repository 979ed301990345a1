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

  it('may copy to the DR region and use the DR key only for grants to AWS resources', () => {
    const statements = statementsOf('Creates tagged manual RDS snapshots');
    const [copy] = withAction(statements, 'rds:CopyDBSnapshot');
    const [grant] = withAction(statements, 'kms:CreateGrant');

    expect(flat(copy.Resource)).toContain('rds:eu-west-1:');
    expect(grant.Resource).toContain(
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    expect(grant.Condition).toEqual({ Bool: { 'kms:GrantIsForAWSResource': 'true' } });
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
  it('deletes only instances tagged caretaker:managed=true', () => {
    const [del] = withAction(statementsOf('Restores RDS instances'), 'rds:DeleteDBInstance');

    expect(del.Condition).toEqual({ StringEquals: { 'rds:db-tag/caretaker:managed': 'true' } });
  });

  it('creates only resources tagged as managed in the request', () => {
    const [restore] = withAction(
      statementsOf('Restores RDS instances'),
      'rds:RestoreDBInstanceFromDBSnapshot',
    );

    expect(restore.Condition).toEqual({ StringEquals: { 'aws:RequestTag/caretaker:managed': 'true' } });
  });

  it('renames only the source, its restored copies and its parked original', () => {
    const [modify] = withAction(statementsOf('Restores RDS instances'), 'rds:ModifyDBInstance');
    const resources = flat(modify.Resource);

    expect(resources).toContain(':db:orders-prod"');
    expect(resources).toContain(':db:orders-prod-r*');
    expect(resources).toContain(':db:orders-prod-old-*');
    expect(resources).not.toContain(':db:*');
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
  it('deletes only snapshots tagged caretaker:managed=true, in the primary and DR regions', () => {
    const [del] = withAction(statementsOf('Applies retention'), 'rds:DeleteDBSnapshot');

    expect(del.Condition).toEqual({ StringEquals: { 'rds:snapshot-tag/caretaker:managed': 'true' } });
    expect(flat(del.Resource)).toContain('rds:eu-west-1:');
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
