/**
 * The template's side of docs/security.md: what each backup function may write and seal, and what
 * the backup bucket's policy refuses to everyone (writes under another key, bypassing Object Lock
 * governance retention but for the configured break-glass principal). The sandbox tests
 * (test/sandbox/security-stack.test.ts) prove the same refusals on the deployed template.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack, exampleConfig } from '../support/stack.ts';

type Built = ReturnType<typeof buildStack>;
let built: Built;

beforeAll(() => {
  built = buildStack();
});

/** Every statement of the role of the function whose description starts with `description`. */
function statementsOf(description: string, { template } = built): any[] {
  const [, fn] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, f]) =>
    String(f.Properties.Description).startsWith(description),
  )!;
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

const flat = (value: unknown) => JSON.stringify(built.stack.resolve(value));
const actionsOf = (statement: any): string[] => [statement.Action].flat();
const withAction = (statements: any[], action: string) =>
  statements.filter((statement) => actionsOf(statement).includes(action));

function bucketPolicy({ template } = built): any[] {
  const policies = Object.values(template.findResources('AWS::S3::BucketPolicy'));
  return policies
    .filter((policy) => JSON.stringify(policy.Properties.Bucket).includes('StorageBackups'))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

describe('backup-verify', () => {
  const verify = () => statementsOf('Reads a backup back');

  it('writes only verification records in the backup bucket', () => {
    const puts = withAction(verify(), 's3:PutObject');

    expect(puts).toHaveLength(1);
    expect(flat(puts[0].Resource)).toMatch(/\/backups\/\*\/verifications\/\*"/);
    expect(withAction(verify(), 's3:DeleteObject')).toEqual([]);
  });

  it('makes data keys for verification-record seals only', () => {
    const [generate] = withAction(verify(), 'kms:GenerateDataKey').filter(
      (s) => !flat(s).includes('kms:ViaService'),
    );

    expect(generate.Condition).toEqual({
      StringEquals: { 'kms:EncryptionContext:caretaker:purpose': ['verification-record'] },
    });
  });
});

describe('s3-backup', () => {
  const backup = () => statementsOf('Backs up an S3 prefix');

  it('may never seal a verification record, whatever else allows it', () => {
    const [deny] = backup().filter((s) => s.Effect === 'Deny');

    expect(actionsOf(deny)).toContain('kms:GenerateDataKey');
    expect(deny.Condition).toEqual({
      StringEquals: { 'kms:EncryptionContext:caretaker:purpose': ['verification-record'] },
    });
  });

  it("deletes only its work areas, never another backup's data", () => {
    const deletes = withAction(backup(), 's3:DeleteObject');

    expect(deletes).toHaveLength(1);
    expect(flat(deletes[0].Resource)).toMatch(/\/backups\/\*\/work\/\*"/);
  });
});

describe('backup-restore', () => {
  const restore = () => statementsOf('Restores a verified backup');

  it('writes in the backup bucket only its rollback points, and seals neither records nor catalog heads', () => {
    const puts = withAction(restore(), 's3:PutObject').filter((s) =>
      flat(s.Resource).includes('StorageBackups'),
    );
    const [deny] = restore().filter((s) => s.Effect === 'Deny');

    expect(puts).toHaveLength(1);
    expect(flat(puts[0].Resource)).toMatch(/\/backups\/_rollback-points\/\*"/);
    expect(deny.Condition.StringEquals['kms:EncryptionContext:caretaker:purpose']).toEqual([
      'verification-record',
      'catalog-head',
    ]);
  });

  it('writes outside the backup bucket only into the configured restore targets', () => {
    const targets = withAction(restore(), 's3:PutObject')
      .filter((s) => !flat(s.Resource).includes('StorageBackups'))
      .map((s) => flat(s.Resource));

    expect(targets).toHaveLength(1);
    expect(targets[0]).toContain(':s3:::example-app-uploads/*');
  });
});

describe('health-check', () => {
  it('reads manifests, seals, verification records and catalog heads, and opens seals only', () => {
    const statements = statementsOf('Checks endpoints');
    const [get] = withAction(statements, 's3:GetObject');
    const decrypts = withAction(statements, 'kms:Decrypt');

    expect(flat(get.Resource)).toContain('/backups/*/manifest.seal');
    expect(flat(get.Resource)).not.toMatch(/\/backups\/\*"/);
    expect(decrypts.every((s) => s.Condition !== undefined)).toBe(true);
  });
});

describe('the backup bucket policy', () => {
  it('denies writes that ask for another KMS key, SSE-S3, the AWS managed key or customer keys', () => {
    const denies = bucketPolicy().filter((s) => s.Effect === 'Deny' && actionsOf(s).includes('s3:PutObject'));

    expect(denies.map((s) => s.Sid).sort()).toEqual([
      'DenyWritesUnderAnotherKey',
      'DenyWritesUnderTheAwsManagedKey',
      'DenyWritesWithCustomerKeys',
      'DenyWritesWithoutTheStackKey',
    ]);
    const anotherKey = denies.find((s) => s.Sid === 'DenyWritesUnderAnotherKey');
    expect(anotherKey.Condition.Null).toEqual({ 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' });
    expect(anotherKey.Condition.StringNotEquals).toEqual({
      's3:x-amz-server-side-encryption-aws-kms-key-id': built.stack.resolve(built.stack.key.key.keyArn),
    });
  });

  it('denies bypassing governance retention to everyone when no break-glass principal is configured', () => {
    const [bypass] = bucketPolicy().filter((s) => s.Sid === 'DenyBypassingGovernanceRetention');

    expect(bypass).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:BypassGovernanceRetention',
    });
    expect(bypass.Condition).toBeUndefined();
  });

  it('denies it to everyone but the break-glass principal when one is configured', () => {
    const config = exampleConfig();
    const breakGlass = 'arn:aws:iam::111122223333:role/backup-break-glass';
    const withBreakGlass = buildStack({
      ...config,
      backupBucket: { ...config.backupBucket, breakGlassPrincipalArn: breakGlass },
    });

    const [bypass] = bucketPolicy(withBreakGlass).filter((s) => s.Sid === 'DenyBypassingGovernanceRetention');

    expect(bypass.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': breakGlass } });
  });
});
