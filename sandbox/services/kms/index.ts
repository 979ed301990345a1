/**
 * KMS emulation (JSON 1.1, `X-Amz-Target: TrentService.<Operation>`): symmetric keys with real
 * AES-256-GCM, aliases, rotation flags, tags and key states, per region, persisted in the data
 * directory. See docs/sandbox.md for what is and is not emulated.
 */
import { sendJson } from '../../core/responses.ts';
import type { SandboxContext } from '../../core/server.ts';
import { AwsError, type SandboxService } from '../../core/types.ts';
import { CRYPTO_OPERATIONS } from './crypto-operations.ts';
import { JsonInput, parseJsonBody } from './input.ts';
import { KEY_OPERATIONS, type Operation } from './key-operations.ts';
import { type KeyMetadata, KeyStore } from './keystore.ts';

export type { KeyMetadata, KeyState } from './keystore.ts';

/** The KMS service, with an in-process API for other emulated services. */
export interface KmsService extends SandboxService {
  readonly signingName: 'kms';
  /**
   * The key a key id, key ARN, alias name or alias ARN names in `region`, or undefined when there
   * is none (RDS uses it to honour KmsKeyId). Check `KeyState` before treating it as usable.
   */
  describeKey(region: string, keyIdOrArnOrAlias: string): KeyMetadata | undefined;
}

const TARGET_PREFIX = 'TrentService.';
const MAX_REQUEST_BYTES = 1024 * 1024;
const OPERATIONS: ReadonlyMap<string, Operation> = new Map(
  Object.entries({ ...KEY_OPERATIONS, ...CRYPTO_OPERATIONS }),
);

/** Creates the KMS service; keys created by an earlier run with the same data directory are loaded. */
export function kmsService(context: SandboxContext): KmsService {
  const store = new KeyStore(context.dataDir, context.accountId);
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
      sendJson(res, 200, operation({ store, region: req.region }, input));
    },
    describeKey(region, keyIdOrArnOrAlias) {
      const key = store.find(region, keyIdOrArnOrAlias);
      return key && store.metadata(key);
    },
  };
}
