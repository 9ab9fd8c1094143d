import { AsyncLocalStorage } from 'node:async_hooks';
import type { Socket } from 'node:net';
import { digestKey } from '../../src/secrets/keys.js';
import type { StoredKey } from '../../reference/store.js';
import type { FastifyRequest } from 'fastify';
import { errorCode, onJsonReply, operationOf, wrapLookup } from './hooks.js';
import type { Variant } from './model.js';

/** Broken variants of the key lifecycle: LIFE-01 to LIFE-04. */

const since = (iso: string) => Date.now() - Date.parse(iso);

/** The connection a request arrived on, for the per-connection cache below. */
const connection = new AsyncLocalStorage<Socket>();

export const lifecycleVariants: Variant[] = [
  {
    id: 'revoked-403',
    breaks: 'LIFE-01',
    description: 'a revoked key gets 403 revoked_api_key, without a challenge',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, _request, reply) => {
        if (reply.statusCode !== 401 || errorCode(body) !== 'revoked_api_key') return;
        reply.code(403).removeHeader('www-authenticate');
      }),
  },
  {
    id: 'revocation-grace-1s',
    breaks: 'LIFE-02',
    description: 'a revoked key keeps working for 1 s after its revocation (a stale cache)',
    applied: 'store-wrapper',
    app: (app) =>
      wrapLookup(app, (next, secret) => {
        const key = next(secret);
        return key?.revokedAt && since(key.revokedAt) < 1000 ? { ...key, revokedAt: null } : key;
      }),
  },
  {
    id: 'revocation-per-connection-cache',
    breaks: 'LIFE-02',
    description: 'a key accepted on a connection stays accepted there, also after revocation',
    applied: 'handler-wrapper',
    app: (app) => {
      const accepted = new WeakMap<Socket, Map<string, StoredKey>>();
      wrapLookup(app, (next, secret) => {
        const socket = connection.getStore();
        const digest = digestKey(secret).toString('hex');
        const cached = socket && accepted.get(socket)?.get(digest);
        if (cached) return cached;
        const key = next(secret);
        if (socket && key && key.revokedAt === null) {
          accepted.set(socket, (accepted.get(socket) ?? new Map()).set(digest, key));
        }
        return key;
      });
    },
    handler: (next) => (req, res) => connection.run(req.socket, () => next(req, res)),
  },
  {
    id: 'new-key-delay',
    breaks: 'LIFE-03',
    description: 'a new key is unknown for its first second (replication lag): rotation breaks',
    applied: 'store-wrapper',
    app: (app) =>
      wrapLookup(app, (next, secret) => {
        const key = next(secret);
        return key && since(key.createdAt) < 1000 ? undefined : key;
      }),
  },
  {
    id: 'revoke-revokes-account',
    breaks: 'LIFE-04',
    description: "revoking one key revokes every key of the key's account",
    applied: 'hook',
    app: (app) =>
      app.addHook('preHandler', async (request) => {
        if (request.routeOptions.config.operation?.operationId !== 'revokeApiKey') return;
        const { store } = app.cci;
        const key = store.get((request.params as { keyId: string }).keyId);
        if (!key) return;
        for (const sibling of store.list(key.accountId)) store.revoke(sibling.id);
      }),
  },
  {
    id: 'answers-cached-per-route',
    breaks: 'LIFE-02',
    description: 'answers of single-resource routes are cached for a minute per URL and key',
    applied: 'hook',
    app: (app) => {
      const cached = new Map<string, { at: number; type: string; body: string }>();
      const CACHED = new Set(['getCase', 'listDocketEntries', 'getJudgeAnalytics']);
      const keyOf = (request: FastifyRequest) =>
        `${request.url} ${request.headers.authorization ?? ''}`;
      const cacheable = (request: FastifyRequest) =>
        request.method === 'GET' && CACHED.has(operationOf(request)?.operationId ?? '');
      app.addHook('onRequest', async (request, reply) => {
        const hit = cacheable(request) ? cached.get(keyOf(request)) : undefined;
        if (hit && Date.now() - hit.at < 60_000)
          return reply.header('content-type', hit.type).send(hit.body);
      });
      app.addHook('onSend', async (request, reply, payload) => {
        if (cacheable(request) && reply.statusCode === 200 && typeof payload === 'string') {
          const type = String(reply.getHeader('content-type') ?? 'application/json');
          cached.set(keyOf(request), { at: Date.now(), type, body: payload });
        }
        return payload;
      });
    },
  },
];
