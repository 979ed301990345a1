/**
 * Action and Resource matching: wildcards, case rules, ARN components, NotAction and NotResource.
 * Sources: IAM User Guide, "IAM JSON policy elements: Action", "Resource", "NotAction",
 * "NotResource" and the ARN operators' description in "Condition operators".
 */
import { describe, expect, it } from 'vitest';
import { allowCovers, BUCKET_ARN, OBJECT_ARN } from './support.ts';

describe('Action', () => {
  it('matches the action named', () => {
    expect(allowCovers({ Action: 's3:GetObject', Resource: '*' }, 's3:GetObject', OBJECT_ARN)).toBe(true);
  });

  it('does not match another action', () => {
    expect(allowCovers({ Action: 's3:GetObject', Resource: '*' }, 's3:PutObject', OBJECT_ARN)).toBe(false);
  });

  it('ignores case in the service prefix and the action name', () => {
    expect(allowCovers({ Action: 'S3:getobject', Resource: '*' }, 's3:GetObject', OBJECT_ARN)).toBe(true);
  });

  it('takes * for any run of characters', () => {
    expect(
      allowCovers(
        { Action: 'kms:GenerateDataKey*', Resource: '*' },
        'kms:GenerateDataKeyWithoutPlaintext',
        '*',
      ),
    ).toBe(true);
    expect(allowCovers({ Action: 'kms:GenerateDataKey*', Resource: '*' }, 'kms:GenerateDataKey', '*')).toBe(
      true,
    );
  });

  it('takes * inside an action name', () => {
    expect(allowCovers({ Action: 'iam:*AccessKey*', Resource: '*' }, 'iam:ListAccessKeys', '*')).toBe(true);
    expect(allowCovers({ Action: 'iam:*AccessKey*', Resource: '*' }, 'iam:ListUsers', '*')).toBe(false);
  });

  it('takes ? for exactly one character', () => {
    expect(allowCovers({ Action: 's3:?etObject', Resource: '*' }, 's3:GetObject', OBJECT_ARN)).toBe(true);
    expect(allowCovers({ Action: 's3:?etObject', Resource: '*' }, 's3:GetObjectTagging', OBJECT_ARN)).toBe(
      false,
    );
  });

  it('does not let a wildcard stand for another service', () => {
    expect(allowCovers({ Action: 's3:*', Resource: '*' }, 'kms:Decrypt', '*')).toBe(false);
  });

  it('takes * alone for every action', () => {
    expect(allowCovers({ Action: '*', Resource: '*' }, 'rds:DeleteDBInstance', '*')).toBe(true);
  });

  it('matches any entry of a list', () => {
    expect(
      allowCovers({ Action: ['s3:GetObject', 's3:PutObject'], Resource: '*' }, 's3:PutObject', OBJECT_ARN),
    ).toBe(true);
  });
});

describe('NotAction', () => {
  it('covers every action it does not list', () => {
    expect(allowCovers({ NotAction: 's3:DeleteObject', Resource: '*' }, 's3:PutObject', OBJECT_ARN)).toBe(
      true,
    );
  });

  it('does not cover an action it lists', () => {
    expect(
      allowCovers({ NotAction: ['s3:Delete*', 'kms:*'], Resource: '*' }, 's3:DeleteObject', OBJECT_ARN),
    ).toBe(false);
  });
});

describe('Resource', () => {
  it('matches the ARN named', () => {
    expect(allowCovers({ Action: 's3:ListBucket', Resource: BUCKET_ARN }, 's3:ListBucket', BUCKET_ARN)).toBe(
      true,
    );
  });

  it('is case-sensitive', () => {
    expect(
      allowCovers(
        { Action: 's3:ListBucket', Resource: 'arn:aws:s3:::Caretaker-Backups' },
        's3:ListBucket',
        BUCKET_ARN,
      ),
    ).toBe(false);
  });

  it('takes * for any run of characters in the resource part, slashes included', () => {
    expect(
      allowCovers({ Action: 's3:GetObject', Resource: `${BUCKET_ARN}/*` }, 's3:GetObject', OBJECT_ARN),
    ).toBe(true);
  });

  it('does not match the bucket with an objects pattern', () => {
    expect(
      allowCovers({ Action: 's3:ListBucket', Resource: `${BUCKET_ARN}/*` }, 's3:ListBucket', BUCKET_ARN),
    ).toBe(false);
  });

  it('takes ? for exactly one character', () => {
    const resource = 'arn:aws:rds:us-east-1:111122223333:db:orders-prod-r?';

    expect(
      allowCovers(
        { Action: 'rds:ModifyDBInstance', Resource: resource },
        'rds:ModifyDBInstance',
        'arn:aws:rds:us-east-1:111122223333:db:orders-prod-r1',
      ),
    ).toBe(true);
    expect(
      allowCovers(
        { Action: 'rds:ModifyDBInstance', Resource: resource },
        'rds:ModifyDBInstance',
        'arn:aws:rds:us-east-1:111122223333:db:orders-prod-r12',
      ),
    ).toBe(false);
  });

  it('matches each ARN component on its own, so a wildcard does not reach past a colon', () => {
    const resource = 'arn:aws:rds:*:111122223333:db:*';

    expect(
      allowCovers(
        { Action: 'rds:DeleteDBInstance', Resource: resource },
        'rds:DeleteDBInstance',
        'arn:aws:rds:eu-west-1:111122223333:db:orders',
      ),
    ).toBe(true);
    expect(
      allowCovers(
        { Action: 'rds:DeleteDBInstance', Resource: 'arn:aws:rds:*:db:*' },
        'rds:DeleteDBInstance',
        'arn:aws:rds:eu-west-1:111122223333:db:orders',
      ),
    ).toBe(false);
  });

  it('lets a wildcard in the resource part cover further colons', () => {
    const logs = 'arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/backup:*';

    expect(
      allowCovers(
        { Action: 'logs:PutLogEvents', Resource: logs },
        'logs:PutLogEvents',
        'arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/backup:log-stream:abc',
      ),
    ).toBe(true);
  });

  it('takes * alone for every resource, and a request on "*" only with it', () => {
    expect(
      allowCovers({ Action: 'xray:PutTraceSegments', Resource: '*' }, 'xray:PutTraceSegments', '*'),
    ).toBe(true);
    expect(
      allowCovers(
        { Action: 'kms:ListKeys', Resource: 'arn:aws:kms:*:111122223333:key/*' },
        'kms:ListKeys',
        '*',
      ),
    ).toBe(false);
  });
});

describe('NotResource', () => {
  it('covers every resource it does not list', () => {
    expect(
      allowCovers(
        { Action: 's3:GetObject', NotResource: 'arn:aws:s3:::secrets/*' },
        's3:GetObject',
        OBJECT_ARN,
      ),
    ).toBe(true);
  });

  it('does not cover a resource it lists', () => {
    expect(
      allowCovers({ Action: 's3:GetObject', NotResource: `${BUCKET_ARN}/*` }, 's3:GetObject', OBJECT_ARN),
    ).toBe(false);
  });
});
