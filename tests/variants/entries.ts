import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { digestKey } from '../../src/secrets/keys.js';
import { sendError } from '../../reference/errors.js';
import type { StoredKey } from '../../reference/store.js';
import {
  admitToManagement,
  bearerToken,
  onJsonReply,
  operationOf,
  wrapLookup,
  type Json,
} from './hooks.js';
import type { Variant } from './model.js';
import { badJson } from './order.js';

/** The raw request being handled, for store wrappers that need to see it. */
export const current = new AsyncLocalStorage<IncomingMessage>();
export const withRequest =
  (next: RequestListener): RequestListener =>
  (req, res) =>
    current.run(req, () => next(req, res));

/** A store wrapper that changes the key a lookup finds, knowing the request. */
export const loader =
  (change: (key: StoredKey, req: IncomingMessage | undefined) => StoredKey) =>
  (app: FastifyInstance) =>
    wrapLookup(app, (next, secret) => {
      const key = next(secret);
      return key && change(key, current.getStore());
    });

/** The plan that includes every operation. */
export const topPlan = (app: FastifyInstance) => app.cci.contract.plans.at(-1)!;

/** A listing that shows, in a field of its own, what `show` makes of each created key. */
const listingShows =
  (field: string, show: (key: string) => string, when: (url: string) => boolean = () => true) =>
  (app: FastifyInstance) => {
    const shown = new Map<string, string>();
    onJsonReply(app, (body, request) => {
      const operationId = operationOf(request)?.operationId;
      if (operationId === 'createApiKey' && typeof body.key === 'string') {
        shown.set(String(body.id), show(body.key));
      }
      if (operationId !== 'listApiKeys' || !Array.isArray(body.keys) || !when(request.url)) return;
      return {
        keys: (body.keys as Json[]).map((k) => ({ ...k, [field]: shown.get(String(k.id)) })),
      };
    });
  };

/**
 * Broken variants of key entries and their life: caches that outlive a revocation, keys
 * matched by name, what management answers show, and management input that is quietly
 * repaired instead of refused.
 */
export const entryVariants: Variant[] = [
  {
    id: 'hot-key-cache',
    breaks: 'LIFE-02',
    description: 'keys looked up 6+ times are admitted to a cache that revocation does not clear',
    applied: 'store-wrapper',
    app: (app) => {
      const seen = new Map<string, number>();
      const hot = new Map<string, StoredKey>();
      wrapLookup(app, (next, secret) => {
        const digest = digestKey(secret).toString('hex');
        const cached = hot.get(digest);
        if (cached) return cached;
        const key = next(secret);
        const n = (seen.get(digest) ?? 0) + 1;
        seen.set(digest, n);
        if (key && n >= 6) hot.set(digest, key);
        return key;
      });
    },
  },
  {
    id: 'exports-auth-cache',
    breaks: 'LIFE-02',
    description: 'the export route checks keys through its own 60 s cache of accepted keys',
    applied: 'handler-wrapper',
    app: (app) => {
      const cache = new Map<string, { at: number; key: StoredKey }>();
      wrapLookup(app, (next, secret) => {
        const req = current.getStore();
        if (!(req?.method === 'POST' && (req.url ?? '').startsWith('/v1/exports')))
          return next(secret);
        const digest = digestKey(secret).toString('hex');
        const hit = cache.get(digest);
        if (hit && Date.now() - hit.at < 60_000) return hit.key;
        const key = next(secret);
        if (key && key.revokedAt === null) cache.set(digest, { at: Date.now(), key });
        return key;
      });
    },
    handler: withRequest,
  },
  {
    id: 'revoked-same-second',
    breaks: 'LIFE-02',
    description:
      'a key revoked within the second it was created counts as active (seconds compared)',
    applied: 'store-wrapper',
    app: loader((key) =>
      key.revokedAt && key.revokedAt.slice(0, 19) <= key.createdAt.slice(0, 19)
        ? { ...key, revokedAt: null }
        : key,
    ),
  },
  {
    id: 'account-cache',
    breaks: 'LIFE-02',
    description: "an account's keys are cached until a key is created in that account",
    applied: 'store-wrapper',
    app: (app) => {
      const cache = new Map<string, StoredKey>();
      wrapLookup(app, (next, secret) => {
        const digest = digestKey(secret).toString('hex');
        const hit = cache.get(digest);
        if (hit) return hit;
        const key = next(secret);
        if (key) cache.set(digest, key);
        return key;
      });
      app.addHook('onResponse', async (request) => {
        if (operationOf(request)?.operationId === 'createApiKey') cache.clear();
      });
    },
  },
  {
    id: 'create-replaces-same-name',
    breaks: 'LIFE-03',
    description:
      "creating a key revokes the account's active keys of the same name (upsert by name)",
    applied: 'hook',
    app: (app) =>
      app.addHook('preHandler', async (request) => {
        if (operationOf(request)?.operationId !== 'createApiKey') return;
        const body = request.body as Json | undefined;
        if (!body || typeof body.name !== 'string') return;
        const account = typeof body.accountId === 'string' ? body.accountId : 'default';
        for (const k of app.cci.store.list(account)) {
          if (k.name === body.name.trim() && k.revokedAt === null) app.cci.store.revoke(k.id);
        }
      }),
  },
  {
    id: 'revoke-by-name',
    breaks: 'LIFE-04',
    description: 'revoking a key revokes every key of its account with the same name',
    applied: 'hook',
    app: (app) =>
      app.addHook('preHandler', async (request) => {
        if (operationOf(request)?.operationId !== 'revokeApiKey') return;
        const key = app.cci.store.get((request.params as { keyId: string }).keyId);
        if (!key) return;
        for (const k of app.cci.store.list(key.accountId))
          if (k.name === key.name) app.cci.store.revoke(k.id);
      }),
  },
  {
    id: 'list-shows-hex',
    breaks: 'MGMT-01',
    description: 'the listing shows each key hex-encoded',
    applied: 'hook',
    app: listingShows('secretHex', (key) => Buffer.from(key).toString('hex')),
  },
  {
    id: 'list-shows-first-six',
    breaks: 'MGMT-01',
    description: "the listing shows the key body's first six characters in a field of their own",
    applied: 'hook',
    app: listingShows('start', (key) => key.slice(9, 15)),
  },
  {
    id: 'list-masked-first-three',
    breaks: 'MGMT-01',
    description: 'the listing shows a mask: prefix, first three characters, last four',
    applied: 'hook',
    app: listingShows('masked', (key) => `${key.slice(0, 12)}…${key.slice(-4)}`),
  },
  {
    id: 'list-unfiltered-shows-keys',
    breaks: 'MGMT-01',
    description: 'the listing of all accounts (no accountId) shows full keys',
    applied: 'hook',
    app: listingShows(
      'key',
      (key) => key,
      (url) => !url.includes('accountId='),
    ),
  },
  {
    id: 'revoke-answer-shows-key',
    breaks: 'MGMT-01',
    description: 'revoking answers 200 with the key record, secret included',
    applied: 'hook',
    app: (app) => {
      const shown = new Map<string, Json>();
      onJsonReply(app, (body, request) => {
        if (operationOf(request)?.operationId === 'createApiKey' && typeof body.key === 'string')
          shown.set(String(body.id), body);
      });
      app.addHook('onSend', async (request, reply, payload) => {
        if (operationOf(request)?.operationId !== 'revokeApiKey' || reply.statusCode !== 204)
          return payload;
        const rec = shown.get((request.params as { keyId: string }).keyId);
        if (!rec) return payload;
        reply.code(200).header('content-type', 'application/json');
        return JSON.stringify({ ...rec, revokedAt: new Date().toISOString() });
      });
    },
  },
  {
    id: 'list-base64',
    breaks: 'MGMT-01',
    description: 'the listing shows each key base64-encoded',
    applied: 'hook',
    app: listingShows('secretB64', (key) => Buffer.from(key).toString('base64')),
  },
  {
    id: 'empty-entry-accepted',
    breaks: 'MGMT-02',
    description: 'empty allowlist entries are dropped, not refused ([""] makes an open key)',
    applied: 'hook',
    app: (app) =>
      app.addHook('preValidation', async (request) => {
        if (operationOf(request)?.operationId !== 'createApiKey') return;
        const body = request.body as Json | undefined;
        if (body && Array.isArray(body.allowedIps))
          body.allowedIps = body.allowedIps.filter(
            (e) => !(typeof e === 'string' && e.trim() === ''),
          );
      }),
  },
  {
    id: 'plan-defaults-cheapest',
    breaks: 'MGMT-02',
    description: 'a key creation without a plan gets the cheapest plan instead of 400',
    applied: 'hook',
    app: (app) =>
      app.addHook('preValidation', async (request) => {
        if (operationOf(request)?.operationId !== 'createApiKey') return;
        const body = request.body as Json | undefined;
        if (body && typeof body === 'object' && body.plan === undefined)
          body.plan = app.cci.contract.plans[0];
      }),
  },
  {
    id: 'revoke-odd-id-400',
    breaks: 'MGMT-02',
    description: 'revoking an id not shaped like key_<16> gets 400 invalid_request, not 404',
    applied: 'hook',
    app: (app) =>
      app.addHook('preHandler', async (request, reply) => {
        if (operationOf(request)?.operationId !== 'revokeApiKey') return;
        const { keyId } = request.params as { keyId: string };
        if (!/^key_[A-Za-z0-9]{16}$/.test(keyId))
          return sendError(request, reply, 400, 'invalid_request', {
            details: [{ pointer: 'keyId', problem: 'must be key_ and 16 letters or digits' }],
          });
      }),
  },
  {
    id: 'list-bad-account-ignored',
    breaks: 'MGMT-02',
    description: 'listing with an accountId of the wrong shape answers 200 with no keys',
    applied: 'hook',
    app: (app) =>
      app.addHook('preHandler', async (request, reply) => {
        if (operationOf(request)?.operationId !== 'listApiKeys') return;
        const { accountId } = request.query as { accountId?: string };
        if (accountId !== undefined && !/^[a-z0-9_-]{1,64}$/.test(accountId))
          return reply.send({ keys: [] });
      }),
  },
  {
    id: 'create-account-normalised',
    breaks: 'MGMT-02',
    description:
      'an accountId of the wrong shape is normalised (lower case, - for others), not refused',
    applied: 'hook',
    app: (app) =>
      app.addHook('preValidation', async (request) => {
        if (operationOf(request)?.operationId !== 'createApiKey') return;
        const body = request.body as Json | undefined;
        if (body && typeof body.accountId === 'string')
          body.accountId =
            body.accountId
              .toLowerCase()
              .replace(/[^a-z0-9_-]/g, '-')
              .slice(0, 64) || 'default';
      }),
  },
  {
    id: 'mgmt-body-first-with-auth',
    breaks: 'MGMT-04',
    description: 'a gateway parses management bodies first when any Authorization header is sent',
    applied: 'proxy',
    proxy: {
      answer: (req, body) =>
        (req.url ?? '').startsWith('/v1/keys') && req.headers.authorization
          ? badJson(req, body)
          : undefined,
    },
  },
  {
    id: 'plan-by-prefix',
    breaks: 'PLAN-01',
    description: 'plans are granted by the first two path segments (/v1/cases → starter)',
    applied: 'handler-wrapper',
    app: (app) =>
      loader((key, req) =>
        (req?.url ?? '').startsWith('/v1/cases') ? { ...key, plan: topPlan(app) } : key,
      )(app),
    handler: withRequest,
  },
  {
    id: 'mgmt-token-ignore-case',
    breaks: 'MGMT-04',
    description: 'the management token is compared ignoring case',
    applied: 'hook',
    app: (app, { managementToken }) =>
      admitToManagement(app, managementToken, (request) => {
        const t = bearerToken(request);
        return t !== undefined && t.toLowerCase() === managementToken.toLowerCase();
      }),
  },
  {
    id: 'mgmt-token-first-32',
    breaks: 'MGMT-04',
    description: 'the management token is compared on its first 32 characters',
    applied: 'hook',
    app: (app, { managementToken }) =>
      admitToManagement(app, managementToken, (request) => {
        const t = bearerToken(request);
        return t !== undefined && t.slice(0, 32) === managementToken.slice(0, 32);
      }),
  },
];
