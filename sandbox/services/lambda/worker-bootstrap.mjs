/**
 * Entry point of a Lambda worker thread: registers tsx in this thread (loader hooks do not cross
 * into workers on their own) so TypeScript handlers and `#common/*` imports load, then starts the
 * runtime.
 */
import { register } from 'tsx/esm/api';

register();
await import('./worker-runtime.ts');
