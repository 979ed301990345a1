// Synthesizes the drill's stack in a process of its own, so that the drill's seeding (the sandbox,
// PostgreSQL, S3) goes on meanwhile: synthesis is synchronous and would hold the drill's event
// loop for its whole duration. Arguments: the config file and the output directory. Prints the
// assembly as one JSON line on stdout; bundling logs go to stderr.
import { register } from 'tsx/esm/api';

register();
const { synthesize } = await import('../deploy/index.ts');
const [configPath, outdir] = process.argv.slice(2);
const { assemblyDir, stackName } = synthesize({ configPath, outdir });
process.stdout.write(`${JSON.stringify({ assemblyDir, stackName })}\n`);
