import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Operation } from '../src/contract/model.js';
import { digestKey, sameDigest } from '../src/secrets/keys.js';
import { clientAddress, isAllowed, parseAllowEntry, type AllowEntry } from './addresses.js';
import { hasQueryCredential, readAuthorization } from './credentials.js';
import { sendError } from './errors.js';
import type { StoredKey } from './store.js';

const allowlists = new Map<string, AllowEntry[]>();

/** A key's allowlist, parsed once; entries were validated when the key was created. */
function allowlistOf(key: StoredKey): AllowEntry[] {
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

/** A 401 for a credential that was sent and does not authenticate. */
function refuse(request: FastifyRequest, reply: FastifyReply, code: string): void {
  sendError(request, reply, 401, code, SENT);
}

const SENT = { credentialSent: true };

/** The gate of one operation; without an operation, of the paths that match none (404). */
export function apiKeyGate(operation?: Operation) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void) =>
    authenticateApiKey(request, reply, done, operation);
}

/**
 * The API-key gate, run before routing so that an unauthenticated caller learns nothing
 * about which paths exist. The order of the checks is the contract's precedence:
 * credential (401), address (403), route (404), plan (403). It is a callback hook, not an
 * async one: the valid path is the hot path, and it allocates no promise.
 */
export function authenticateApiKey(
  request: FastifyRequest,
  reply: FastifyReply,
  done: () => void,
  operation: Operation | undefined,
): void {
  const { contract, store } = request.server.cci;
  const header = request.headers.authorization;

  // RFC 6750 §2: a token sent two ways at once is a malformed request (§3.1).
  if (header !== undefined && header.trim() !== '' && hasQueryCredential(request.url)) {
    sendError(request, reply, 400, 'invalid_request', {
      message: 'Send the API key in the Authorization header only, not also in the query string.',
      challengeError: 'invalid_request',
    });
    return;
  }

  const presented = readAuthorization(header, contract.keyFormat);
  if (presented.kind === 'none') return void sendError(request, reply, 401, 'missing_api_key');
  if (presented.kind === 'malformed') return refuse(request, reply, 'malformed_api_key');
  if (presented.kind === 'test') return refuse(request, reply, 'test_key_not_supported');

  const key = store.findBySecret(presented.key);
  if (!key) return refuse(request, reply, 'invalid_api_key');
  if (key.revokedAt !== null) return refuse(request, reply, 'revoked_api_key');

  const allowlist = allowlistOf(key);
  if (allowlist.length > 0 && !isAllowed(callerAddress(request), allowlist)) {
    return void sendError(request, reply, 403, 'ip_not_allowed');
  }

  if (!operation) return void sendError(request, reply, 404, 'not_found');
  if (!operation.plans.includes(key.plan))
    return void sendError(request, reply, 403, 'plan_restricted');

  request.caller = { key };
  done();
}

/** The gate of the key-management operations: the management token, compared in constant time. */
export async function authenticateManagement(request: FastifyRequest, reply: FastifyReply) {
  const header = request.headers.authorization;
  if (header === undefined || header.trim() === '')
    return sendError(request, reply, 401, 'missing_api_key');
  const match = /^bearer +(.+)$/is.exec(header);
  const expected = request.server.cci.managementDigest;
  if (!match || !sameDigest(digestKey(match[1]!), expected)) {
    return sendError(request, reply, 401, 'invalid_api_key', {
      credentialSent: true,
      message: 'This management token is not recognised.',
    });
  }
}
