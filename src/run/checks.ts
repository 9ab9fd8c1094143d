import type { SchemaValidator } from '../contract/schemas.js';
import { parseChallenges } from '../http/challenge.js';
import type { HttpResponse } from '../http/client.js';
import type { Expectation } from '../scenarios/model.js';
import { leakedSecrets, redactKey, redactSecrets } from '../secrets/redact.js';

/** The outcome of one check: which requirement it proves, and what was seen when it failed. */
export interface Check {
  requirement: string;
  ok: boolean;
  what: string;
  expected?: string;
  actual?: string;
}

export interface CheckContext {
  /** The requirement that the step proves: status and code checks count for it. */
  requirement: string;
  realm: string;
  validator: SchemaValidator;
  /** Every secret that must never come back: provisioned keys and the tokens sent. */
  secrets: string[];
  /** The answer has no body by definition (a HEAD request, RFC 9110 §9.3.2). */
  bodiless?: boolean;
  /** A key listing: it may show a key's prefix and last four, and nothing more of it. */
  listing?: boolean;
}

const pass = (requirement: string, what: string): Check => ({ requirement, ok: true, what });
const fail = (requirement: string, what: string, expected: string, actual: string): Check => ({
  requirement,
  ok: false,
  what,
  expected,
  actual: redactSecrets(actual),
});

/**
 * Everything a response must satisfy: the expected status and `error.code` (for the
 * step's requirement), and the rules every response obeys — error bodies match the
 * schema (ERR-01), 401s carry a proper challenge (CHAL-01, CHAL-02), and no secret
 * comes back (ERR-02).
 */
export function checkResponse(
  expected: Expectation,
  res: HttpResponse,
  ctx: CheckContext,
): Check[] {
  const expect = (expected.otherwise ?? []).find((e) => e.status === res.status) ?? expected;
  const checks: Check[] = [];
  const req = ctx.requirement;
  checks.push(
    res.status === expect.status
      ? pass(req, 'status')
      : fail(req, 'status', String(expect.status), String(res.status)),
  );

  const body =
    res.status >= 400 && res.status < 500 && !ctx.bodiless
      ? errorBody(res, ctx, checks)
      : undefined;
  if (expect.code !== undefined && body !== undefined) {
    const code = (body as { error?: { code?: unknown } }).error?.code;
    if (typeof code === 'string') {
      checks.push(
        code === expect.code
          ? pass(req, 'error.code')
          : fail(req, '/error/code', expect.code, code),
      );
    }
  }
  if (res.status === 401) checks.push(...challengeChecks(expect, res, ctx.realm));
  checks.push(secretCheck(res, ctx.secrets, ctx.listing === true));
  return checks;
}

/** ERR-01: a 4xx body is JSON, of the Error schema. Returns the parsed body when it is JSON. */
function errorBody(res: HttpResponse, ctx: CheckContext, checks: Check[]): unknown {
  const type = String(res.headers['content-type'] ?? '');
  const mediaType = type.split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    checks.push(fail('ERR-01', 'Content-Type', 'application/json', type || '(none)'));
  }
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    checks.push(fail('ERR-01', 'body', 'a JSON error body', truncate(res.body)));
    return undefined;
  }
  const problems = ctx.validator.check('Error', body);
  checks.push(
    problems.length === 0
      ? pass('ERR-01', 'error body schema')
      : fail(
          'ERR-01',
          problems.map((p) => p.pointer).join(', '),
          'a body of the Error schema',
          problems.map((p) => `${p.pointer} ${p.problem}`).join('; '),
        ),
  );
  return body;
}

/** CHAL-01 and CHAL-02 on a 401 (RFC 9110 §15.5.2, RFC 6750 §3). */
function challengeChecks(expect: Expectation, res: HttpResponse, realm: string): Check[] {
  const values = res.rawHeaders
    .filter(([name]) => name.toLowerCase() === 'www-authenticate')
    .map(([, v]) => v);
  if (values.length === 0)
    return [fail('CHAL-01', 'WWW-Authenticate', `Bearer realm="${realm}"`, '(absent)')];
  const challenges = parseChallenges(values);
  const shown = values.join(' | ');
  if (!challenges)
    return [fail('CHAL-01', 'WWW-Authenticate', 'a challenge per RFC 9110 §11.6.1', shown)];
  const bearer = challenges.filter((c) => c.scheme.toLowerCase() === 'bearer');
  if (bearer.length !== 1)
    return [fail('CHAL-01', 'WWW-Authenticate', 'one Bearer challenge', shown)];
  const realms = bearer[0]!.params.filter((p) => p.name === 'realm');
  if (realms.length !== 1 || !realms[0]!.quoted) {
    return [fail('CHAL-01', 'WWW-Authenticate realm', 'exactly one quoted realm', shown)];
  }
  if (realms[0]!.value !== realm) {
    return [fail('CHAL-01', 'WWW-Authenticate realm', `realm="${realm}"`, shown)];
  }
  const checks = [pass('CHAL-01', 'WWW-Authenticate')];
  const error = bearer[0]!.params.find((p) => p.name === 'error');
  if (expect.challenge === 'bearer-invalid-token') {
    checks.push(
      error?.value === 'invalid_token'
        ? pass('CHAL-02', 'challenge error')
        : fail('CHAL-02', 'WWW-Authenticate error', 'error="invalid_token"', shown),
    );
  } else if (expect.challenge === 'bearer') {
    checks.push(
      error === undefined
        ? pass('CHAL-02', 'challenge error')
        : fail(
            'CHAL-02',
            'WWW-Authenticate error',
            'no error attribute (no credential was sent)',
            shown,
          ),
    );
  }
  return checks;
}

/**
 * ERR-02: neither the status line, the headers nor the body contain a secret, whole or in
 * part. A listing is held to what MGMT-01 allows it to show, which is less.
 */
function secretCheck(res: HttpResponse, secrets: string[], listing: boolean): Check {
  const headerText = [
    `status: ${res.statusMessage ?? ''}`,
    ...res.rawHeaders.map(([n, v]) => `${n}: ${v}`),
  ].join('\n');
  const inHeaders = leaks(headerText, secrets, false);
  const inBody = leaks(res.body, secrets, listing);
  if (inHeaders.length + inBody.length === 0) return pass('ERR-02', 'no secret reflected');
  const where = [...(inHeaders.length ? ['headers'] : []), ...(inBody.length ? ['body'] : [])].join(
    ' and ',
  );
  const shown = [...new Map([...inHeaders, ...inBody].map((l) => [l.secret, l])).values()].map(
    (l) => `${redactKey(l.secret)}${l.whole ? '' : ` (a run of ${FRAGMENT}+ of its characters)`}`,
  );
  return fail(
    'ERR-02',
    `secret in response ${where}`,
    'no submitted key in the response',
    shown.join(', '),
  );
}

/**
 * The shortest run of a secret's characters after its `cci_…_` prefix that counts as a
 * leak: more than the last four a listing may show, and too long to occur by chance
 * (62^8 values). A server that echoes a key without its prefix, or shows its first
 * characters, gives the key away as surely as one that echoes it whole.
 */
const FRAGMENT = 8;

/**
 * In a listing, the shortest run of a body's characters, in its own case, that is more
 * than a listing may show: five would be its last four and one more, six is too long to
 * occur by chance (62^6 values) even in the listing of a thousand keys.
 */
const LISTING_FRAGMENT = 6;

/** The secrets that `text` holds whole, or a run of {@link FRAGMENT} characters of. */
function leaks(
  text: string,
  secrets: string[],
  listing: boolean,
): Array<{ secret: string; whole: boolean }> {
  const whole = new Set(leakedSecrets(text, secrets));
  return secrets
    .filter(
      (secret) => whole.has(secret) || (secret.length >= 12 && holdsRun(text, secret, listing)),
    )
    .map((secret) => ({ secret, whole: whole.has(secret) }));
}

function holdsRun(text: string, secret: string, listing: boolean): boolean {
  const prefix = /^cci_[A-Za-z]+_/.exec(secret)?.[0] ?? '';
  const body = secret.slice(prefix.length);
  // In any case: a key folded to lower or upper case is still the key to a server that
  // compares keys ignoring case, and 8 characters of one are no accident either way.
  const folded = text.toLowerCase();
  for (let i = 0; i + FRAGMENT <= body.length; i++) {
    if (folded.includes(body.slice(i, i + FRAGMENT).toLowerCase())) return true;
  }
  if (listing) {
    for (let i = 0; i + LISTING_FRAGMENT <= body.length; i++) {
      if (text.includes(body.slice(i, i + LISTING_FRAGMENT))) return true;
    }
  }
  // The prefix and the first characters: more than the last four a listing may show. In a
  // listing, the prefix may be followed by the last four (a masked key) and nothing else.
  if (prefix && text.includes(`${prefix}${body.slice(0, 4)}`)) return true;
  if (listing && prefix && showsPrefixWithBody(text, prefix, body)) return true;
  // Hex, in either case: a debug header or a field of another encoding.
  if (folded.includes(Buffer.from(secret).toString('hex'))) return true;
  return inBase64(text, secret);
}

/**
 * True when `prefix` is followed in `text` by the first three characters of `body`: a mask
 * that shows the start of the key. Three, so that another key's `prefix` + last four, which
 * a listing of many keys may show, matches by chance only once in 238,000 keys; the
 * key's own last four after its prefix is no start of it.
 */
function showsPrefixWithBody(text: string, prefix: string, body: string): boolean {
  const start = `${prefix}${body.slice(0, 3)}`;
  const ownMask = `${prefix}${body.slice(-4)}`;
  for (let at = text.indexOf(start); at >= 0; at = text.indexOf(start, at + 1)) {
    const masked =
      text.startsWith(ownMask, at) && !/[A-Za-z0-9]/.test(text[at + ownMask.length] ?? '');
    if (!masked) return true;
  }
  return false;
}

/**
 * True when `text` holds `secret` base64-encoded (plain or URL-safe), alone or inside a
 * longer encoded value such as `Bearer <key>`: each of the three alignments is looked for,
 * without the characters that the neighbours of the secret would change.
 */
function inBase64(text: string, secret: string): boolean {
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.from(`${'\0'.repeat(offset)}${secret}`).toString('base64');
    const core = encoded.slice(4, encoded.length - 4);
    const urlSafe = core.replace(/\+/g, '-').replace(/\//g, '_');
    if (text.includes(core) || text.includes(urlSafe)) return true;
  }
  return false;
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text || '(empty)';
}

/** The failed checks as one message: requirement, where, expected, actual. */
export function describeFailures(checks: Check[]): string {
  return checks
    .filter((c) => !c.ok)
    .map((c) => `${c.requirement} ${c.what}: expected ${c.expected}, got ${c.actual}`)
    .join('\n');
}

function parsed(res: HttpResponse): Record<string, unknown> | undefined {
  try {
    const body = JSON.parse(res.body) as unknown;
    return body !== null && typeof body === 'object'
      ? (body as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** MGMT-02: a refusal of bad input names what is wrong, in its message or its details. */
export function namesCheck(names: string, res: HttpResponse): Check {
  const error = parsed(res)?.error as { message?: unknown; details?: unknown } | undefined;
  const said = [error?.message, ...(Array.isArray(error?.details) ? error.details : [])]
    .map((part) => JSON.stringify(part ?? ''))
    .join(' ');
  return said.toLowerCase().includes(names.toLowerCase())
    ? pass('MGMT-02', `refusal names ${names}`)
    : fail(
        'MGMT-02',
        '/error/message and /error/details',
        `a mention of ${names}`,
        said || '(none)',
      );
}

/** MGMT-03: the introspection reports the caller's address and its key's plan. */
export function identityChecks(
  expected: { clientAddress: string; plan: string },
  res: HttpResponse,
): Check[] {
  const body = parsed(res) ?? {};
  const same = (a: unknown, b: string) =>
    typeof a === 'string' && a.replace(/^::ffff:/i, '').toLowerCase() === b.toLowerCase();
  const checks: Check[] = [];
  for (const [field, value] of Object.entries(expected)) {
    checks.push(
      same(body[field], value)
        ? pass('MGMT-03', field)
        : fail('MGMT-03', `/${field}`, value, String(body[field])),
    );
  }
  for (const field of ['keyId', 'name']) {
    const value = body[field];
    checks.push(
      typeof value === 'string' && value.length > 0
        ? pass('MGMT-03', field)
        : fail('MGMT-03', `/${field}`, 'the key it names', String(value)),
    );
  }
  return checks;
}
