import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** One allowlist entry, parsed: a single address or a CIDR range. */
export type AllowEntry = [Address, number];

/**
 * Parses an allowlist entry (`203.0.113.7`, `2001:db8::1`, `198.51.100.0/24`,
 * `2001:db8::/32`). Returns the reason it is not one instead of throwing.
 */
export function parseAllowEntry(entry: string): AllowEntry | string {
  const [text, bitsText, extra] = entry.split('/');
  const address = text === undefined ? undefined : parseAddress(text);
  if (address === undefined || extra !== undefined) {
    return `"${entry}" is not an IPv4 or IPv6 address or CIDR range`;
  }
  const full = address.kind() === 'ipv4' ? 32 : 128;
  if (bitsText === undefined) {
    const single = normalize(address);
    return [single, single.kind() === 'ipv4' ? 32 : 128];
  }
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : Number.NaN;
  if (!(bits <= full)) return `"${entry}" has no valid prefix length (0 to ${full})`;
  const v4 = normalize(address);
  if (v4.kind() !== address.kind()) {
    // An IPv4-mapped range is an IPv4 range only from /96 on; a shorter one would spill
    // over IPv4 and IPv6 at once.
    if (bits < 96) return `"${entry}" maps IPv4 addresses, so its prefix must be /96 or longer`;
    return [v4, bits - 96];
  }
  return [address, bits];
}

/**
 * An address as clients and operators write it, strictly: IPv4 only as four decimal parts
 * (`010.0.0.1` or `127.1` would mean something else to a reader than to the parser), and
 * IPv6 without a zone. Undefined when it is not one.
 */
export function parseAddress(text: string): Address | undefined {
  if (text.includes(':')) {
    if (text.includes('%') || !ipaddr.IPv6.isValid(text)) return undefined;
    return ipaddr.IPv6.parse(text);
  }
  return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text) : undefined;
}

/** True when `client` falls in any entry; an address that does not parse falls in none. */
export function isAllowed(client: string, entries: AllowEntry[]): boolean {
  const parsed = parseAddress(client);
  if (parsed === undefined) return false;
  const address = normalize(parsed);
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

/** What a request is attributed to when a trusted proxy says its client is no address. */
export const UNKNOWN_CLIENT = 'unknown';

/**
 * The address a request comes from. The socket's peer, unless the peer is a trusted
 * proxy: then `X-Forwarded-For` is walked from the right, and the first address that is
 * not itself a trusted proxy is the client (RFC 7239 §5.2: each proxy appends). A hop
 * that is no address (`unknown`, an obfuscated name) ends the walk with an unknown
 * client, which no allowlist admits: the hops to its left were written by whoever sent
 * the request, and believing them would let a client choose its own address.
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
    const hop = forwardedHop(hops[i]!);
    if (hop === undefined) return UNKNOWN_CLIENT;
    if (!isAllowed(hop, trusted)) return hop;
  }
  return socketAddress;
}

/** One hop of `X-Forwarded-For`, canonical, with a port some proxies add taken off. */
function forwardedHop(hop: string): string | undefined {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  const withPort = /^([\d.]+):\d+$/.exec(hop);
  const text = bracketed?.[1] ?? withPort?.[1] ?? hop;
  const address = parseAddress(text);
  return address === undefined ? undefined : normalize(address).toString();
}
