import type { KeyFormat } from '../src/contract/model.js';

/** What the Authorization header holds, before any lookup. */
export type Presented =
  | { kind: 'none' }
  | { kind: 'malformed' }
  | { kind: 'test'; key: string }
  | { kind: 'live'; key: string };

/**
 * Reads the Authorization header. The scheme name is matched case-insensitively
 * (RFC 9110 §11.1); one or more spaces separate it from the token (RFC 6750 §2.1).
 * An absent or empty header carries no credential at all.
 */
export function readAuthorization(header: string | undefined, format: KeyFormat): Presented {
  if (header === undefined || header.trim() === '') return NONE;
  const token = bearerToken(header);
  if (token === undefined || !format.pattern.test(token)) return MALFORMED;
  return token.startsWith(format.testPrefix)
    ? { kind: 'test', key: token }
    : { kind: 'live', key: token };
}

const NONE: Presented = { kind: 'none' };
const MALFORMED: Presented = { kind: 'malformed' };
const CANONICAL = 'Bearer ';

/** The token after a Bearer scheme name, or undefined when the scheme is another one. */
function bearerToken(header: string): string | undefined {
  // Nearly every client writes the scheme exactly so: then no expression needs to run.
  if (header.startsWith(CANONICAL) && header.charCodeAt(CANONICAL.length) !== 32) {
    return header.slice(CANONICAL.length);
  }
  const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(.*)$/s.exec(header);
  return match && match[1]!.toLowerCase() === 'bearer' ? match[2] : undefined;
}

/** Query parameters through which clients commonly, and wrongly, send tokens. */
export const QUERY_CREDENTIAL_PARAMS = ['access_token', 'api_key'];

/** True when the URL carries one of {@link QUERY_CREDENTIAL_PARAMS}. */
export function hasQueryCredential(url: string): boolean {
  const query = url.indexOf('?');
  if (query < 0) return false;
  const params = new URLSearchParams(url.slice(query + 1));
  return QUERY_CREDENTIAL_PARAMS.some((name) => params.has(name));
}

/**
 * True when the request carries the Authorization header more than once. Node keeps the
 * first of them in `headers`; the raw list still has every line.
 */
export function repeatsAuthorization(rawHeaders: string[]): boolean {
  let seen = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length !== 13 || name.toLowerCase() !== 'authorization') continue;
    if (seen) return true;
    seen = true;
  }
  return false;
}
