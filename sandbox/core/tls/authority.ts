/**
 * The sandbox's certificate authority, kept in `<data-dir>/tls/` so that a client told to trust it
 * once (awscli's `--ca-bundle`, `AWS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`) keeps trusting the sandbox
 * across restarts, and the loopback server certificate it signs at every start.
 *
 * The CA signs only certificates for 127.0.0.1 and localhost, made by the sandbox itself; its key
 * never leaves the data directory (mode 0600). A sandbox with a fresh temporary data directory
 * makes a fresh CA.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCertificate } from './x509.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_NAME = 'Caretaker sandbox local CA';
/** The hosts a client may use to reach the sandbox; it listens on 127.0.0.1 only. */
export const SERVER_HOSTS = ['127.0.0.1', 'localhost'] as const;

/** What the HTTPS listener serves, and what clients must trust. */
export interface SandboxTlsMaterial {
  /** The CA certificate file clients trust (`--ca-bundle`). */
  readonly caPath: string;
  /** The CA certificate, PEM. */
  readonly caCertificate: string;
  /** The server certificate for 127.0.0.1 and localhost, PEM, signed by the CA. */
  readonly certificate: string;
  /** The server certificate's private key, PEM. */
  readonly privateKey: string;
}

interface Authority {
  readonly certificate: string;
  readonly privateKey: KeyObject;
}

function newKeyPair() {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** The stored CA when it is whole and valid for at least another 30 days. */
function storedAuthority(certificatePath: string, keyPath: string): Authority | undefined {
  if (!existsSync(certificatePath) || !existsSync(keyPath)) return undefined;
  try {
    const certificate = readFileSync(certificatePath, 'utf8');
    const privateKey = createPrivateKey(readFileSync(keyPath, 'utf8'));
    const parsed = new X509Certificate(certificate);
    const pairs = parsed.publicKey
      .export({ type: 'spki', format: 'der' })
      .equals(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
    if (!pairs || !parsed.ca || Date.parse(parsed.validTo) < Date.now() + 30 * DAY_MS) return undefined;
    return { certificate, privateKey };
  } catch (error) {
    console.error(`[sandbox] the stored CA in ${certificatePath} is unusable, making a new one:`, error);
    return undefined;
  }
}

function createAuthority(certificatePath: string, keyPath: string): Authority {
  const { publicKey, privateKey } = newKeyPair();
  const now = Date.now();
  const certificate = createCertificate({
    kind: 'authority',
    commonName: CA_NAME,
    publicKey,
    signingKey: privateKey,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 3650 * DAY_MS),
  });
  writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certificatePath, certificate, { mode: 0o644 });
  return { certificate, privateKey };
}

/**
 * Loads the data directory's CA (making it on first use) and issues this run's server certificate.
 * Synchronous and quick (EC P-256): it runs once as the sandbox starts.
 */
export function prepareTls(dataDir: string): SandboxTlsMaterial {
  const directory = join(dataDir, 'tls');
  mkdirSync(directory, { recursive: true });
  const caPath = join(directory, 'ca.pem');
  const keyPath = join(directory, 'ca-key.pem');
  const authority = storedAuthority(caPath, keyPath) ?? createAuthority(caPath, keyPath);
  const server = newKeyPair();
  const now = Date.now();
  const certificate = createCertificate({
    kind: 'server',
    commonName: '127.0.0.1',
    hosts: SERVER_HOSTS,
    publicKey: server.publicKey,
    issuer: { commonName: CA_NAME, publicKey: createPublicKey(authority.privateKey) },
    signingKey: authority.privateKey,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 397 * DAY_MS),
  });
  return {
    caPath,
    caCertificate: authority.certificate,
    certificate,
    privateKey: server.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
