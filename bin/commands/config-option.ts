/**
 * How every `caretaker` command that reads the Caretaker config is told which one: `--config FILE`,
 * or `-c config=FILE` as `cdk synth` and `cdk deploy` take it, so the command an operator deployed
 * with can be repeated word for word on `caretaker run`, `status`, `sandbox up` and `sandbox drill`.
 */

/** The parseArgs options both forms need. */
export const CONFIG_OPTIONS = {
  config: { type: 'string' },
  c: { type: 'string', short: 'c', multiple: true },
} as const;

/**
 * The config path the arguments give, or undefined when they give none. A `-c` other than
 * `config=FILE`, or two different paths, is a usage error (`usage` makes the command's own error).
 */
export function configPathOf(
  values: { readonly config?: string | undefined; readonly c?: readonly string[] | undefined },
  usage: (message: string) => Error,
): string | undefined {
  const paths = new Set<string>();
  if (values.config !== undefined) paths.add(values.config);
  for (const context of values.c ?? []) {
    const match = /^config=(.+)$/.exec(context);
    if (!match) throw usage(`-c takes config=FILE, as cdk does (got "${context}")`);
    paths.add(match[1]!);
  }
  if (paths.size > 1) throw usage(`two configs given (${[...paths].join(', ')}): give one`);
  return [...paths][0];
}
