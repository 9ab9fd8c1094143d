import { sendError } from '../../reference/errors.js';
import {
  behindKeyGate,
  bearerToken,
  errorCode,
  onJsonReply,
  operationOf,
  presentedKey,
  lookupByPart,
  wrapLookup,
} from './hooks.js';
import type { Variant } from './model.js';
import { keepFirstAuthorization, matchesTemplate, setAuthorization } from './hooks.js';

/** Broken variants of what the credential itself must be: CRED-01 to CRED-05. */
export const credentialVariants: Variant[] = [
  {
    id: 'post-refuses-valid-key',
    breaks: 'CRED-01',
    description: 'a valid key of the right plan is refused as unknown on POST operations',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        const key = request.method === 'POST' ? presentedKey(request) : undefined;
        if (!key || key.revokedAt !== null) return;
        if (!operationOf(request)?.plans.includes(key.plan)) return;
        return sendError(request, reply, 401, 'invalid_api_key', { credentialSent: true });
      }),
  },
  {
    id: 'missing-key-403',
    breaks: 'CRED-02',
    description: 'a request without a key is answered 403 missing_api_key, without a challenge',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, _request, reply) => {
        if (reply.statusCode !== 401 || errorCode(body) !== 'missing_api_key') return;
        reply.code(403).removeHeader('www-authenticate');
      }),
  },
  {
    id: 'malformed-key-500',
    breaks: 'CRED-03',
    description: 'a cci_live_ key of the wrong length or characters crashes the parser: 500',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        const token = bearerToken(request);
        const { keyFormat } = app.cci.contract;
        if (!behindKeyGate(request) || !token?.startsWith(keyFormat.livePrefix)) return;
        if (!keyFormat.pattern.test(token)) throw new Error('key body parser failed');
      }),
  },
  {
    id: 'unknown-key-as-malformed',
    breaks: 'CRED-04',
    description: 'a well-formed unknown key is answered with malformed_api_key',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body) => {
        if (errorCode(body) !== 'invalid_api_key') return;
        return { error: { ...(body.error as object), code: 'malformed_api_key' } };
      }),
  },
  {
    id: 'key-shape-too-strict',
    breaks: 'CRED-04',
    description: 'only 40-character key bodies (the length it issues) count as well-formed',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        const token = bearerToken(request);
        const {
          contract: { keyFormat },
          keyBodyLength,
        } = app.cci;
        if (!behindKeyGate(request) || !token || !keyFormat.pattern.test(token)) return;
        if (token.length - keyFormat.livePrefix.length === keyBodyLength) return;
        return sendError(request, reply, 401, 'malformed_api_key', { credentialSent: true });
      }),
  },
  {
    id: 'lookup-by-visible-ends',
    breaks: 'CRED-04',
    description:
      'a key that misses is looked up again by what listings show: its length and last four',
    applied: 'store-wrapper',
    app: (app) =>
      wrapLookup(app, (next, secret) => {
        const { store, contract, keyBodyLength } = app.cci;
        const issuedLength = contract.keyFormat.livePrefix.length + keyBodyLength;
        return (
          next(secret) ??
          store
            .list()
            .find((key) => key.last4 === secret.slice(-4) && secret.length === issuedLength)
        );
      }),
  },
  {
    id: 'compares-first-32',
    breaks: 'CRED-04',
    description: 'keys are matched on the first 32 characters of their body (a fixed-width column)',
    applied: 'store-wrapper',
    app: (app) =>
      lookupByPart(app, (key) => key.slice(0, app.cci.contract.keyFormat.livePrefix.length + 32)),
  },
  {
    id: 'first-authorization-wins',
    breaks: 'CRED-09',
    description: 'a proxy in front keeps the first of several Authorization headers',
    applied: 'proxy',
    proxy: {
      request: (headers) =>
        headers.filter(
          ([name], i) =>
            name.toLowerCase() !== 'authorization' ||
            headers.findIndex(([other]) => other.toLowerCase() === 'authorization') === i,
        ),
    },
  },
  {
    id: 'x-api-key-accepted',
    breaks: 'CRED-02',
    description: 'a key in an X-API-Key header is taken when there is no Authorization header',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        const alternative = request.headers['x-api-key'];
        if (typeof alternative !== 'string' || request.headers.authorization !== undefined) return;
        setAuthorization(request.raw, `Bearer ${alternative}`);
      }),
  },
  {
    id: 'key-case-insensitive',
    breaks: 'CRED-04',
    description: 'keys are looked up ignoring case, as a case-insensitive collation does',
    applied: 'store-wrapper',
    app: (app) => {
      const { store } = app.cci;
      const byFolded = new Map<string, string>();
      const create = store.create.bind(store);
      store.create = (...args) => {
        const made = create(...args);
        byFolded.set(made.key.toLowerCase(), made.stored.id);
        return made;
      };
      wrapLookup(app, (next, secret) => {
        const id = byFolded.get(secret.toLowerCase());
        return next(secret) ?? (id === undefined ? undefined : store.get(id));
      });
    },
  },
  {
    id: 'scheme-three-spellings',
    breaks: 'CRED-06',
    description: 'the scheme is accepted as Bearer, bearer or BEARER only, not in any case',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        const scheme = /^(\S+) /.exec(request.headers.authorization ?? '')?.[1];
        if (!behindKeyGate(request) || scheme?.toLowerCase() !== 'bearer') return;
        if (['Bearer', 'bearer', 'BEARER'].includes(scheme)) return;
        return sendError(request, reply, 401, 'malformed_api_key', { credentialSent: true });
      }),
  },
  {
    id: 'quoted-key-accepted',
    breaks: 'CRED-03',
    description: 'a key in double quotes is taken out of them and accepted',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        const quoted = /^bearer +"([^"]*)"$/i.exec(request.headers.authorization ?? '');
        if (quoted) setAuthorization(request.raw, `Bearer ${quoted[1]}`);
      }),
  },
  {
    id: 'first-authorization-wins-off-api-routes',
    breaks: 'CRED-09',
    description:
      'on management and unknown paths the first of several Authorization headers counts',
    applied: 'handler-wrapper',
    handler: (next, app) => (req, res) => {
      const url = req.url ?? '/';
      const api = app.cci.contract.operations.some(
        (op) => op.security === 'apiKey' && matchesTemplate(op.pathTemplate, url),
      );
      if (!api) keepFirstAuthorization(req);
      next(req, res);
    },
  },
  {
    id: 'test-key-accepted',
    breaks: 'CRED-05',
    description: 'any cci_test_ key is accepted, as a key of a sandbox account',
    applied: 'hook',
    app: (app) => {
      const { contract, store, keyBodyLength } = app.cci;
      const format = contract.keyFormat;
      const sandbox = store.create(
        { name: 'sandbox', plan: contract.plans.at(-1)!, accountId: 'sandbox', allowedIps: [] },
        format.livePrefix,
        keyBodyLength,
      ).key;
      app.addHook('onRequest', async (request) => {
        const token = bearerToken(request);
        if (!behindKeyGate(request) || !token?.startsWith(format.testPrefix)) return;
        if (format.pattern.test(token)) request.raw.headers.authorization = `Bearer ${sandbox}`;
      });
    },
  },
];
