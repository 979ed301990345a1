/**
 * `npm run docs:config`: regenerates config/caretaker.schema.json and the field tables of
 * docs/config-reference.md from the config schema. With `--check` it writes nothing and exits 1
 * when a committed file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { configGeneratedFiles } from '../lib/config/generated-files.ts';

const check = process.argv.includes('--check');
let stale = 0;
for (const file of configGeneratedFiles(`${process.cwd()}/`)) {
  const current = readFileSync(file.path, 'utf8');
  if (current === file.text) continue;
  if (check) {
    console.error(`${file.path} is stale: run npm run docs:config`);
    stale += 1;
  } else {
    writeFileSync(file.path, file.text);
    console.log(`wrote ${file.path}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
