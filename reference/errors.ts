import type { FastifyReply, FastifyRequest } from 'fastify';
import { redactSecrets } from '../src/secrets/redact.js';
import { oneByte } from './one-byte.js';

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

/** The media type of every JSON answer the reference writes itself. */
export const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * An error answer complete but for its request id. The key gate prepares its refusals
 * once, when its route is registered: under a flood of bad keys refusing is the hot path,
 * and it must cost no more than accepting.
 */
export interface PreparedError {
  status: number;
  /** The `WWW-Authenticate` value, when the answer carries one. */
  challenge: string | undefined;
  /** The serialised body before the request id, and after it. */
  head: string;
  tail: string;
}

export function prepareError(
  realm: string,
  status: number,
  code: string,
  options: Omit<ErrorOptions, 'details'> = {},
): PreparedError {
  // Messages may quote client input; whatever looks like a key is redacted first.
  const message =
    options.message === undefined ? (MESSAGES[code] ?? code) : redactSecrets(options.message);
  const fields = `"code":${JSON.stringify(code)},"message":${JSON.stringify(message)}`;
  const challenge = challengeOf(realm, status, code, options);
  return {
    status,
    challenge: challenge === undefined ? undefined : oneByte(challenge),
    head: oneByte(`{"error":{${fields},"requestId":`),
    tail: oneByte(`,"docs":${JSON.stringify(`${DOCS}-${code}`)}}}`),
  };
}

/** The Bearer challenge (RFC 6750 §3): every 401 has one, `error` only when a key was sent. */
function challengeOf(
  realm: string,
  status: number,
  code: string,
  options: ErrorOptions,
): string | undefined {
  if (status === 401) {
    return options.credentialSent
      ? `Bearer realm="${realm}", error="invalid_token", error_description="${code}"`
      : `Bearer realm="${realm}"`;
  }
  return options.challengeError
    ? `Bearer realm="${realm}", error="${options.challengeError}"`
    : undefined;
}

export function sendPrepared(
  request: FastifyRequest,
  reply: FastifyReply,
  error: PreparedError,
): FastifyReply {
  if (error.challenge !== undefined) reply.header('www-authenticate', error.challenge);
  return reply
    .code(error.status)
    .header('content-type', JSON_TYPE)
    .send(`${error.head}${JSON.stringify(request.id)}${error.tail}`);
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
  if (!options.details) {
    return sendPrepared(request, reply, prepareError(realm, status, code, options));
  }
  const challenge = challengeOf(realm, status, code, options);
  if (challenge !== undefined) reply.header('www-authenticate', challenge);
  const message = options.message === undefined ? (MESSAGES[code] ?? code) : options.message;
  // Pointers name fields a client chose, which may be a key or anything else it sent.
  const details = options.details.map((d) => ({
    pointer: clipped(redactSecrets(d.pointer)),
    problem: clipped(redactSecrets(d.problem)),
  }));
  const error = {
    code,
    message: clipped(redactSecrets(message), 1000),
    requestId: request.id,
    docs: `${DOCS}-${code}`,
    details,
  };
  return reply.code(status).header('content-type', JSON_TYPE).send({ error });
}

/** Client input quoted in an answer, cut to `max` characters. */
function clipped(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
