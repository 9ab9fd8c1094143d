import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Operation } from '../../src/contract/model.js';
import { QUERY_CREDENTIAL_PARAMS } from '../../reference/credentials.js';
import type { StoredKey } from '../../reference/store.js';
import { digestKeyText } from '../../src/secrets/keys.js';

/** Helpers the variants share to change a built reference app from outside. */

export type Json = Record<string, unknown>;

/** The contract operation a request was routed to; undefined for unknown routes. */
export const operationOf = (request: FastifyRequest): Operation | undefined =>
  request.routeOptions.config.operation;

/** True for requests the API-key gate handles: API-key operations and unknown routes. */
export const behindKeyGate = (request: FastifyRequest): boolean =>
  request.is404 || operationOf(request)?.security === 'apiKey';

/** The token after `Bearer` (any case), or undefined. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const match = /^bearer +(.*)$/is.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/** The key an API-key request presents, when the store knows it (revoked or not). */
export function presentedKey(request: FastifyRequest): StoredKey | undefined {
  const token = bearerToken(request);
  if (!token || operationOf(request)?.security !== 'apiKey') return undefined;
  return request.server.cci.store.findBySecret(token);
}

/** The `error.code` of a body, when it has one. */
export const errorCode = (body: Json): unknown => (body.error as Json | undefined)?.code;

/**
 * Lets `edit` change every JSON body the app sends. It may change the reply's status and
 * headers too; it returns the new body (an object, or text sent as is), or undefined to
 * keep the body.
 */
export function onJsonReply(
  app: FastifyInstance,
  edit: (body: Json, request: FastifyRequest, reply: FastifyReply) => Json | string | void,
): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' || payload === '') return payload;
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch {
      return payload;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return payload;
    const out = edit(body as Json, request, reply);
    return out === undefined ? payload : typeof out === 'string' ? out : JSON.stringify(out);
  });
}

/** Lets `edit` rewrite the `WWW-Authenticate` value of every answer that carries one. */
export function onChallenge(
  app: FastifyInstance,
  edit: (challenge: string, reply: FastifyReply) => string,
): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    const challenge = reply.getHeader('www-authenticate');
    if (typeof challenge === 'string') reply.header('www-authenticate', edit(challenge, reply));
    return payload;
  });
}

/**
 * Serves the management requests that `admit` picks as if they carried the management
 * credential, like a gateway in front of the API that vouches for them.
 */
export function admitToManagement(
  app: FastifyInstance,
  managementToken: string,
  admit: (request: FastifyRequest) => boolean,
): void {
  app.addHook('onRequest', async (request) => {
    if (operationOf(request)?.security === 'managementToken' && admit(request)) {
      request.headers = { authorization: `Bearer ${managementToken}` };
    }
  });
}

/** Wraps the key lookup of the app's store, like a cache or a loader in front of it. */
export function wrapLookup(
  app: FastifyInstance,
  wrap: (next: (secret: string) => StoredKey | undefined, secret: string) => StoredKey | undefined,
): void {
  const store = app.cci.store;
  const next = store.findBySecret.bind(store);
  store.findBySecret = (secret: string) => wrap(next, secret);
}

/**
 * A store that also finds a key by `part` of it (a checksum-less head, a truncated
 * column): what the real lookup misses, a presented key with the same part finds.
 */
export function lookupByPart(app: FastifyInstance, part: (key: string) => string): void {
  const { store } = app.cci;
  const byPart = new Map<string, string>();
  const create = store.create.bind(store);
  store.create = (...args) => {
    const made = create(...args);
    byPart.set(digestKeyText(part(made.key)), made.stored.id);
    return made;
  };
  wrapLookup(app, (next, secret) => {
    const id = byPart.get(digestKeyText(part(secret)));
    return next(secret) ?? (id === undefined ? undefined : store.get(id));
  });
}

/** The URL of a request without the named query parameters. */
export function withoutQuery(url: string, names: string[]): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const params = new URLSearchParams(url.slice(at + 1));
  for (const name of names) params.delete(name);
  const rest = params.toString();
  return rest ? `${url.slice(0, at)}?${rest}` : url.slice(0, at);
}

/**
 * Drops the query's credential parameters from the requests `applies` selects when they
 * carry an Authorization header: the gate then never sees the key sent two ways (CRED-08).
 */
export function dropQueryCredentialBesideHeader(
  app: FastifyInstance,
  applies: (request: FastifyRequest) => boolean,
): void {
  app.addHook('onRequest', async (request) => {
    if (!applies(request) || !request.headers.authorization) return;
    request.raw.url = withoutQuery(request.raw.url ?? '', QUERY_CREDENTIAL_PARAMS);
  });
}

/** The value of the first of `names` in the query string of `url`. */
export function queryValue(url: string, names: string[]): string | undefined {
  const at = url.indexOf('?');
  if (at < 0) return undefined;
  const params = new URLSearchParams(url.slice(at + 1));
  for (const name of names) {
    const value = params.get(name);
    if (value !== null) return value;
  }
  return undefined;
}

/** Replaces the Authorization header of a request, in `headers` and in the raw lines. */
export function setAuthorization(req: IncomingMessage, value: string): void {
  req.headers.authorization = value;
  const raw = req.rawHeaders;
  const at = raw.findIndex((name, i) => i % 2 === 0 && name.toLowerCase() === 'authorization');
  if (at >= 0) raw[at + 1] = value;
  else raw.push('Authorization', value);
}

/** Drops every Authorization line of a request but the first, as Node's `headers` does. */
export function keepFirstAuthorization(req: IncomingMessage): void {
  const raw = req.rawHeaders;
  let seen = false;
  for (let i = 0; i < raw.length;) {
    if (raw[i]!.toLowerCase() === 'authorization') {
      if (seen) {
        raw.splice(i, 2);
        continue;
      }
      seen = true;
    }
    i += 2;
  }
}

/** True when the path of `url` matches an OpenAPI path template such as /v1/cases/{caseId}. */
export function matchesTemplate(template: string, url: string): boolean {
  const path = url.split('?')[0]!;
  const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
  return new RegExp(`^${pattern}$`).test(path);
}
