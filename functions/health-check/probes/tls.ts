/**
 * TLS certificate probe: a handshake that accepts any certificate (the check is about expiry, so
 * an untrusted or self-signed certificate is still measured), then a pure evaluation of the days
 * left against the threshold. Whether the chain and name verified is recorded as evidence.
 */
import { isIP, type LookupFunction } from 'node:net';
import tls from 'node:tls';
import type { TlsCheck } from '../check-set.ts';
import type { CheckOutcome } from '../evaluate.ts';
import { guardedLookup, refusedTarget } from '../forbidden-address.ts';
import { describeError, ProbeTimeoutError } from './errors.ts';

const DAY_MS = 86_400_000;

/** What the handshake showed about the server's certificate. */
export interface PeerCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: Date;
  readonly validTo: Date;
  readonly altNames?: string;
  readonly fingerprint256?: string;
  readonly serialNumber?: string;
  /** Whether the chain verified against the trusted CAs and matched the host name. */
  readonly authorized: boolean;
  /** Why not, when not (e.g. DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID). */
  readonly authorizationError?: string;
  readonly protocol?: string;
}

export interface TlsProbeOptions {
  readonly lookup?: LookupFunction;
  /** Trusted CA certificates instead of Node's default store (tests); only affects the `authorized` evidence. */
  readonly ca?: string | readonly string[];
  readonly signal?: AbortSignal;
}

function distinguishedName(name: unknown): string {
  if (!name || typeof name !== 'object') return '';
  return Object.entries(name as Record<string, unknown>)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : String(value)}`)
    .join(', ');
}

/** Connects, reads the peer certificate and closes. Rejects on connect errors and timeouts. */
export function readPeerCertificate(
  check: TlsCheck,
  options: TlsProbeOptions = {},
): Promise<PeerCertificate> {
  // Validation refuses forbidden literals already; refusing here too keeps the probe safe on its
  // own, and the runtime API's host:port is only known at run time.
  const refused = refusedTarget(check.host, check.port);
  if (refused) return Promise.reject(refused);
  return new Promise<PeerCertificate>((resolve, reject) => {
    const socket = tls.connect({
      host: check.host,
      port: check.port,
      // SNI takes host names only; sending an IP address there is a protocol violation.
      ...(isIP(check.host) === 0 ? { servername: check.host } : {}),
      rejectUnauthorized: false,
      // The address a name resolves to is checked in the lookup the connection uses: DNS cannot smuggle one in.
      lookup: guardedLookup(options.lookup, check.port),
      ...(options.ca ? { ca: [...(Array.isArray(options.ca) ? options.ca : [options.ca])] } : {}),
    });
    const finish = (outcome: () => void) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      outcome();
    };
    const timer = setTimeout(
      () => finish(() => reject(new ProbeTimeoutError(check.timeoutMs))),
      check.timeoutMs,
    );
    const onAbort = () => finish(() => reject(options.signal?.reason ?? new Error('cancelled')));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (error) => finish(() => reject(error)));
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate(false);
      if (!cert?.valid_to) {
        finish(() => reject(new Error('the server presented no certificate')));
        return;
      }
      const authError = socket.authorizationError as unknown;
      const peer: PeerCertificate = {
        subject: distinguishedName(cert.subject),
        issuer: distinguishedName(cert.issuer),
        validFrom: new Date(cert.valid_from),
        validTo: new Date(cert.valid_to),
        ...(cert.subjectaltname ? { altNames: cert.subjectaltname } : {}),
        ...(cert.fingerprint256 ? { fingerprint256: cert.fingerprint256 } : {}),
        ...(cert.serialNumber ? { serialNumber: cert.serialNumber } : {}),
        authorized: socket.authorized,
        ...(authError
          ? { authorizationError: authError instanceof Error ? describeError(authError) : String(authError) }
          : {}),
        ...(socket.getProtocol() ? { protocol: socket.getProtocol()! } : {}),
      };
      finish(() => resolve(peer));
    });
  });
}

/** Reads the certificate and evaluates it; connection failures fail the check with the reason. */
export async function probeTls(
  check: TlsCheck,
  options: TlsProbeOptions = {},
  now = () => new Date(),
): Promise<CheckOutcome> {
  try {
    return evaluateTls(check, await readPeerCertificate(check, options), now());
  } catch (error) {
    const reason = describeError(error);
    return {
      status: 'fail',
      summary: `${check.host}:${check.port}: no certificate read (${reason})`,
      evidence: {
        host: check.host,
        port: check.port,
        minDaysLeft: check.minDaysLeft,
        timeoutMs: check.timeoutMs,
        error: reason,
      },
    };
  }
}

/** Days left before expiry, with one decimal (negative once expired). */
export function daysLeft(validTo: Date, now: Date): number {
  return Math.floor(((validTo.getTime() - now.getTime()) / DAY_MS) * 10) / 10;
}

/** Expired or not yet valid → fail; fewer than `minDaysLeft` days → warn; otherwise pass (pure). */
export function evaluateTls(check: TlsCheck, cert: PeerCertificate, now: Date): CheckOutcome {
  const left = daysLeft(cert.validTo, now);
  const notYetValid = now < cert.validFrom;
  const status = left <= 0 || notYetValid ? 'fail' : left < check.minDaysLeft ? 'warn' : 'pass';
  const state = notYetValid
    ? `not valid before ${cert.validFrom.toISOString()}`
    : left <= 0
      ? `expired ${cert.validTo.toISOString()}`
      : `${left} days left`;
  const trust = cert.authorized ? '' : `; not trusted: ${cert.authorizationError ?? 'unknown reason'}`;
  return {
    status,
    summary: `${check.host}:${check.port}: certificate ${state} (threshold ${check.minDaysLeft} days), expires ${cert.validTo.toISOString()}${trust}`,
    evidence: {
      host: check.host,
      port: check.port,
      daysLeft: left,
      minDaysLeft: check.minDaysLeft,
      subject: cert.subject,
      issuer: cert.issuer,
      validFrom: cert.validFrom.toISOString(),
      validTo: cert.validTo.toISOString(),
      authorized: cert.authorized,
      ...(cert.authorizationError ? { authorizationError: cert.authorizationError } : {}),
      ...(cert.altNames ? { altNames: cert.altNames } : {}),
      ...(cert.fingerprint256 ? { fingerprint256: cert.fingerprint256 } : {}),
      ...(cert.serialNumber ? { serialNumber: cert.serialNumber } : {}),
      ...(cert.protocol ? { protocol: cert.protocol } : {}),
    },
  };
}
