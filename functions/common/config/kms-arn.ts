/**
 * KMS key references in config: a key ARN (`…:key/<id>`) or an alias ARN (`…:alias/<name>`).
 * Some KMS operations (GetKeyRotationStatus, …) take keys only, and IAM authorizes on the key, so
 * the stack and the functions both need to tell them apart.
 */

/** `arn:<partition>:kms:<region>:<account>:alias/<name>`. */
export function isKmsAliasArn(arn: string): boolean {
  return /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//.test(arn);
}
