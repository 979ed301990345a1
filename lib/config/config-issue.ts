/** A problem a config rule found, located by its path in the config (rendered as `backupSets[2].prefix`). */
export interface ConfigIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}
