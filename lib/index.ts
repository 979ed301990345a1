/**
 * Caretaker as a library (`caretaker`): the construct for a team's own CDK app, the stack and app
 * this repository deploys with, and the config contract.
 */
export { type CaretakerAppOptions, caretakerApp } from './app.ts';
export { Caretaker, type CaretakerProps, MANAGED_TAG } from './caretaker.ts';
export { CaretakerStack, type CaretakerStackProps } from './caretaker-stack.ts';
export * from './config/index.ts';
export { FEATURE_FLAGS } from './feature-flags.ts';
