import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Operation } from '../src/contract/model.js';
import { digestKey, sameDigest } from '../src/secrets/keys.js';
import { clientAddress, isAllowed, parseAllowEntry, type AllowEntry } from './addresses.js';
import { hasQueryCredential, readAuthorization, repeatsAuthorization } from './credentials.js';
import { prepareError, sendError, sendPrepared, type PreparedError } from './errors.js';
import type { StoredKey } from './store.js';

const allowlists = new Map<string, AllowEntry[]>();

/** A key's allowlist, parsed once; entries were validated when the key was created. */
export function allowlistOf(key: StoredKey): AllowEntry[] {
  let entries = allowlists.get(key.id);
  if (!entries) {
    entries = key.allowedIps
      .map(parseAllowEntry)
      .filter((e): e is AllowEntry => typeof e !== 'string');
    allowlists.set(key.id, entries);
  }
  return entries;
}

/** The address the request is attributed to, after the trusted-proxy rules. */
export function callerAddress(request: FastifyRequest): string {
  const { trustedProxies } = request.server.cci;
  return clientAddress(
    request.socket.remoteAddress ?? '',
    request.headers['x-forwarded-for'],
    trustedProxies,
  );
}

/** RFC 9110 §5.3: Authorization is sent once; RFC 6750 §3.1: a repeated parameter. */
const REPEATED = {
  message: 'Send one Authorization header, not several.',
  challengeError: 'invalid_request',
};

/** Every answer the key gate can refuse with, prepared once per realm. */
type Refusals = ReturnType<typeof prepareRefusals>;

function prepareRefusals(realm: string) {
  const sent = { credentialSent: true };
  return {
    repeated: prepareError(realm, 400, 'invalid_request', REPEATED),
    // RFC 6750 §2: a token sent two ways at once is a malformed request (§3.1).
    twoPlaces: prepareError(realm, 400, 'invalid_request', {
      message: 'Send the API key in the Authorization header only, not also in the query string.',
      challengeError: 'invalid_request',
    }),
    missing: prepareError(realm, 401, 'missing_api_key'),
    malformed: prepareError(realm, 401, 'malformed_api_key', sent),
    testKey: prepareError(realm, 401, 'test_key_not_supported', sent),
    unknown: prepareError(realm, 401, 'invalid_api_key', sent),
    revoked: prepareError(realm, 401, 'revoked_api_key', sent),
    address: prepareError(realm, 403, 'ip_not_allowed'),
    route: prepareError(realm, 404, 'not_found'),
    plan: prepareError(realm, 403, 'plan_restricted'),
  };
}

/**
 * The gate of one operation as an onRequest hook; without an operation, of the paths that
 * match none (404).
 */
export function apiKeyGate(realm: string, operation?: Operation) {
  const refusals = prepareRefusals(realm);
  return (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (admitApiKey(request, reply, operation, refusals)) done();
  };
}

/** A route handler, as this server writes them. */
export type Handler = (request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * An operation's handler with the gate as its first step, for GET and HEAD routes. Fastify
 * reads no body for those methods and this server registers no hook between routing and
 * the handler, so the gate still runs before anything else sees the request; what it
 * saves is the hook runner, whose per-request closures cost the hottest route several
 * percent of its throughput.
 */
export function gatedHandler(realm: string, operation: Operation, handler: Handler): Handler {
  const refusals = prepareRefusals(realm);
  return (request, reply) =>
    admitApiKey(request, reply, operation, refusals) ? handler(request, reply) : undefined;
}

/**
 * The API-key gate, run before routing so that an unauthenticated caller learns nothing
 * about which paths exist. The order of the checks is the contract's precedence:
 * credential (401), address (403), route (404), plan (403). True when the caller is
 * admitted; otherwise the refusal has been sent. It is synchronous: the valid path is the
 * hot path, and it allocates no promise.
 */
function admitApiKey(
  request: FastifyRequest,
  reply: FastifyReply,
  operation: Operation | undefined,
  refuse: Refusals,
): boolean {
  const { contract, store } = request.server.cci;
  const header = request.headers.authorization;

  if (header !== undefined) {
    if (repeatsAuthorization(request.raw.rawHeaders))
      return refused(request, reply, refuse.repeated);
    if (header.trim() !== '' && hasQueryCredential(request.url))
      return refused(request, reply, refuse.twoPlaces);
  }

  const presented = readAuthorization(header, contract.keyFormat);
  if (presented.kind === 'none') return refused(request, reply, refuse.missing);
  if (presented.kind === 'malformed') return refused(request, reply, refuse.malformed);
  if (presented.kind === 'test') return refused(request, reply, refuse.testKey);

  const key = store.findBySecret(presented.key);
  if (!key) return refused(request, reply, refuse.unknown);
  if (key.revokedAt !== null) return refused(request, reply, refuse.revoked);

  // An entry that no longer parses admits no one: it never widens the allowlist to all.
  if (key.allowedIps.length > 0 && !isAllowed(callerAddress(request), allowlistOf(key))) {
    return refused(request, reply, refuse.address);
  }

  if (!operation) return refused(request, reply, refuse.route);
  if (!operation.plans.includes(key.plan)) return refused(request, reply, refuse.plan);

  request.caller = { key };
  return true;
}

function refused(request: FastifyRequest, reply: FastifyReply, answer: PreparedError): false {
  sendPrepared(request, reply, answer);
  return false;
}

/** True when `header` carries the management token, compared in constant time. */
function isManagementToken(request: FastifyRequest, header: string): boolean {
  const match = /^bearer +(.+)$/is.exec(header);
  return match !== null && sameDigest(digestKey(match[1]!), request.server.cci.managementDigest);
}

/**
 * The gate of paths that match no route. The management token is no API key, but who
 * holds it may be told that a path does not exist (404) rather than that their token is
 * malformed; everyone else, and whoever also sends a credential in the query string,
 * meets the API-key gate.
 */
export function unroutedGate(realm: string) {
  const gate = apiKeyGate(realm);
  return (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const header = request.headers.authorization;
    if (
      header !== undefined &&
      !repeatsAuthorization(request.raw.rawHeaders) &&
      !hasQueryCredential(request.url) &&
      isManagementToken(request, header)
    ) {
      return done();
    }
    return gate(request, reply, done);
  };
}

/** The gate of the key-management operations: the management token, compared in constant time. */
export async function authenticateManagement(request: FastifyRequest, reply: FastifyReply) {
  const header = request.headers.authorization;
  if (header !== undefined && repeatsAuthorization(request.raw.rawHeaders)) {
    return sendError(request, reply, 400, 'invalid_request', REPEATED);
  }
  if (header === undefined || header.trim() === '')
    return sendError(request, reply, 401, 'missing_api_key');
  // RFC 6750 §2: one method per request, whatever the header holds, as for API keys.
  if (hasQueryCredential(request.url)) {
    return sendError(request, reply, 400, 'invalid_request', {
      message:
        'Send the management token in the Authorization header only, not also in the query string.',
      challengeError: 'invalid_request',
    });
  }
  if (!isManagementToken(request, header)) {
    return sendError(request, reply, 401, 'invalid_api_key', {
      credentialSent: true,
      message: 'This management token is not recognised.',
    });
  }
}
