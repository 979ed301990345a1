/**
 * Addresses a health check must never reach: link-local and instance-metadata addresses, where a
 * probe would read credentials or instance data (169.254.169.254, the ECS credentials endpoint
 * 169.254.170.2) or talk to the host's own services.
 *
 * - 169.254.0.0/16: IPv4 link-local, with EC2 instance metadata, time sync and DNS;
 * - fe80::/10: IPv6 link-local;
 * - fd00:ec2::/32: the AWS-reserved IPv6 range (instance metadata fd00:ec2::254, DNS, time);
 * - 64:ff9b::169.254.0.0/112: 169.254.0.0/16 through NAT64.
 *
 * IPv4-mapped IPv6 addresses (::ffff:169.254.169.254) match the IPv4 ranges. Loopback stays
 * allowed — tests and the sandbox drill serve their endpoints on 127.0.0.1 — except exactly the
 * Lambda runtime API (`AWS_LAMBDA_RUNTIME_API`, host:port on loopback), where a probe could fetch
 * or answer this function's invocations: refused at run time, by address and port.
 *
 * Checked twice: literal addresses in the config and the event (refused by validation, with the
 * field's path), and at run time on the addresses a host name resolves to, inside the lookup the
 * connection itself uses, so DNS cannot hand a probe one of these addresses.
 */
import dns, { type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { LAMBDA_ENV } from '#common/contract';

const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addSubnet('fd00:ec2::', 32, 'ipv6');
FORBIDDEN.addSubnet('64:ff9b::a9fe:0', 112, 'ipv6');

/** What the refusal says, for validation messages and probe errors. */
export const FORBIDDEN_REASON =
  'a link-local or instance-metadata address (169.254.0.0/16, fe80::/10, fd00:ec2::); health checks must not reach it';

/** True for an IP address in a forbidden range; false for anything that is not an IP address. */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1').split('%')[0] ?? '';
  const family = isIP(bare);
  if (family === 0) return false;
  return FORBIDDEN.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The IP address a host names literally, normalised, or undefined for a host name. The IPv4
 * spellings that resolvers also accept (`2852039166`, `0xa9fea9fe`, `0251.0376.0251.0376`,
 * `169.254.43518`) come out as dotted decimal, as the WHATWG URL parser reads them.
 */
export function literalAddress(host: string): string | undefined {
  const bare = host.replace(/^\[(.*)\]$/, '$1').split('%')[0] ?? '';
  if (isIP(bare) !== 0) return bare;
  try {
    const hostname = new URL(`http://${bare}/`).hostname;
    return isIP(hostname) === 4 ? hostname : undefined;
  } catch {
    // Not a valid host at all: the schema's other checks say so.
    return undefined;
  }
}

/** True when a host (name, literal address or URL host) is a forbidden literal address. */
export function isForbiddenHost(host: string): boolean {
  const address = literalAddress(host);
  return address !== undefined && isForbiddenAddress(address);
}

/** The Lambda runtime API's address and port (`AWS_LAMBDA_RUNTIME_API`, read when checked), if any. */
export function runtimeApiEndpoint(
  env: NodeJS.ProcessEnv = process.env,
): { readonly address: string; readonly port: number } | undefined {
  const value = env[LAMBDA_ENV.runtimeApi];
  const match = value ? /^\[?([^\]]+?)\]?:(\d+)$/.exec(value.trim()) : null;
  if (!match) return undefined;
  const address = literalAddress(match[1]!) ?? match[1]!.toLowerCase();
  return { address, port: Number(match[2]) };
}

/**
 * True when `address:port` reaches the Lambda runtime API: its own address, an IPv4-mapped
 * spelling of it, or the unspecified address (0.0.0.0, ::), which connects to this host.
 */
export function isRuntimeApi(address: string, port: number, endpoint = runtimeApiEndpoint()): boolean {
  if (!endpoint || port !== endpoint.port) return false;
  const bare = literalAddress(address) ?? address.toLowerCase();
  if (bare === endpoint.address) return true;
  const family = isIP(bare);
  if (family === 0) return false;
  const same = new BlockList();
  const endpointFamily = isIP(endpoint.address);
  if (endpointFamily !== 0) same.addAddress(endpoint.address, endpointFamily === 4 ? 'ipv4' : 'ipv6');
  same.addAddress('0.0.0.0', 'ipv4');
  same.addAddress('::', 'ipv6');
  return same.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** The error a probe fails with when its target is the Lambda runtime API. */
export class RuntimeApiError extends Error {
  override readonly name = 'RuntimeApiError';
  readonly code = 'EFORBIDDENADDRESS';

  constructor(host: string, address: string, port: number) {
    super(
      `${host === address ? '' : `${host} resolves to `}${address}:${port}, the Lambda runtime API: health checks must not reach it`,
    );
  }
}

/** Why a probe may not connect to `host:port` (a literal forbidden address, or the runtime API), or undefined. */
export function refusedTarget(host: string, port: number): Error | undefined {
  const literal = literalAddress(host);
  if (literal !== undefined && isForbiddenAddress(literal)) return new ForbiddenAddressError(host, literal);
  const address = literal ?? host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (isRuntimeApi(address, port)) return new RuntimeApiError(host, address, port);
  return undefined;
}

/** The error a probe fails with when its host is, or resolves to, a forbidden address. */
export class ForbiddenAddressError extends Error {
  override readonly name = 'ForbiddenAddressError';
  readonly code = 'EFORBIDDENADDRESS';

  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    const literal = host.replace(/^\[(.*)\]$/, '$1') === address;
    super(
      literal ? `${address} is ${FORBIDDEN_REASON}` : `${host} resolves to ${address}, ${FORBIDDEN_REASON}`,
    );
  }
}

/**
 * Wraps a DNS lookup (default `dns.lookup`) so that a connection using it fails instead of
 * connecting when any address of the name is forbidden, or (given the connection's `port`) is the
 * Lambda runtime API. Node calls the connection's `lookup` and connects to the address it
 * returns, so the address checked is the address used.
 */
export function guardedLookup(
  lookup: LookupFunction = dns.lookup as LookupFunction,
  port?: number,
): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, options.all ? [] : '', 0);
        return;
      }
      const list: LookupAddress[] = Array.isArray(addresses)
        ? addresses
        : [{ address: addresses, family: isIP(addresses) || 4 }];
      const forbidden = list.find((entry) => isForbiddenAddress(entry.address));
      if (forbidden) {
        callback(new ForbiddenAddressError(hostname, forbidden.address), options.all ? [] : '', 0);
        return;
      }
      const runtime =
        port === undefined ? undefined : list.find((entry) => isRuntimeApi(entry.address, port));
      if (runtime && port !== undefined) {
        callback(new RuntimeApiError(hostname, runtime.address, port), options.all ? [] : '', 0);
        return;
      }
      const first = list[0];
      if (!first) {
        const notFound = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
          code: 'ENOTFOUND',
          hostname,
        });
        callback(notFound, options.all ? [] : '', 0);
        return;
      }
      if (options.all) callback(null, list);
      else callback(null, first.address, first.family);
    });
  };
}
