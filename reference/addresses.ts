import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** One allowlist entry, parsed: a single address or a CIDR range. */
export type AllowEntry = [Address, number];

/**
 * Parses an allowlist entry (`203.0.113.7`, `2001:db8::1`, `198.51.100.0/24`,
 * `2001:db8::/32`). Returns the reason it is not one instead of throwing.
 */
export function parseAllowEntry(entry: string): AllowEntry | string {
  try {
    if (entry.includes('/')) {
      const [address, bits] = ipaddr.parseCIDR(entry);
      return [
        normalize(address),
        address.kind() === 'ipv6' && normalize(address).kind() === 'ipv4' ? bits - 96 : bits,
      ];
    }
    const address = normalize(ipaddr.parse(entry));
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return `"${entry}" is not an IPv4 or IPv6 address or CIDR range`;
  }
}

/** True when `client` falls in any entry; an empty allowlist allows every address. */
export function isAllowed(client: string, entries: AllowEntry[]): boolean {
  if (entries.length === 0) return true;
  let address: Address;
  try {
    address = normalize(ipaddr.parse(client));
  } catch {
    return false;
  }
  return entries.some(
    ([range, bits]) => range.kind() === address.kind() && address.match(range, bits),
  );
}

/** IPv4-mapped IPv6 (`::ffff:127.0.0.2`) becomes the IPv4 address it carries. */
function normalize(address: Address): Address {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

const DOTTED_IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The textual form of an address after normalisation; the input when it does not parse. */
export function canonicalAddress(text: string): string {
  // The common case, a dotted IPv4 peer, is already canonical.
  if (DOTTED_IPV4.test(text)) return text;
  try {
    return normalize(ipaddr.parse(text)).toString();
  } catch {
    return text;
  }
}

/**
 * The address a request comes from. The socket's peer, unless the peer is a trusted
 * proxy: then `X-Forwarded-For` is walked from the right, and the first address that is
 * not itself a trusted proxy is the client (RFC 7239 §5.2: each proxy appends).
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | string[] | undefined,
  trusted: AllowEntry[],
): string {
  const socketAddress = canonicalAddress(peer);
  if (trusted.length === 0 || !isAllowed(socketAddress, trusted) || forwardedFor === undefined) {
    return socketAddress;
  }
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop.length > 0);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = canonicalAddress(hops[i]!);
    if (!ipaddr.isValid(hop)) return socketAddress;
    if (!isAllowed(hop, trusted)) return hop;
  }
  return socketAddress;
}
