import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { isAllowed, parseAllowEntry, type AllowEntry } from '../../reference/addresses.js';
import { loader, topPlan, withRequest } from './entries.js';
import type { Variant } from './model.js';

/** A stored key whose allowlist entries are changed on the way out of the store. */
const rewriteEntries = (change: (entry: string) => string) =>
  loader((key) => ({ ...key, allowedIps: key.allowedIps.map(change) }));

/** A header that names the client, believed from anyone. */
function claimedClient(req: IncomingMessage | undefined): string | undefined {
  if (!req) return undefined;
  const real = req.headers['x-real-ip'];
  if (typeof real === 'string' && isIP(real.trim())) return real.trim();
  const fwd = req.headers.forwarded;
  if (typeof fwd === 'string') {
    const m = /for="?\[?([^\]";,]+)\]?"?/i.exec(fwd);
    if (m && isIP(m[1]!)) return m[1];
  }
  return undefined;
}

/**
 * Broken variants of how allowlists are written and clients named: entries after the
 * first, IPv6 in its other forms, ranges at their ends, other headers that name a client,
 * X-Forwarded-For on several lines, and plans skipped when the address check passed.
 */
export const addressFormVariants: Variant[] = [
  {
    id: 'allowlist-first-entry-only',
    breaks: 'IP-01',
    description: 'only the first allowlist entry is matched; a client on the second is refused',
    applied: 'store-wrapper',
    app: loader((key) => ({ ...key, allowedIps: key.allowedIps.slice(0, 1) })),
  },
  {
    id: 'ipv6-entries-as-text',
    breaks: 'IP-02',
    description: 'IPv6 entries are compared as text: 0:0:0:0:0:0:0:1 or 2001:DB8::1 never match',
    applied: 'store-wrapper',
    app: rewriteEntries((entry) => {
      if (!entry.includes(':') || entry.includes('/')) return entry;
      return ipaddr.parse(entry).toString() === entry ? entry : '100::/128';
    }),
  },
  {
    id: 'ipv6-cidr-as-address',
    breaks: 'IP-03',
    description: 'an IPv6 CIDR entry matches only its network address, not the range',
    applied: 'store-wrapper',
    app: rewriteEntries((entry) => (entry.includes(':') ? entry.replace(/\/\d+$/, '') : entry)),
  },
  {
    id: 'ipv6-address-as-64',
    breaks: 'IP-02',
    description: 'an IPv6 address entry admits its whole /64 (privacy addresses)',
    applied: 'store-wrapper',
    app: rewriteEntries((entry) =>
      entry.includes(':') && !entry.includes('/') ? `${entry}/64` : entry,
    ),
  },
  {
    id: 'cidr-zero-prefix',
    breaks: 'IP-03',
    description: 'a /0 range matches one address only (mask = ~0 << 32 is ~0 in JS)',
    applied: 'store-wrapper',
    app: rewriteEntries((entry) => entry.replace(/\/0$/, entry.includes(':') ? '/128' : '/32')),
  },
  {
    id: 'forwarded-for-first-line',
    breaks: 'IP-04',
    description: 'of several X-Forwarded-For header lines only the first (client-written) is read',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        const raw = request.raw.rawHeaders;
        const at = raw.findIndex((n, i) => i % 2 === 0 && n.toLowerCase() === 'x-forwarded-for');
        if (at >= 0) request.raw.headers['x-forwarded-for'] = raw[at + 1]!;
      }),
  },
  {
    id: 'forwarded-skips-obfuscated',
    breaks: 'IP-04',
    description:
      "only the hop 'unknown' stops the walk; obfuscated ids (_abc) and names are skipped",
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        const header = request.headers['x-forwarded-for'];
        if (typeof header !== 'string') return;
        const hops = header.split(',').map((h) => h.trim());
        request.raw.headers['x-forwarded-for'] = hops
          .filter((h) => isIP(h) !== 0 || h.toLowerCase() === 'unknown')
          .join(', ');
      }),
  },
  {
    id: 'real-ip-from-anyone',
    breaks: 'IP-01',
    description: 'X-Real-IP or Forwarded: for= is believed from any peer',
    applied: 'handler-wrapper',
    app: loader((key, req) => {
      const claimed = claimedClient(req);
      if (!claimed || key.allowedIps.length === 0) return key;
      const entries = key.allowedIps
        .map(parseAllowEntry)
        .filter((e): e is AllowEntry => typeof e !== 'string');
      return isAllowed(claimed, entries)
        ? { ...key, allowedIps: [] }
        : { ...key, allowedIps: ['100::/128'] };
    }),
    handler: withRequest,
  },
  {
    id: 'plan-skipped-when-allowlisted',
    breaks: 'PLAN-01',
    description: 'keys with an allowlist skip the plan check (else-if after the address check)',
    applied: 'store-wrapper',
    app: (app) =>
      loader((key) => (key.allowedIps.length > 0 ? { ...key, plan: topPlan(app) } : key))(app),
  },
  {
    id: 'plan-skipped-on-ipv6',
    breaks: 'PLAN-01',
    description: 'the IPv6 listener has no plan check (its vhost lacks the entitlement rule)',
    applied: 'handler-wrapper',
    app: (app) =>
      loader((key, req) =>
        req?.socket.remoteFamily === 'IPv6' ? { ...key, plan: topPlan(app) } : key,
      )(app),
    handler: withRequest,
  },
  {
    id: 'cidr-upper-half',
    breaks: 'IP-03',
    description: 'IPv4 ranges at or above 128.0.0.0 never match (signed 32-bit compare)',
    applied: 'store-wrapper',
    app: rewriteEntries((entry) =>
      /^(\d+)\./.test(entry) && entry.includes('/') && Number(/^(\d+)/.exec(entry)![1]) >= 128
        ? '0.0.0.0/32'
        : entry,
    ),
  },
  {
    id: 'plan-raw-path',
    breaks: 'PLAN-01',
    description: 'the plan rule matches the raw path: a percent-encoded path is unrestricted',
    applied: 'handler-wrapper',
    app: (app) =>
      loader((key, req) =>
        (req?.url ?? '').split('?')[0]!.includes('%') ? { ...key, plan: topPlan(app) } : key,
      )(app),
    handler: withRequest,
  },
];
