import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { wrapLookup } from './hooks.js';
import type { Variant } from './model.js';
import type { RawHeader } from './proxy.js';
import { TRUSTED_PROXY } from './serve.js';

/** Broken variants of the IP allowlist and proxy rules: IP-01 to IP-04. */

/** The store as a loader that keeps only the allowlist entries `keep` accepts. */
const loadAllowlist = (keep: (entry: string) => boolean) => (app: FastifyInstance) =>
  wrapLookup(app, (next, secret) => {
    const key = next(secret);
    return key && { ...key, allowedIps: key.allowedIps.filter(keep) };
  });

/** The store as a loader that rewrites each allowlist entry with `change`. */
const rewriteAllowlist = (change: (entry: string) => string) => (app: FastifyInstance) =>
  wrapLookup(app, (next, secret) => {
    const key = next(secret);
    return key && { ...key, allowedIps: key.allowedIps.map(change) };
  });

/** A server that reads X-Forwarded-For as `read` rewrites its hops, before its own rules. */
const rewriteForwardedFor = (read: (hops: string[]) => string[]) => (app: FastifyInstance) =>
  app.addHook('onRequest', async (request) => {
    const header = request.headers['x-forwarded-for'];
    if (typeof header !== 'string') return;
    request.raw.headers['x-forwarded-for'] = read(header.split(',').map((hop) => hop.trim())).join(
      ', ',
    );
  });

export const addressVariants: Variant[] = [
  {
    id: 'allowlist-ignored',
    breaks: 'IP-01',
    description: "the key's allowlist is never loaded: every address is allowed",
    applied: 'store-wrapper',
    app: loadAllowlist(() => false),
  },
  {
    id: 'ipv6-entries-ignored',
    breaks: 'IP-02',
    description: 'IPv6 allowlist entries are dropped on load (an IPv6-only list allows all)',
    applied: 'store-wrapper',
    app: loadAllowlist((entry) => !entry.includes(':')),
  },
  {
    id: 'cidr-entries-ignored',
    breaks: 'IP-03',
    description: 'CIDR allowlist entries are dropped on load (a range-only list allows all)',
    applied: 'store-wrapper',
    app: loadAllowlist((entry) => !entry.includes('/')),
  },
  {
    id: 'cidr-mask-one-bit-long',
    breaks: 'IP-03',
    description: 'a CIDR prefix is read one bit too long: /28 admits 8 addresses, not 16',
    applied: 'store-wrapper',
    app: rewriteAllowlist((entry) =>
      entry.replace(/\/(\d+)$/, (_, bits) => `/${Number(bits) + 1}`),
    ),
  },
  {
    id: 'forwarded-for-from-anyone',
    breaks: 'IP-04',
    description: "a trusted front proxy passes on a client's own X-Forwarded-For unchanged",
    applied: 'proxy',
    proxy: {
      // Every request reaches the server from the trusted proxy's address.
      from: () => TRUSTED_PROXY,
      // It sets X-Forwarded-For only when the client did not send one.
      request: (headers: RawHeader[], client) =>
        headers.some(([name]) => name.toLowerCase() === 'x-forwarded-for')
          ? headers
          : [...headers, ['X-Forwarded-For', client]],
    },
  },
  {
    id: 'forwarded-skips-unreadable-hops',
    breaks: 'IP-04',
    description: 'hops of X-Forwarded-For that are not addresses are skipped, not a stop',
    applied: 'hook',
    app: rewriteForwardedFor((hops) => hops.filter((hop) => isIP(hop) !== 0)),
  },
  {
    id: 'ipv6-clients-unrestricted',
    breaks: 'IP-01',
    description: 'an allowlist of IPv4 entries only restricts IPv4 clients; IPv6 ones pass',
    applied: 'store-wrapper',
    app: (app) =>
      wrapLookup(app, (next, secret) => {
        const key = next(secret);
        const v4only =
          key && key.allowedIps.length > 0 && key.allowedIps.every((e) => !e.includes(':'));
        return v4only ? { ...key, allowedIps: [...key.allowedIps, '::/0'] } : key;
      }),
  },
  {
    id: 'forwarded-leftmost',
    breaks: 'IP-04',
    description: 'from a trusted proxy the leftmost X-Forwarded-For address is the client',
    applied: 'hook',
    app: rewriteForwardedFor((hops) =>
      hops.length > 1 && hops.every((hop) => isIP(hop) !== 0) ? hops.slice(0, 1) : hops,
    ),
  },
];
