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
 * allowed: tests and the sandbox drill serve their endpoints on 127.0.0.1.
 *
 * Checked twice: literal addresses in the config and the event (refused by validation, with the
 * field's path), and at run time on the addresses a host name resolves to, inside the lookup the
 * connection itself uses, so DNS cannot hand a probe one of these addresses.
 */
import dns, { type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

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
 * connecting when any address of the name is forbidden. Node calls the connection's `lookup` and
 * connects to the address it returns, so the address checked is the address used.
 */
export function guardedLookup(lookup: LookupFunction = dns.lookup as LookupFunction): LookupFunction {
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
