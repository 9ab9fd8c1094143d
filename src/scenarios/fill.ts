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
  /** The run's id, for `{{run:id}}`. */
  runId?: string;
}

/** The kinds of placeholder (see model.ts). */
const KINDS = [
  'key',
  'seq',
  'address',
  'token',
  'run',
  ...NEAR_MISSES.map((change) => `near-${change}`),
];
const PLACEHOLDER = new RegExp(`\\{\\{(${KINDS.join('|')}):([^}]+)\\}\\}`, 'g');

/** Fills every placeholder of `text` (see model.ts); throws naming one that has no value. */
export function fillPlaceholders(text: string, from: FillSources): string {
  return text.replace(PLACEHOLDER, (_, kind: string, name: string) => {
    const value = placeholderValue(kind, name, from);
    if (value === undefined) throw new Error(`nothing to fill {{${kind}:${name}}} with`);
    return value;
  });
}

function placeholderValue(kind: string, name: string, from: FillSources): string | undefined {
  const key = from.keys[name];
  switch (kind) {
    case 'key':
      return key;
    case 'seq':
      return from.created(name);
    case 'address':
      return from.addresses[name];
    case 'token':
      return managementToken(name, from);
    case 'run':
      return name === 'id' ? from.runId : undefined;
    default:
      return key === undefined
        ? undefined
        : nearMiss(key, from.format, kind.slice('near-'.length) as NearMiss);
  }
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

/**
 * A management step's body as it goes out: placeholders filled in every string of it, then
 * serialised; a string body (broken JSON, say) is filled and sent as it is. `value` is the
 * filled body, to compare what the target answers with what was sent.
 */
export function outgoingBody(
  body: unknown,
  fill: (text: string) => string,
): { value: unknown; text: string | undefined } {
  if (body === undefined) return { value: undefined, text: undefined };
  if (typeof body === 'string') return { value: fill(body), text: fill(body) };
  const value = fillStrings(body, fill);
  return { value, text: JSON.stringify(value) };
}

function fillStrings(value: unknown, fill: (text: string) => string): unknown {
  if (typeof value === 'string') return fill(value);
  if (Array.isArray(value)) return value.map((item) => fillStrings(item, fill));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [name, fillStrings(item, fill)]),
    );
  }
  return value;
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
