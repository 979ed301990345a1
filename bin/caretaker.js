#!/usr/bin/env node
// The Caretaker CLI entry point. In this repository it runs the TypeScript sources through tsx;
// the built package ships no bin/*.ts and runs the compiled CLI in dist/ (npm run build:package).
import { existsSync } from 'node:fs';

if (existsSync(new URL('./caretaker.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./caretaker.ts');
} else {
  await import('../dist/bin/caretaker.js');
}
