/**
 * `npm run build:package`: builds the package a team installs into its CDK app. tsc compiles lib/
 * and bin/ (with the functions/common modules they import) to JavaScript with type declarations
 * in dist/. The Lambda functions are not run from dist/: the construct bundles them with esbuild at
 * synth from their TypeScript sources, which the package ships as they are (package.json `files`).
 *
 * dist/ gets its own package.json: Node resolves `#common/*` (package.json `imports`) from the
 * nearest package.json, so the compiled CLI finds the compiled modules while the sources, tests
 * and esbuild keep resolving them to TypeScript through the root package.json. The ASL files are
 * copied beside the compiled code, which reads them relative to itself as the sources do.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

rmSync('dist', { recursive: true, force: true });
execFileSync('tsc', ['-p', 'tsconfig.build.json'], { stdio: 'inherit' });
writeFileSync(
  'dist/package.json',
  `${JSON.stringify(
    {
      type: 'module',
      version: manifest.version,
      imports: { '#common/*': './functions/common/*.js' },
    },
    null,
    2,
  )}\n`,
);
cpSync('statemachines', 'dist/statemachines', { recursive: true });
console.log('built dist/');
