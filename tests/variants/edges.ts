import type { ServerResponse } from 'node:http';
import { QUERY_CREDENTIAL_PARAMS } from '../../reference/credentials.js';
import { sendError } from '../../reference/errors.js';
import { badJson } from './order.js';
import {
  behindKeyGate,
  bearerToken,
  errorCode,
  matchesTemplate,
  onChallenge,
  onJsonReply,
  operationOf,
  presentedKey,
  queryValue,
  setAuthorization,
  keepFirstAuthorization,
  lookupByPart,
} from './hooks.js';
import type { Variant } from './model.js';

/** An error answer written straight to the socket's response, past the reference. */
const json = (
  res: ServerResponse,
  status: number,
  code: string,
  extra: Record<string, string> = {},
) => {
  const body = JSON.stringify({ error: { code, message: `refused: ${code}` } });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
};

/**
 * Broken variants at the edges of a request: what surrounds a key in its header, methods
 * and paths no route has, query strings, HEAD, other header lines, and what an answer
 * carries besides its body.
 */
export const edgeVariants: Variant[] = [
  {
    id: 'split-on-space',
    breaks: 'CRED-03',
    description:
      'the token is the first space-separated word after the scheme: "Bearer <key> junk" accepted',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        const m = /^bearer +(\S+) .*$/is.exec(request.headers.authorization ?? '');
        if (m) setAuthorization(request.raw, `Bearer ${m[1]}`);
      }),
  },
  {
    id: 'prefix-case-folded',
    breaks: 'CRED-03',
    description:
      'the key prefix is matched ignoring case: CCI_LIVE_<body> is the key cci_live_<body>',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        const m = /^bearer +(cci_(?:live|test)_)([A-Za-z0-9]{32,64})$/is.exec(
          request.headers.authorization ?? '',
        );
        if (m && m[1] !== m[1]!.toLowerCase())
          setAuthorization(request.raw, `Bearer ${m[1]!.toLowerCase()}${m[2]}`);
      }),
  },
  {
    id: 'test-prefix-first',
    breaks: 'CRED-03',
    description: 'any cci_test_ token, whatever its body, is answered test_key_not_supported',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        const token = bearerToken(request);
        const { keyFormat } = app.cci.contract;
        if (!behindKeyGate(request) || !token?.startsWith(keyFormat.testPrefix)) return;
        if (keyFormat.pattern.test(token)) return;
        return sendError(request, reply, 401, 'test_key_not_supported', { credentialSent: true });
      }),
  },
  {
    id: 'test-key-unknown-route-404',
    breaks: 'CRED-05',
    description: 'on a path that matches no route, a cci_test_ key gets 404',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        const token = bearerToken(request);
        const { keyFormat } = app.cci.contract;
        if (!request.is404 || !token?.startsWith(keyFormat.testPrefix)) return;
        if (keyFormat.pattern.test(token)) return sendError(request, reply, 404, 'not_found');
      }),
  },
  {
    id: 'undecodable-generic-401',
    breaks: 'CHAL-02',
    description:
      'a path that cannot be decoded gets a generic 401 missing_api_key, whatever key is sent',
    applied: 'handler-wrapper',
    handler: (next) => (req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      try {
        decodeURIComponent(path);
      } catch {
        return json(res, 401, 'missing_api_key', { 'www-authenticate': 'Bearer realm="cci"' });
      }
      next(req, res);
    },
  },
  {
    id: 'invalid-utf8-path-400',
    breaks: 'ORDER-03',
    description:
      'a path with well-formed escapes that are not UTF-8 (%FF) is answered 400 by the router',
    applied: 'proxy',
    proxy: {
      answer: (req) => {
        const path = (req.url ?? '/').split('?')[0]!;
        if (/%(?![0-9a-fA-F]{2})/.test(path)) return undefined;
        try {
          decodeURIComponent(path);
          return undefined;
        } catch {
          const error = { code: 'invalid_request', message: 'The path is not valid UTF-8.' };
          return { status: 400, body: JSON.stringify({ error }) };
        }
      },
    },
  },
  {
    id: 'trailing-slash-redirect',
    breaks: 'ORDER-03',
    description:
      'a path with a trailing slash is redirected (301) to the route without it, before any key',
    applied: 'handler-wrapper',
    handler: (next, app) => (req, res) => {
      const [path, query] = (req.url ?? '/').split('?');
      if (path!.length > 1 && path!.endsWith('/')) {
        const bare = path!.slice(0, -1);
        if (app.cci.contract.operations.some((op) => matchesTemplate(op.pathTemplate, bare))) {
          res.writeHead(301, { location: query ? `${bare}?${query}` : bare, 'content-length': 0 });
          return res.end();
        }
      }
      next(req, res);
    },
  },
  {
    id: 'put-patch-routed-first',
    breaks: 'ORDER-03',
    description:
      'PUT and PATCH (no route uses them) are answered by the router: 405 on known paths, 404 elsewhere',
    applied: 'handler-wrapper',
    handler: (next, app) => (req, res) => {
      if (req.method === 'PUT' || req.method === 'PATCH') {
        const url = req.url ?? '/';
        const ops = app.cci.contract.operations.filter((op) =>
          matchesTemplate(op.pathTemplate, url),
        );
        if (ops.length)
          return json(res, 405, 'invalid_request', { allow: ops.map((o) => o.method).join(', ') });
        return json(res, 404, 'not_found');
      }
      next(req, res);
    },
  },
  {
    id: 'options-preflight',
    breaks: 'ORDER-03',
    description:
      'OPTIONS without a key is a CORS preflight: 204 on known paths, 404 on unknown ones',
    applied: 'handler-wrapper',
    handler: (next, app) => (req, res) => {
      if (req.method === 'OPTIONS' && req.headers.authorization === undefined) {
        const url = req.url ?? '/';
        const ops = app.cci.contract.operations.filter((op) =>
          matchesTemplate(op.pathTemplate, url),
        );
        if (!ops.length) return json(res, 404, 'not_found');
        res.writeHead(204, {
          allow: ops.map((o) => o.method).join(', '),
          'access-control-allow-methods': ops.map((o) => o.method).join(', '),
          'access-control-allow-headers': 'authorization, content-type',
        });
        return res.end();
      }
      next(req, res);
    },
  },
  {
    id: 'head-without-key-200',
    breaks: 'CRED-02',
    description: 'HEAD without any Authorization header is a monitoring probe: 200',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        if (request.method !== 'HEAD' || request.headers.authorization !== undefined) return;
        if (operationOf(request)?.security !== 'apiKey') return;
        return reply.code(200).header('content-type', 'application/json').send('');
      }),
  },
  {
    id: 'head-401-no-challenge',
    breaks: 'CHAL-01',
    description: 'a 401 to HEAD carries no WWW-Authenticate (the bodiless fast path drops it)',
    applied: 'hook',
    app: (app) =>
      app.addHook('onSend', async (request, reply, payload) => {
        if (request.method === 'HEAD' && reply.statusCode === 401)
          reply.removeHeader('www-authenticate');
        return payload;
      }),
  },
  {
    id: 'html-errors-for-browsers',
    breaks: 'ERR-01',
    description: '4xx answers to clients that accept text/html are HTML pages',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, request, reply) => {
        if (reply.statusCode < 400 || reply.statusCode >= 500) return;
        if (!/text\/html/i.test(String(request.headers.accept ?? ''))) return;
        reply.header('content-type', 'text/html; charset=utf-8');
        return `<html><body><h1>${reply.statusCode}</h1><p>${String(errorCode(body))}</p></body></html>`;
      }),
  },
  {
    id: 'key-in-reason-phrase',
    breaks: 'ERR-02',
    description: 'a refused unknown key is quoted in the status line reason phrase',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, request, reply) => {
        const token = bearerToken(request);
        if (errorCode(body) !== 'invalid_api_key' || !token) return;
        reply.raw.statusMessage = `Unknown API key ${token.replace(/[^\x21-\x7e]/g, '')}`;
      }),
  },
  {
    id: 'key-hex-in-header',
    breaks: 'ERR-02',
    description: 'refusals carry the submitted token hex-encoded in an X-Debug-Token header',
    applied: 'hook',
    app: (app) =>
      app.addHook('onSend', async (request, reply, payload) => {
        const token = bearerToken(request);
        if (
          token &&
          reply.statusCode === 401 &&
          errorCode(JSON.parse(String(payload))) === 'invalid_api_key'
        )
          reply.header('x-debug-token', Buffer.from(token).toString('hex'));
        return payload;
      }),
  },
  {
    id: 'empty-authorization-dropped',
    breaks: 'CRED-09',
    description:
      'a proxy in front drops empty header lines, so an empty Authorization next to a real one vanishes',
    applied: 'proxy',
    proxy: {
      request: (headers) =>
        headers.filter(
          ([name, value]) => !(name.toLowerCase() === 'authorization' && value.trim() === ''),
        ),
    },
  },
  {
    id: 'body-parsed-on-known-routes',
    breaks: 'ORDER-03',
    description:
      'on known POST routes, a body is parsed (400) before the key in the header is verified',
    applied: 'proxy',
    proxy: {
      answer: (req, body) => {
        const url = req.url ?? '/';
        if (req.method !== 'POST' || !req.headers.authorization) return undefined;
        if (!['/v1/exports'].some((p) => matchesTemplate(p, url))) return undefined;
        return badJson(req, body);
      },
    },
  },
  {
    id: 'checksum-tail-ignored',
    breaks: 'CRED-04',
    description:
      'the last 6 characters are taken as a checksum and not compared: keys are looked up without them',
    applied: 'store-wrapper',
    app: (app) => lookupByPart(app, (key) => `${key.length}:${key.slice(0, -6)}`),
  },
  {
    id: 'query-authorization-param',
    breaks: 'CRED-07',
    description: 'a key in ?authorization=Bearer+<key> or ?apiKey= is used when no header is sent',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        if (!behindKeyGate(request) || request.headers.authorization !== undefined) return;
        const url = request.raw.url ?? '';
        const auth = queryValue(url, ['authorization']);
        const key = queryValue(url, ['apiKey', 'api-key', 'x-api-key']);
        if (auth !== undefined) request.raw.headers.authorization = auth;
        else if (key !== undefined) request.raw.headers.authorization = `Bearer ${key}`;
      }),
  },
  {
    id: 'search-cache',
    breaks: 'CRED-02',
    description: 'search answers with a q parameter are cached by URL and served to anyone',
    applied: 'hook',
    app: (app) => {
      const cache = new Map<string, string>();
      app.addHook('onRequest', async (request, reply) => {
        if (operationOf(request)?.operationId !== 'searchCases') return;
        if (queryValue(request.url, ['q']) === undefined) return;
        const hit = cache.get(request.url);
        if (hit) return reply.code(200).header('content-type', 'application/json').send(hit);
      });
      app.addHook('onSend', async (request, reply, payload) => {
        if (
          operationOf(request)?.operationId === 'searchCases' &&
          reply.statusCode === 200 &&
          queryValue(request.url, ['q']) !== undefined &&
          typeof payload === 'string'
        )
          cache.set(request.url, payload);
        return payload;
      });
    },
  },
  {
    id: 'query-string-breaks-plan',
    breaks: 'CRED-01',
    description:
      'the plan table is matched against the URL with its query string: a valid key with ?q= gets plan_restricted',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        const url = request.url;
        if (!url.includes('?') || queryValue(url, QUERY_CREDENTIAL_PARAMS) !== undefined) return;
        const key = presentedKey(request);
        if (!key || key.revokedAt !== null || key.allowedIps.length > 0) return;
        return sendError(request, reply, 403, 'plan_restricted');
      }),
  },
  {
    id: 'limit-validated-first',
    breaks: 'ORDER-01',
    description:
      'query parameters are validated against the contract before the key: ?limit=500 gets 400',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        if (operationOf(request)?.operationId !== 'searchCases') return;
        const limit = queryValue(request.url, ['limit']);
        if (limit === undefined) return;
        const n = Number(limit);
        if (!Number.isInteger(n) || n < 1 || n > 100)
          return sendError(request, reply, 400, 'invalid_request', {
            message: 'limit must be an integer from 1 to 100.',
          });
      }),
  },
  {
    id: 'dedupe-identical-authorization',
    breaks: 'CRED-09',
    description: 'a proxy drops an Authorization line identical to an earlier one',
    applied: 'proxy',
    proxy: {
      request: (headers) =>
        headers.filter(
          ([name, value], i) =>
            name.toLowerCase() !== 'authorization' ||
            headers.findIndex(([n, v]) => n.toLowerCase() === 'authorization' && v === value) === i,
        ),
    },
  },
  {
    id: 'join-authorization',
    breaks: 'CRED-09',
    description: 'a proxy joins repeated Authorization lines into one, comma-separated',
    applied: 'proxy',
    proxy: {
      request: (headers) => {
        const auth = headers.filter(([n]) => n.toLowerCase() === 'authorization').map(([, v]) => v);
        const rest = headers.filter(([n]) => n.toLowerCase() !== 'authorization');
        return auth.length ? [...rest, ['Authorization', auth.join(', ')]] : rest;
      },
    },
  },
  {
    id: 'head-first-authorization-wins',
    breaks: 'CRED-09',
    description:
      'HEAD requests skip the check for repeated Authorization headers (first one counts)',
    applied: 'handler-wrapper',
    handler: (next) => (req, res) => {
      if (req.method === 'HEAD') keepFirstAuthorization(req);
      next(req, res);
    },
  },
  {
    id: 'lowercase-scheme-unknown-route',
    breaks: 'CRED-06',
    description:
      'on paths that match no route, only "Bearer" is a scheme: "bearer <key>" is malformed',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        const header = request.headers.authorization ?? '';
        if (!request.is404 || !/^bearer /i.test(header) || header.startsWith('Bearer ')) return;
        return sendError(request, reply, 401, 'malformed_api_key', { credentialSent: true });
      }),
  },
  {
    id: 'head-unknown-route-404',
    breaks: 'ORDER-03',
    description: 'HEAD to a path that matches no route gets 404 before any key',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        if (request.method === 'HEAD' && request.is404)
          return sendError(request, reply, 404, 'not_found');
      }),
  },
  {
    id: 'padding-stripped',
    breaks: 'CRED-03',
    description:
      'trailing "=" (b64token padding) is stripped from the token: "Bearer <key>==" accepted',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        const m = /^(bearer +\S+?)=+$/is.exec(request.headers.authorization ?? '');
        if (m) setAuthorization(request.raw, m[1]!);
      }),
  },
  {
    id: 'challenge-without-commas',
    breaks: 'CHAL-01',
    description: 'the challenge parameters are separated by spaces, not commas',
    applied: 'hook',
    app: (app) =>
      onChallenge(app, (challenge, reply) =>
        reply.statusCode === 401 ? challenge.replace(/, /g, ' ') : challenge,
      ),
  },
  {
    id: 'tab-separator-accepted',
    breaks: 'CRED-03',
    description: 'a tab between the scheme and the key is taken as the separator',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        const m = /^bearer[ \t]*\t[ \t]*(\S+)$/is.exec(request.headers.authorization ?? '');
        if (m) setAuthorization(request.raw, `Bearer ${m[1]}`);
      }),
  },
];
