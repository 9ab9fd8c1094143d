import type { FastifyReply, FastifyRequest } from 'fastify';
import { redactSecrets } from '../src/secrets/redact.js';

/** Where each error code is explained for humans. */
const DOCS = 'https://docs.californiacourtintel.com/api/authentication#errors';

/** Default wording per code; clients must rely on the code, never on these words. */
export const MESSAGES: Record<string, string> = {
  missing_api_key: 'No API key was sent. Send it as "Authorization: Bearer <key>".',
  malformed_api_key: 'The Authorization header is not "Bearer" followed by a CCI API key.',
  invalid_api_key: 'This API key is not recognised.',
  revoked_api_key: 'This API key has been revoked. Use a current key.',
  test_key_not_supported: 'Test keys (cci_test_) are not available yet. Use a live key.',
  ip_not_allowed: 'This API key may not be used from your address.',
  plan_restricted: 'Your plan does not include this endpoint.',
  invalid_request: 'The request is not in the documented shape.',
  not_found: 'There is no such endpoint.',
  key_not_found: 'There is no API key with this id.',
  internal_error: 'Something went wrong on our side. Quote the request id to support.',
};

export interface ErrorOptions {
  message?: string;
  /** For a 401: whether a credential was sent, which decides the challenge's error attribute. */
  credentialSent?: boolean;
  details?: Array<{ pointer: string; problem: string }>;
  /** An extra challenge attribute for non-401 answers (RFC 6750 §3.1 invalid_request). */
  challengeError?: string;
}

/**
 * Each code's error body with its default message, serialised once around the request
 * id: the refusal paths are hot under a flood of bad keys, and must cost no more than
 * acceptance. Custom messages (they may quote client input) are serialised each time.
 */
const defaultBodies = new Map<string, [string, string]>();

function errorHead(code: string, message: string): string {
  const fields = `"code":${JSON.stringify(code)},"message":${JSON.stringify(message)}`;
  return `{"error":{${fields},"requestId":`;
}

function errorTail(code: string): string {
  return `,"docs":${JSON.stringify(`${DOCS}-${code}`)}}}`;
}

function errorJson(code: string, message: string | undefined, requestId: string): string {
  if (message !== undefined) {
    return `${errorHead(code, message)}${JSON.stringify(requestId)}${errorTail(code)}`;
  }
  let parts = defaultBodies.get(code);
  if (!parts) {
    parts = [errorHead(code, MESSAGES[code] ?? code), errorTail(code)];
    defaultBodies.set(code, parts);
  }
  const id = /^[\w-]+$/.test(requestId) ? `"${requestId}"` : JSON.stringify(requestId);
  return `${parts[0]}${id}${parts[1]}`;
}

const challenges = new Map<string, Map<string | undefined, string>>();

/**
 * The Bearer challenge of a 401, built once per realm and code: without a credential only
 * the realm; with one, `invalid_token` and the code (RFC 6750 §3.1).
 */
function challenge(realm: string, code: string | undefined): string {
  let byCode = challenges.get(realm);
  if (byCode === undefined) challenges.set(realm, (byCode = new Map()));
  let value = byCode.get(code);
  if (value === undefined) {
    value =
      code === undefined
        ? `Bearer realm="${realm}"`
        : `Bearer realm="${realm}", error="invalid_token", error_description="${code}"`;
    byCode.set(code, value);
  }
  return value;
}

/** Sends the contract's error body, and for a 401 the Bearer challenge (RFC 6750 §3). */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  options: ErrorOptions = {},
): FastifyReply {
  const realm = request.server.cci.contract.realm;
  if (status === 401) {
    reply.header('www-authenticate', challenge(realm, options.credentialSent ? code : undefined));
  } else if (options.challengeError) {
    reply.header('www-authenticate', `Bearer realm="${realm}", error="${options.challengeError}"`);
  }
  reply.code(status).header('content-type', 'application/json; charset=utf-8');
  // Messages may quote client input; whatever looks like a key is redacted first.
  const custom = options.message === undefined ? undefined : redactSecrets(options.message);
  if (!options.details) return reply.send(errorJson(code, custom, request.id));
  const message = custom ?? MESSAGES[code] ?? code;

  const details = options.details.map((d) => ({
    pointer: d.pointer,
    problem: redactSecrets(d.problem),
  }));
  const error = { code, message, requestId: request.id, docs: `${DOCS}-${code}`, details };
  return reply.send({ error });
}
