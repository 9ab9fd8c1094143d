import type { FastifyInstance } from 'fastify';
import {
  admitToManagement,
  bearerToken,
  dropQueryCredentialBesideHeader,
  onJsonReply,
  operationOf,
  setAuthorization,
  type Json,
} from './hooks.js';
import type { Variant } from './model.js';
import { badJson } from './order.js';

/**
 * A listing that adds `field` to each key: `show` of its secret, kept in memory from the
 * answer that created it.
 */
const listingShows = (field: string, show: (key: string) => string) => (app: FastifyInstance) => {
  const shown = new Map<string, string>();
  onJsonReply(app, (body, request) => {
    const operationId = operationOf(request)?.operationId;
    if (operationId === 'createApiKey' && typeof body.key === 'string') {
      shown.set(String(body.id), show(body.key));
    }
    if (operationId !== 'listApiKeys' || !Array.isArray(body.keys)) return;
    return { keys: (body.keys as Json[]).map((k) => ({ ...k, [field]: shown.get(String(k.id)) })) };
  });
};

/** Broken variants of the management API: MGMT-01 to MGMT-04. */
export const managementVariants: Variant[] = [
  {
    id: 'list-shows-secrets',
    breaks: 'MGMT-01',
    description: 'the key listing shows each full key (kept in memory when it was created)',
    applied: 'hook',
    app: listingShows('key', (key) => key),
  },
  {
    id: 'list-shows-key-preview',
    breaks: 'MGMT-01',
    description: 'the key listing adds a preview: the first eight characters after the prefix',
    applied: 'hook',
    app: listingShows('preview', (key) => `${key.slice(0, 17)}…`),
  },
  {
    id: 'revoke-unknown-id-204',
    breaks: 'MGMT-02',
    description: 'revoking a key id that names no key answers 204, not 404 key_not_found',
    applied: 'hook',
    app: (app) =>
      app.addHook('preHandler', async (request, reply) => {
        if (operationOf(request)?.operationId !== 'revokeApiKey') return;
        const { keyId } = request.params as { keyId: string };
        if (!app.cci.store.get(keyId)) return reply.code(204).send();
      }),
  },
  {
    id: 'bad-input-unexplained',
    breaks: 'MGMT-02',
    description: 'a refused key creation says only "Bad request." and gives no details',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, request, reply) => {
        if (operationOf(request)?.operationId !== 'createApiKey' || reply.statusCode !== 400)
          return;
        return { error: { code: 'invalid_request', message: 'Bad request.' } };
      }),
  },
  {
    id: 'introspection-wrong-plan',
    breaks: 'MGMT-03',
    description: "introspection reports the account's cheapest plan, not the key's",
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, request) => {
        if (operationOf(request)?.operationId !== 'getCallerIdentity') return;
        return { ...body, plan: app.cci.contract.plans[0] };
      }),
  },
  {
    id: 'introspection-local-address',
    breaks: 'MGMT-03',
    description: "introspection reports the server's own address as the client's",
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, request) => {
        if (operationOf(request)?.operationId !== 'getCallerIdentity') return;
        return { ...body, clientAddress: request.socket.localAddress };
      }),
  },
  {
    id: 'management-open-without-credential',
    breaks: 'MGMT-04',
    description: 'a management request with no Authorization header is served as the administrator',
    applied: 'hook',
    app: (app, { managementToken }) =>
      admitToManagement(app, managementToken, (request) => !request.headers.authorization),
  },
  {
    id: 'management-accepts-api-key',
    breaks: 'MGMT-04',
    description: 'an active API key on the top plan is also accepted as the management credential',
    applied: 'hook',
    app: (app, { managementToken }) =>
      admitToManagement(app, managementToken, (request) => {
        const token = bearerToken(request);
        const key = token === undefined ? undefined : app.cci.store.findBySecret(token);
        return key?.revokedAt === null && key.plan === app.cci.contract.plans.at(-1);
      }),
  },
  {
    id: 'list-shows-first-and-last-four',
    breaks: 'MGMT-01',
    description:
      'the key listing adds a hint: the prefix, the first four characters and the last four',
    applied: 'hook',
    app: listingShows('hint', (key) => `${key.slice(0, 13)}…${key.slice(-4)}`),
  },
  {
    id: 'create-drops-unknown-fields',
    breaks: 'MGMT-02',
    description:
      'fields a key creation does not have are dropped, not refused (a typo goes unseen)',
    applied: 'hook',
    app: (app) =>
      app.addHook('preValidation', async (request) => {
        if (operationOf(request)?.operationId !== 'createApiKey') return;
        const body = request.body as Json | undefined;
        if (!body || typeof body !== 'object') return;
        for (const field of Object.keys(body)) {
          if (!['name', 'plan', 'accountId', 'allowedIps'].includes(field)) delete body[field];
        }
      }),
  },
  {
    id: 'management-body-first',
    breaks: 'MGMT-04',
    description:
      'a gateway parses JSON bodies for the management API before its credential is checked',
    applied: 'proxy',
    proxy: {
      answer: (req, body) =>
        (req.url ?? '').startsWith('/v1/keys') ? badJson(req, body) : undefined,
    },
  },
  {
    id: 'management-header-and-query-accepted',
    breaks: 'CRED-08',
    description:
      'the management API serves a request that sends its token in the header and in the ' +
      'query string at once',
    applied: 'hook',
    app: (app) =>
      dropQueryCredentialBesideHeader(
        app,
        (request) => operationOf(request)?.security === 'managementToken',
      ),
  },
  {
    id: 'management-token-from-query',
    breaks: 'MGMT-04',
    description: 'the management API takes its token from ?access_token= when no header is sent',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        if (!(request.url.startsWith('/v1/keys') && request.headers.authorization === undefined))
          return;
        const token = new URL(request.url, 'http://x').searchParams.get('access_token');
        if (token) setAuthorization(request.raw, `Bearer ${token}`);
      }),
  },
];
