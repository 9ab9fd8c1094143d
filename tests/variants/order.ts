import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { isAllowed } from '../../reference/addresses.js';
import { allowlistOf, callerAddress } from '../../reference/authenticate.js';
import { sendError } from '../../reference/errors.js';
import type { StoredKey } from '../../reference/store.js';
import { bearerToken, operationOf, presentedKey } from './hooks.js';
import type { Variant } from './model.js';
import type { ProxyAnswer } from './proxy.js';

/** Broken variants of the precedence of the checks: ORDER-01 to ORDER-03. */

/** Whether the request's address is on the key's allowlist, as the server would decide. */
const addressAllowed = (request: FastifyRequest, key: StoredKey) =>
  key.allowedIps.length === 0 || isAllowed(callerAddress(request), allowlistOf(key));

/** A gateway's 400 for a JSON body that does not parse; undefined lets the request pass. */
export function badJson(req: IncomingMessage, body: string): ProxyAnswer | undefined {
  if (!/^application\/json/i.test(req.headers['content-type'] ?? '') || body === '')
    return undefined;
  try {
    JSON.parse(body);
    return undefined;
  } catch {
    const error = { code: 'invalid_request', message: 'The body is not valid JSON.' };
    return { status: 400, body: JSON.stringify({ error }) };
  }
}

/** The key a request to a path that matches no route presents, when the store knows it. */
function keyOnUnknownPath(request: FastifyRequest): StoredKey | undefined {
  const token = bearerToken(request);
  return request.is404 && token ? request.server.cci.store.findBySecret(token) : undefined;
}

export const orderVariants: Variant[] = [
  {
    id: 'address-before-revocation',
    breaks: 'ORDER-01',
    description: 'the allowlist is checked before revocation: a revoked key gets ip_not_allowed',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        const key = presentedKey(request);
        if (!key || key.revokedAt === null || addressAllowed(request, key)) return;
        return sendError(request, reply, 403, 'ip_not_allowed');
      }),
  },
  {
    id: 'plan-before-address',
    breaks: 'ORDER-02',
    description: 'the plan is checked before the address: plan_restricted, not ip_not_allowed',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        const key = presentedKey(request);
        if (!key || key.revokedAt !== null) return;
        if (operationOf(request)?.plans.includes(key.plan)) return;
        return sendError(request, reply, 403, 'plan_restricted');
      }),
  },
  {
    id: 'unknown-route-404',
    breaks: 'ORDER-03',
    description: 'routing comes first: an unknown path gets 404 whoever asks',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        if (request.is404) return sendError(request, reply, 404, 'not_found');
      }),
  },
  {
    id: 'undecodable-path-400',
    breaks: 'ORDER-03',
    description:
      'the router answers a path it cannot decode itself: 400, quoting it, before any key',
    applied: 'proxy',
    proxy: {
      answer: (req) => {
        const path = (req.url ?? '/').split('?')[0]!;
        try {
          decodeURIComponent(path);
          return undefined;
        } catch {
          const message = `'${path}' is not a valid url component`;
          return { status: 400, body: JSON.stringify({ error: 'Bad Request', message }) };
        }
      },
    },
  },
  {
    id: 'body-parsed-before-key',
    breaks: 'ORDER-03',
    description: 'a gateway parses JSON bodies before the key is checked: 400 for one that fails',
    applied: 'proxy',
    proxy: { answer: badJson },
  },
  {
    id: 'unknown-route-ignores-revocation',
    breaks: 'ORDER-03',
    description: 'on a path that does not exist a revoked key is not refused: 404',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        if (!request.is404) return;
        const key = keyOnUnknownPath(request);
        if (key?.revokedAt) return sendError(request, reply, 404, 'not_found');
      }),
  },
  {
    id: 'body-parsed-when-authorized',
    breaks: 'ORDER-03',
    description: 'a gateway parses JSON bodies of requests that carry any Authorization header',
    applied: 'proxy',
    proxy: { answer: (req, body) => (req.headers.authorization ? badJson(req, body) : undefined) },
  },
  {
    id: 'unknown-route-before-address',
    breaks: 'IP-01',
    description: 'on a path that does not exist, a key from a refused address gets 404, not 403',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        if (!request.is404) return;
        const key = keyOnUnknownPath(request);
        if (key && key.revokedAt === null && !addressAllowed(request, key))
          return sendError(request, reply, 404, 'not_found');
      }),
  },
];
