import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';
import type { Source } from '../scenarios/model.js';

/**
 * Documentation ranges (RFC 5737), meant never to be routed. They are not always unused:
 * test networks and containers are given them, so a machine's own address may lie in one.
 */
const DOCUMENTATION_RANGES = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'];

/**
 * The first documentation range that holds none of `own` (addresses this machine may send
 * from), with an address in it; undefined when this machine has an address in each.
 */
export function elsewhereRange(own: string[]): Elsewhere | undefined {
  const mine = own
    .filter((address) => ipaddr.isValid(address))
    .map((address) => ipaddr.process(address))
    .filter((address): address is ipaddr.IPv4 => address.kind() === 'ipv4');
  const range = DOCUMENTATION_RANGES.find((cidr) => {
    const parsed = ipaddr.IPv4.parseCIDR(cidr);
    return !mine.some((address) => address.match(parsed));
  });
  return range ? { address: range.replace(/0\/24$/, '10'), range } : undefined;
}

interface Elsewhere {
  address: string;
  range: string;
}

/** Every address of this machine's interfaces. */
export function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

/** On loopback the sources are 127.x addresses, so the first range is always elsewhere. */
const DEFAULT_ELSEWHERE = elsewhereRange([])!;
export const ELSEWHERE = DEFAULT_ELSEWHERE.address;

/** Loopback sources: the whole of 127.0.0.0/8 is this machine, so each is a real address. */
export const LOOPBACK = {
  allowed: '127.0.0.2',
  other: '127.0.0.3',
  cidr: '127.0.0.16/28',
  cidrInside: '127.0.0.20',
  cidrLast: '127.0.0.31',
  cidrBeyond: '127.0.0.32',
  ipv6: '::1',
} as const;

/** How sources map to addresses and what each key role's allowlist holds, for one target. */
export interface AddressPlan {
  sources: Partial<Record<Source, string | null>>;
  missingSources: Partial<Record<Source, string>>;
  /** Allowlist per IP role; a role absent here cannot be provisioned against this target. */
  allowlists: Record<string, string[]>;
  missingAllowlists: Record<string, string>;
}

/** True when the URL's host is on this machine's loopback. */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** The allowlists that must refuse this machine, from an address and range it is not in. */
function elsewhereAllowlists({ address, range }: Elsewhere): Record<string, string[]> {
  return {
    'ip.elsewhere': [address],
    'ip.elsewhere.cheapest': [address],
    'ip.cidr.elsewhere': [range],
    'revoked.restricted': [address],
  };
}

/**
 * The allowlists that must admit the `allowed` source: alone, second after an address
 * elsewhere (a server that reads only the first entry refuses it), on a key of the
 * cheapest plan (whose plan must still be checked), and as the range of every address.
 */
function allowedAllowlists(allowed: string, elsewhere: string): Record<string, string[]> {
  return {
    'ip.allowed': [allowed],
    'ip.second': [elsewhere, allowed],
    'ip.allowed.cheapest': [allowed],
    'ip.everywhere': [allowed.includes(':') ? '::/0' : '0.0.0.0/0'],
    // Above 128.0.0.0, where a signed 32-bit comparison of addresses goes wrong; its
    // clients are named by the trusted proxy (RFC 2544's benchmarking range).
    'ip.cidr.upper': [UPPER_RANGE],
  };
}

/** A range above 128.0.0.0 and a client in it, sent as the trusted proxy's last hop. */
export const UPPER_RANGE = '198.18.0.0/15';
export const UPPER_CLIENT = '198.19.0.7';

/**
 * IPv6 allowlists, checked from [::1]: the loopback written out in full (RFC 4291 §2.2),
 * a /127 range that holds it, and another address, which must refuse it.
 */
const IPV6_ALLOWLISTS: Record<string, string[]> = {
  'ip.v6': [LOOPBACK.ipv6],
  'ip.v6.long': ['0:0:0:0:0:0:0:1'],
  'ip.v6.cidr': ['::/127'],
  'ip.v6.other': ['::2'],
};

/** On loopback every source is a real local address. */
export function loopbackPlan(
  ipv6Url: string | undefined,
  trustedProxy: string | undefined,
): AddressPlan {
  const missingSources: AddressPlan['missingSources'] = {};
  if (!ipv6Url) missingSources.ipv6 = 'the target does not answer on IPv6 loopback ([::1])';
  if (!trustedProxy) {
    missingSources['trusted-proxy'] =
      "the target's trusted proxy is not known (pass --trusted-proxy)";
  }
  return {
    sources: {
      default: null,
      allowed: LOOPBACK.allowed,
      other: LOOPBACK.other,
      'cidr-inside': LOOPBACK.cidrInside,
      'cidr-last': LOOPBACK.cidrLast,
      'cidr-beyond': LOOPBACK.cidrBeyond,
      ...(ipv6Url ? { ipv6: LOOPBACK.ipv6 } : {}),
      ...(trustedProxy ? { 'trusted-proxy': trustedProxy } : {}),
    },
    missingSources,
    allowlists: {
      ...elsewhereAllowlists(DEFAULT_ELSEWHERE),
      ...allowedAllowlists(LOOPBACK.allowed, DEFAULT_ELSEWHERE.address),
      'ip.cidr': [LOOPBACK.cidr],
      ...(ipv6Url ? IPV6_ALLOWLISTS : {}),
    },
    missingAllowlists: ipv6Url
      ? {}
      : Object.fromEntries(
          Object.keys(IPV6_ALLOWLISTS).map((role) => [
            role,
            'the target does not answer on IPv6 loopback ([::1])',
          ]),
        ),
  };
}

/**
 * Against a remote target this machine has one address, the one the server reports: it
 * is the allowed address, and a documentation range holding neither it nor any of
 * `own` (this machine's interface addresses) is the blocked one.
 */
export function remotePlan(
  observed: string | undefined,
  own: string[] = localAddresses(),
): AddressPlan {
  const elsewhere = elsewhereRange(observed ? [observed, ...own] : own);
  const shared = elsewhere ? elsewhereAllowlists(elsewhere) : {};
  const nowhere = elsewhere
    ? {}
    : Object.fromEntries(
        Object.keys(elsewhereAllowlists(DEFAULT_ELSEWHERE)).map((role) => [
          role,
          'this machine has an address in every documentation range, so none is sure to refuse it',
        ]),
      );
  const oneAddress = 'a remote target sees a single address from this machine';
  const missingSources: AddressPlan['missingSources'] = {
    other: oneAddress,
    ipv6: 'IPv6 allowlists are checked on loopback targets only',
    'cidr-last': oneAddress,
    'cidr-beyond': oneAddress,
    'trusted-proxy': "a remote target's trusted proxies cannot be used from here",
  };
  if (!observed) {
    const why = 'the target did not report the client address (introspection operation)';
    return {
      sources: { default: null },
      missingSources: { ...missingSources, allowed: why, 'cidr-inside': why },
      allowlists: shared,
      missingAllowlists: {
        ...nowhere,
        ...Object.fromEntries(Object.keys(allowedAllowlists('', '')).map((role) => [role, why])),
        'ip.cidr': why,
        ...Object.fromEntries(
          Object.keys(IPV6_ALLOWLISTS).map((role) => [role, missingSources.ipv6!]),
        ),
      },
    };
  }
  const bits = isIP(observed) === 6 ? 64 : 24;
  const range = `${
    ipaddr.parse(observed).kind() === 'ipv6'
      ? ipaddr.IPv6.networkAddressFromCIDR(`${observed}/${bits}`).toString()
      : ipaddr.IPv4.networkAddressFromCIDR(`${observed}/${bits}`).toString()
  }/${bits}`;
  return {
    sources: { default: null, allowed: null, 'cidr-inside': null },
    missingSources,
    allowlists: {
      ...shared,
      ...(elsewhere
        ? allowedAllowlists(observed, elsewhere.address)
        : {
            'ip.allowed': [observed],
            'ip.allowed.cheapest': [observed],
            'ip.cidr.upper': [UPPER_RANGE],
          }),
      'ip.cidr': [range],
    },
    missingAllowlists: {
      ...nowhere,
      ...(elsewhere
        ? {}
        : { 'ip.second': nowhere['ip.elsewhere']!, 'ip.everywhere': nowhere['ip.elsewhere']! }),
      ...Object.fromEntries(
        Object.keys(IPV6_ALLOWLISTS).map((role) => [role, missingSources.ipv6!]),
      ),
    },
  };
}
