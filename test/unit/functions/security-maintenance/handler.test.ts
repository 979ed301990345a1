/**
 * functions/security-maintenance: which pending actions are security patches and their order
 * (pure), then the report: pending actions per RDS target (RDS through aws-sdk-client-mock) and the
 * rotation of real keys in the sandbox's KMS, in the stack's region and a DR region.
 */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  EnableKeyRotationCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribePendingMaintenanceActionsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { rdsTarget } from '#common/config/config-sections';
import { byUrgency, isSecurityAction } from '../../../../functions/security-maintenance/classify.ts';
import { kmsService } from '../../../../sandbox/services/kms/index.ts';
import { withSandbox } from '../../../support/sandbox.ts';

withSandbox([kmsService]);
const rds = mockClient(RDSClient);
const ORDERS_ARN = 'arn:aws:rds:us-east-1:000000000000:db:orders-prod';
let stackKey: string;
let securityReport: typeof import('../../../../functions/security-maintenance/handler.ts')['securityReport'];
let keysToCheck: typeof import('../../../../functions/security-maintenance/handler.ts')['keysToCheck'];
let drKey: string;

const targets = () => [
  rdsTarget.parse({
    name: 'orders',
    identifier: 'orders-prod',
    retention: 'standard',
    crossRegionCopy: { region: 'eu-west-1', kmsKeyArn: drKey },
  }),
  rdsTarget.parse({ name: 'ledger', type: 'cluster', identifier: 'ledger-prod', retention: 'standard' }),
];

beforeAll(async () => {
  // The handler reads its key at cold start.
  process.env.STACK_KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/cold-start';
  ({ securityReport, keysToCheck } = await import('../../../../functions/security-maintenance/handler.ts'));
  const home = new KMSClient({});
  stackKey = (await home.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
  await home.send(new EnableKeyRotationCommand({ KeyId: stackKey }));
  drKey = (await new KMSClient({ region: 'eu-west-1' }).send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;

  rds
    .on(DescribeDBInstancesCommand)
    .resolves({ DBInstances: [{ DBInstanceIdentifier: 'orders-prod', DBInstanceArn: ORDERS_ARN }] });
  rds.on(DescribeDBClustersCommand).rejects(
    Object.assign(new Error('DBCluster ledger-prod not found.'), {
      name: 'DBClusterNotFoundFault',
      $metadata: {},
    }),
  );
  rds.on(DescribePendingMaintenanceActionsCommand, { ResourceIdentifier: ORDERS_ARN }).resolves({
    PendingMaintenanceActions: [
      {
        ResourceIdentifier: ORDERS_ARN,
        PendingMaintenanceActionDetails: [
          {
            Action: 'db-upgrade',
            Description: 'Minor version upgrade',
            AutoAppliedAfterDate: new Date('2026-12-01T00:00:00Z'),
          },
          {
            Action: 'system-update',
            Description: 'New Operating System update is available',
            ForcedApplyDate: new Date('2026-12-15T00:00:00Z'),
          },
        ],
      },
    ],
  });
});

describe('classify', () => {
  it('counts OS and system updates, certificate rotations and security wording as security patches', () => {
    expect(isSecurityAction('system-update')).toBe(true);
    expect(isSecurityAction('ca-certificate-rotation')).toBe(true);
    expect(isSecurityAction('db-upgrade', 'Fixes CVE-2026-1234 in the engine')).toBe(true);
    expect(isSecurityAction('db-upgrade', 'Minor version upgrade')).toBe(false);
  });

  it('lists security patches first, then by the date AWS applies them', () => {
    const actions = [
      { action: 'db-upgrade', security: false, autoAppliedAfter: '2026-11-30T00:00:00.000Z' },
      { action: 'system-update', security: true, forcedApplyDate: '2027-01-01T00:00:00.000Z' },
      { action: 'ca-certificate-rotation', security: true, autoAppliedAfter: '2026-12-01T00:00:00.000Z' },
    ];

    expect([...actions].sort(byUrgency).map((a) => a.action)).toEqual([
      'ca-certificate-rotation',
      'system-update',
      'db-upgrade',
    ]);
  });
});

describe('securityReport', () => {
  it('reports pending actions per target, security first, and a target it cannot find with the reason', async () => {
    const report = await securityReport(
      {
        rds: new RDSClient({}),
        kms: (region) => new KMSClient(region ? { region } : {}),
        now: new Date('2026-11-21T01:00:00Z'),
      },
      targets(),
      [],
      'us-east-1',
    );

    expect(report.pendingMaintenance).toEqual([
      {
        target: 'orders',
        type: 'instance',
        identifier: 'orders-prod',
        resourceArn: ORDERS_ARN,
        actions: [
          {
            action: 'system-update',
            description: 'New Operating System update is available',
            security: true,
            forcedApplyDate: '2026-12-15T00:00:00.000Z',
          },
          {
            action: 'db-upgrade',
            description: 'Minor version upgrade',
            security: false,
            autoAppliedAfter: '2026-12-01T00:00:00.000Z',
          },
        ],
      },
      {
        target: 'ledger',
        type: 'cluster',
        identifier: 'ledger-prod',
        actions: [],
        error: { name: 'NotFoundError', message: 'DB cluster ledger-prod does not exist' },
      },
    ]);
  });

  it('reads the rotation of the stack key and the DR copy key in its own region, and names a key it cannot read', async () => {
    const missing = 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000';
    const keys = keysToCheck(stackKey, targets(), [missing, stackKey]);

    const report = await securityReport(
      { rds: new RDSClient({}), kms: (region) => new KMSClient(region ? { region } : {}), now: new Date() },
      [],
      keys,
      'us-east-1',
    );

    expect(keys.map((k) => k.role)).toEqual(['stack', 'dr-copy', 'configured']);
    expect(report.keys).toEqual([
      expect.objectContaining({
        keyArn: stackKey,
        role: 'stack',
        region: 'us-east-1',
        rotationEnabled: true,
      }),
      expect.objectContaining({
        keyArn: drKey,
        role: 'dr-copy',
        region: 'eu-west-1',
        rotationEnabled: false,
      }),
      expect.objectContaining({
        keyArn: missing,
        role: 'configured',
        rotationEnabled: null,
        error: expect.objectContaining({ name: 'NotFoundError' }),
      }),
    ]);
  });

  it('reads the rotation of a key named by its alias ARN, through the key the alias points to', async () => {
    const dr = new KMSClient({ region: 'eu-west-1' });
    const key = (await dr.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await dr.send(new EnableKeyRotationCommand({ KeyId: key }));
    await dr.send(new CreateAliasCommand({ AliasName: 'alias/caretaker-dr-copies', TargetKeyId: key }));
    const aliasArn = 'arn:aws:kms:eu-west-1:000000000000:alias/caretaker-dr-copies';

    const report = await securityReport(
      { rds: new RDSClient({}), kms: (region) => new KMSClient(region ? { region } : {}), now: new Date() },
      [],
      [{ keyArn: aliasArn, role: 'dr-copy' }],
      'us-east-1',
    );

    expect(report.keys).toEqual([
      expect.objectContaining({ keyArn: aliasArn, region: 'eu-west-1', rotationEnabled: true }),
    ]);
    expect(report.keys[0]).not.toHaveProperty('error');
  });
});
