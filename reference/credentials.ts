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
  if (header === undefined || header.trim() === '') return { kind: 'none' };
  const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(.*)$/s.exec(header);
  if (!match || match[1]!.toLowerCase() !== 'bearer') return { kind: 'malformed' };
  const token = match[2]!;
  if (!format.pattern.test(token)) return { kind: 'malformed' };
  return token.startsWith(format.testPrefix)
    ? { kind: 'test', key: token }
    : { kind: 'live', key: token };
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
