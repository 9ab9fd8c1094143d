import type { KeyFormat } from '../contract/model.js';
import type { RequestSpec } from './model.js';
import { NEAR_MISSES, nearMiss, type NearMiss } from './tokens.js';

/** What placeholders are filled from: the run's keys and addresses, a sequence's keys. */
export interface FillSources {
  keys: Record<string, string>;
  addresses: Record<string, string>;
  /** The key a sequence created under `name`, if it did. */
  created: (name: string) => string | undefined;
  format: KeyFormat;
  /** The target's management token, for `{{token:management}}`. */
  managementToken?: string;
}

/** The kinds of placeholder (see model.ts). */
const KINDS = ['key', 'seq', 'address', 'token', ...NEAR_MISSES.map((change) => `near-${change}`)];
const PLACEHOLDER = new RegExp(`\\{\\{(${KINDS.join('|')}):([^}]+)\\}\\}`, 'g');

/** Fills every placeholder of `text` (see model.ts); throws naming one that has no value. */
export function fillPlaceholders(text: string, from: FillSources): string {
  return text.replace(PLACEHOLDER, (_, kind: string, name: string) => {
    const key = from.keys[name];
    const value =
      kind === 'key'
        ? key
        : kind === 'seq'
          ? from.created(name)
          : kind === 'address'
            ? from.addresses[name]
            : kind === 'token'
              ? managementToken(name, from)
              : key === undefined
                ? undefined
                : nearMiss(key, from.format, kind.slice('near-'.length) as NearMiss);
    if (value === undefined) throw new Error(`nothing to fill {{${kind}:${name}}} with`);
    return value;
  });
}

/**
 * `management` is the target's management token; `management.near-last` and
 * `management.near-case` are near misses of it, as of keys (see `nearMiss`).
 */
function managementToken(name: string, from: FillSources): string | undefined {
  const token = from.managementToken;
  if (token === undefined) return undefined;
  if (name === 'management') return token;
  const change = /^management\.near-(last|case)$/.exec(name)?.[1] as NearMiss | undefined;
  return change ? nearMiss(token, from.format, change) : undefined;
}

/** The near misses of the management token that scenarios send, to redact them like it. */
export function managementNearMisses(token: string, format: KeyFormat): string[] {
  return (['last', 'case'] as const).map((change) => nearMiss(token, format, change));
}

/** A request's header lines and body as they go out, placeholders filled. */
export interface OutgoingRequest {
  /** One value per name: what a report shows and what is checked for echoed keys. */
  headers: Record<string, string>;
  /** As sent: a name with several lines has a list of values. */
  lines: Record<string, string | string[]>;
  body?: string;
}

export function outgoing(spec: RequestSpec, fill: (text: string) => string): OutgoingRequest {
  const headers: Record<string, string> = Object.fromEntries(
    Object.entries(spec.headers).map(([name, value]) => [name, fill(value)]),
  );
  let body: string | undefined;
  if (spec.body !== undefined || spec.rawBody !== undefined) {
    body = spec.rawBody ?? JSON.stringify(spec.body);
    headers['content-type'] = 'application/json';
  }
  const lines: Record<string, string | string[]> = { ...headers };
  for (const [name, value] of spec.extraHeaders ?? []) {
    const key = name.toLowerCase();
    const had = lines[key];
    lines[key] = had === undefined ? fill(value) : [had, fill(value)].flat();
  }
  return { headers, lines, ...(body !== undefined ? { body } : {}) };
}
