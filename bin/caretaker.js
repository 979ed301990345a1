#!/usr/bin/env node
// The Caretaker CLI entry point: loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./caretaker.ts');
