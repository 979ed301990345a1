/**
 * The crypto that checks seals (manifests, verification records, the catalog head) in functions
 * that never encrypt backup data themselves (health-check, cleanup): the stack key from
 * BACKUP_KEY_ARN, plus BACKUP_TRUSTED_KEY_ARNS (keys older backups were sealed under), read once.
 */

import { ENV, OPERATOR_ENV } from '../contract.ts';
import { requireEnv } from '../runtime/env.ts';
import { type BackupCrypto, backupCrypto } from './crypto.ts';

let crypto: BackupCrypto | undefined;

/** The seal-checking crypto of this function's environment (made on first use, then kept). */
export function sealCrypto(): BackupCrypto {
  if (!crypto) {
    const keyArn = requireEnv(ENV.backupKeyArn);
    const older = (process.env[OPERATOR_ENV.backupTrustedKeyArns] ?? '')
      .split(',')
      .map((arn) => arn.trim())
      .filter(Boolean);
    crypto = backupCrypto({ keyArn, trustedKeyArns: [keyArn, ...older] });
  }
  return crypto;
}
