/**
 * Just enough X.509 (RFC 5280) in DER to make the sandbox's own certificate authority and the
 * loopback server certificate it signs: ECDSA P-256 keys, SHA-256 signatures, and the extensions
 * OpenSSL, Node and Python check (basic constraints, key usage, extended key usage, subject
 * alternative names, key identifiers). Node can parse and verify certificates but cannot make one,
 * and neither an npm dependency nor the openssl binary is worth requiring for two certificates.
 */
import { createHash, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

function length(size: number): Buffer {
  if (size < 0x80) return Buffer.from([size]);
  const bytes: number[] = [];
  for (let rest = size; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER element: tag, length, content. */
function element(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...items: Buffer[]) => element(0x30, ...items);
const set = (...items: Buffer[]) => element(0x31, ...items);
const octets = (bytes: Buffer) => element(0x04, bytes);
const utf8 = (text: string) => element(0x0c, Buffer.from(text, 'utf8'));
const explicit = (tagNumber: number, content: Buffer) => element(0xa0 + tagNumber, content);

/** A non-negative INTEGER from big-endian bytes (a leading zero keeps the sign bit clear). */
function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return element(0x02, (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function objectIdentifier(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      groups.unshift(value % 128);
      if (value < 128) break;
    }
    bytes.push(...groups.map((group, index) => (index < groups.length - 1 ? group | 0x80 : group)));
  }
  return element(0x06, Buffer.from(bytes));
}

/** UTCTime through 2049, GeneralizedTime after, as RFC 5280 §4.1.2.5 requires. */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return date.getUTCFullYear() < 2050
    ? element(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : element(0x18, Buffer.from(`${iso}Z`));
}

/** A BIT STRING of whole bytes. */
function bits(bytes: Buffer, unusedBits = 0): Buffer {
  return element(0x03, Buffer.from([unusedBits]), bytes);
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

function name(commonName: string): Buffer {
  return sequence(
    set(sequence(objectIdentifier(OID.organization), utf8('Caretaker sandbox'))),
    set(sequence(objectIdentifier(OID.commonName), utf8(commonName))),
  );
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(
    objectIdentifier(oid),
    ...(critical ? [element(0x01, Buffer.from([0xff]))] : []),
    octets(value),
  );
}

/** The key identifier of a public key: a hash of its SubjectPublicKeyInfo (RFC 7093 allows any). */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest()
    .subarray(0, 20);
}

export interface CertificateRequest {
  readonly commonName: string;
  /** The subject's public key. */
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** A certificate authority (may sign certificates), or a TLS server certificate. */
  readonly kind: 'authority' | 'server';
  /** Server certificates: the host names and IP addresses it is valid for. */
  readonly hosts?: readonly string[];
  /** The signer's name and key; a self-signed certificate when omitted. */
  readonly issuer?: { readonly commonName: string; readonly publicKey: KeyObject };
  /** The key that signs (the issuer's, or the subject's own for a self-signed certificate). */
  readonly signingKey: KeyObject;
}

function subjectAltNames(hosts: readonly string[]): Buffer {
  return sequence(
    ...hosts.map((host) => {
      if (isIP(host) === 4) return element(0x87, Buffer.from(host.split('.').map(Number)));
      if (isIP(host) === 6) throw new Error(`IPv6 subject alternative names are not supported: ${host}`);
      return element(0x82, Buffer.from(host, 'ascii'));
    }),
  );
}

/** Makes and signs one certificate; returns it as PEM. */
export function createCertificate(request: CertificateRequest): string {
  const issuer = request.issuer ?? { commonName: request.commonName, publicKey: request.publicKey };
  const authority = request.kind === 'authority';
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  const extensions = [
    extension(
      OID.basicConstraints,
      true,
      authority ? sequence(element(0x01, Buffer.from([0xff]))) : sequence(),
    ),
    // keyCertSign and cRLSign (bits 5, 6) for the authority, digitalSignature (bit 0) for a server.
    extension(OID.keyUsage, true, authority ? bits(Buffer.from([0x06]), 1) : bits(Buffer.from([0x80]), 7)),
    ...(authority
      ? []
      : [extension(OID.extendedKeyUsage, false, sequence(objectIdentifier(OID.serverAuth)))]),
    ...(authority ? [] : [extension(OID.subjectAltName, false, subjectAltNames(request.hosts ?? []))]),
    extension(OID.subjectKeyIdentifier, false, octets(keyIdentifier(request.publicKey))),
    extension(OID.authorityKeyIdentifier, false, sequence(element(0x80, keyIdentifier(issuer.publicKey)))),
  ];
  const algorithm = sequence(objectIdentifier(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    name(issuer.commonName),
    sequence(time(request.notBefore), time(request.notAfter)),
    name(request.commonName),
    request.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, request.signingKey);
  const der = sequence(tbs, algorithm, bits(signature));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
