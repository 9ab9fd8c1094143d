import { bearerToken, errorCode, onChallenge, onJsonReply, type Json } from './hooks.js';
import type { Variant } from './model.js';

/** Broken variants of the challenge and the error body: CHAL-01, CHAL-02, ERR-01, ERR-02. */

const authError = (status: number) => status === 401 || status === 403;

export const errorVariants: Variant[] = [
  {
    id: 'no-challenge',
    breaks: 'CHAL-01',
    description: '401 answers carry no WWW-Authenticate',
    applied: 'hook',
    app: (app) =>
      app.addHook('onSend', async (_request, reply, payload) => {
        if (reply.statusCode === 401) reply.removeHeader('www-authenticate');
        return payload;
      }),
  },
  {
    id: 'challenge-other-realm',
    breaks: 'CHAL-01',
    description: '401 challenges name the realm "api", not the contract\'s "cci"',
    applied: 'hook',
    app: (app) =>
      onChallenge(app, (challenge, reply) =>
        reply.statusCode === 401 ? challenge.replace(/realm="[^"]*"/, 'realm="api"') : challenge,
      ),
  },
  {
    id: 'challenge-error-without-credential',
    breaks: 'CHAL-02',
    description: 'the challenge says error="invalid_token" also when no key was sent',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, _request, reply) => {
        if (reply.statusCode !== 401 || errorCode(body) !== 'missing_api_key') return;
        reply.header('www-authenticate', 'Bearer realm="cci", error="invalid_token"');
      }),
  },
  {
    id: 'error-code-missing',
    breaks: 'ERR-01',
    description: '401 and 403 bodies have no error.code',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, _request, reply) => {
        if (!authError(reply.statusCode)) return;
        const { code: _, ...rest } = body.error as Json;
        return { error: rest };
      }),
  },
  {
    id: 'error-code-renamed',
    breaks: 'ERR-01',
    description: '401 and 403 bodies name the code error.type instead of error.code',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, _request, reply) => {
        if (!authError(reply.statusCode)) return;
        const { code, ...rest } = body.error as Json;
        return { error: { type: code, ...rest } };
      }),
  },
  {
    id: 'error-code-outside-enum',
    breaks: 'ERR-01',
    description: '401 and 403 bodies carry codes outside the closed set (unauthorized, forbidden)',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, _request, reply) => {
        if (!authError(reply.statusCode)) return;
        const code = reply.statusCode === 401 ? 'unauthorized' : 'forbidden';
        return { error: { ...(body.error as Json), code } };
      }),
  },
  {
    id: 'error-text-plain',
    breaks: 'ERR-01',
    description: '401 and 403 bodies are text/plain "code: message" lines',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, _request, reply) => {
        if (!authError(reply.statusCode)) return;
        const error = body.error as Json;
        reply.header('content-type', 'text/plain; charset=utf-8');
        return `${String(error.code)}: ${String(error.message)}\n`;
      }),
  },
  {
    id: 'key-echoed',
    breaks: 'ERR-02',
    description: 'the error message of a refused credential quotes the submitted key',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, request, reply) => {
        const token = bearerToken(request);
        if (!authError(reply.statusCode) || !token) return;
        return { error: { ...(body.error as Json), message: `The key "${token}" was refused.` } };
      }),
  },
  {
    id: 'key-echoed-encoded',
    breaks: 'ERR-02',
    description: 'refusals echo the Authorization header, percent-encoded, in a response header',
    applied: 'hook',
    // Real keys come back too (revoked, address-blocked): the reports must still hide them.
    app: (app) =>
      app.addHook('onSend', async (request, reply, payload) => {
        const header = request.headers.authorization;
        if (authError(reply.statusCode) && header) {
          reply.header('x-cci-echo', encodeURIComponent(header));
        }
        return payload;
      }),
  },
  {
    id: 'key-body-echoed',
    breaks: 'ERR-02',
    description: 'refusing an unknown key, the message quotes it without its cci_live_ prefix',
    applied: 'hook',
    // Only unknown keys: they are made up by the suite, so no real key reaches a report.
    app: (app) =>
      onJsonReply(app, (body, request) => {
        const key = /^cci_live_(.+)$/s.exec(bearerToken(request) ?? '')?.[1];
        if (errorCode(body) !== 'invalid_api_key' || !key) return;
        return { error: { ...(body.error as Json), message: `No key matches "${key}".` } };
      }),
  },
  {
    id: 'key-in-cookie-base64',
    breaks: 'ERR-02',
    description: 'accepted requests get a session cookie holding the key in base64',
    applied: 'hook',
    app: (app) =>
      app.addHook('onSend', async (request, reply, payload) => {
        const token = bearerToken(request);
        if (token && reply.statusCode < 300)
          reply.header(
            'set-cookie',
            `cci_session=${Buffer.from(token).toString('base64')}; HttpOnly`,
          );
        return payload;
      }),
  },
];
