/**
 * Entry point of a Lambda worker thread: trusts the CA bundle named by the function's
 * NODE_EXTRA_CA_CERTS, registers tsx in this thread (loader hooks do not cross into workers on
 * their own) so TypeScript handlers and `#common/*` imports load, then starts the runtime.
 *
 * Node reads NODE_EXTRA_CA_CERTS once, when the process starts; a worker's own environment cannot
 * change what the process trusts, and the sandbox's HTTPS endpoint is signed by a CA made at run
 * time. So the bootstrap applies the variable's meaning itself, for this thread only, as the Lambda
 * runtime trusts its bundle: the default CAs plus the file's.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { register } from 'tsx/esm/api';

const extra = process.env.NODE_EXTRA_CA_CERTS;
if (extra) {
  const bundle = readFileSync(extra, 'utf8');
  if (typeof tls.setDefaultCACertificates === 'function') {
    // Node >= 22.19 / 24.5: the documented, per-thread default store.
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), bundle]);
  } else {
    // Node 20: every secure context made without its own `ca` also trusts the bundle.
    const createSecureContext = tls.createSecureContext;
    tls.createSecureContext = function trustingBundle(options) {
      const context = createSecureContext.call(this, options);
      if (!options?.ca) context.context.addCACert(bundle);
      return context;
    };
  }
}

register();
await import('./worker-runtime.ts');
