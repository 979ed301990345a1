/**
 * KMS emulation (JSON 1.1, `X-Amz-Target: TrentService.<Operation>`): symmetric keys with real
 * AES-256-GCM, aliases, rotation flags, tags and key states, per region, persisted in the data
 * directory. See docs/sandbox.md for what is and is not emulated.
 */
import { sendJson } from '../../core/responses.ts';
import type { SandboxContext } from '../../core/server.ts';
import { AwsError, type SandboxService } from '../../core/types.ts';
import { parsePolicy } from '../../iam/index.ts';
import type { IamRegistry, PolicyDocument } from '../../iam-registry/index.ts';
import { type KmsAuthorizationView, type KmsKeyFacts, kmsAccessChecks } from './authorization.ts';
import { blobKeyId } from './ciphertext.ts';
import { CRYPTO_OPERATIONS } from './crypto-operations.ts';
import { JsonInput, parseJsonBody } from './input.ts';
import { KEY_OPERATIONS, type Operation } from './key-operations.ts';
import { type Key, type KeyMetadata, KeyStore } from './keystore.ts';

export type { KeyMetadata, KeyState } from './keystore.ts';

/** The KMS service, with an in-process API for other emulated services. */
export interface KmsService extends SandboxService {
  readonly signingName: 'kms';
  /**
   * The key a key id, key ARN, alias name or alias ARN names in `region`, or undefined when there
   * is none (RDS uses it to honour KmsKeyId). Check `KeyState` before treating it as usable.
   */
  describeKey(region: string, keyIdOrArnOrAlias: string): KeyMetadata | undefined;
  /** What IAM needs to know about a key (ARN, tags, aliases), for services calling KMS on a caller's behalf. */
  keyFacts(region: string, keyIdOrArnOrAlias: string): KmsKeyFacts | undefined;
}

const TARGET_PREFIX = 'TrentService.';
const MAX_REQUEST_BYTES = 1024 * 1024;
const OPERATIONS: ReadonlyMap<string, Operation> = new Map(
  Object.entries({ ...KEY_OPERATIONS, ...CRYPTO_OPERATIONS }),
);

/** CreateKey's Policy, checked as KMS checks it (a JSON policy document IAM accepts). */
function keyPolicyOf(input: JsonInput): PolicyDocument | undefined {
  const text = input.string('Policy');
  if (text === undefined) return undefined;
  try {
    const document = JSON.parse(text) as unknown;
    parsePolicy(document, { name: 'Policy', type: 'resource' });
    return document as PolicyDocument;
  } catch (error) {
    throw new AwsError(
      'MalformedPolicyDocumentException',
      `The key policy is malformed: ${(error as Error).message}`,
    );
  }
}

/** A key made with a Policy keeps it as its key policy, in the IAM registry the enforcer reads. */
function keepKeyPolicy(context: SandboxContext, result: unknown, document: PolicyDocument): void {
  const arn = (result as { KeyMetadata?: { Arn?: string } }).KeyMetadata?.Arn;
  const registry = context.service<IamRegistry>('iam');
  if (arn && registry) registry.putResourcePolicy({ resourceArn: arn, source: 'CreateKey', document });
}

/** Creates the KMS service; keys created by an earlier run with the same data directory are loaded. */
export function kmsService(context: SandboxContext): KmsService {
  const store = new KeyStore(context.dataDir, context.accountId);

  function facts(region: string, key: Key): KmsKeyFacts {
    return {
      arn: key.arn,
      tags: { ...key.record.tags },
      aliases: store.listAliases(region, key.record.keyId).map((alias) => alias.name),
    };
  }

  function view(region: string): KmsAuthorizationView {
    return {
      region,
      accountId: context.accountId,
      key(identifier) {
        const key = store.find(region, identifier);
        return key && facts(region, key);
      },
      keyOfCiphertext(blob) {
        const keyId = blobKeyId(blob);
        const key = keyId === undefined ? undefined : store.find(region, keyId, 'key');
        return key && facts(region, key);
      },
      aliasArn: (aliasName) => store.aliasArn(region, aliasName.replace(/^arn:[^/]*:alias\//, 'alias/')),
    };
  }

  return {
    signingName: 'kms',
    protocol: 'json',
    async handle(req, res) {
      const target = req.headers['x-amz-target'];
      const name =
        typeof target === 'string' && target.startsWith(TARGET_PREFIX)
          ? target.slice(TARGET_PREFIX.length)
          : '';
      const operation = OPERATIONS.get(name);
      if (req.method !== 'POST' || !operation) {
        throw new AwsError(
          'UnknownOperationException',
          `The sandbox's KMS does not support "${String(target ?? '')}"`,
        );
      }
      const input = new JsonInput(parseJsonBody(await req.readBody(MAX_REQUEST_BYTES)));
      req.authorize(kmsAccessChecks(name, input, view(req.region)), name);
      const keyPolicy = name === 'CreateKey' ? keyPolicyOf(input) : undefined;
      const result = operation({ store, region: req.region }, input);
      if (keyPolicy) keepKeyPolicy(context, result, keyPolicy);
      sendJson(res, 200, result);
    },
    describeKey(region, keyIdOrArnOrAlias) {
      const key = store.find(region, keyIdOrArnOrAlias);
      return key && store.metadata(key);
    },
    keyFacts(region, keyIdOrArnOrAlias) {
      const key = store.find(region, keyIdOrArnOrAlias);
      return key && facts(region, key);
    },
  };
}
