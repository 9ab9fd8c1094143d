import { QUERY_CREDENTIAL_PARAMS } from '../../reference/credentials.js';
import { sendError } from '../../reference/errors.js';
import {
  behindKeyGate,
  dropQueryCredentialBesideHeader,
  queryValue,
  withoutQuery,
} from './hooks.js';
import type { Variant } from './model.js';

/** Broken variants of how a key travels: the scheme name and the query string (CRED-06 to 08). */
export const transportVariants: Variant[] = [
  {
    id: 'lowercase-bearer-refused',
    breaks: 'CRED-06',
    description: 'the scheme name is matched case-sensitively: "bearer <key>" is malformed',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        const header = request.headers.authorization ?? '';
        if (!behindKeyGate(request) || !/^bearer /i.test(header) || header.startsWith('Bearer ')) {
          return;
        }
        return sendError(request, reply, 401, 'malformed_api_key', { credentialSent: true });
      }),
  },
  {
    id: 'query-key-accepted',
    breaks: 'CRED-07',
    description: 'a key in ?api_key= or ?access_token= is used when no header is sent',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        if (!behindKeyGate(request) || request.headers.authorization !== undefined) return;
        const key = queryValue(request.raw.url ?? '', QUERY_CREDENTIAL_PARAMS);
        if (key === undefined) return;
        request.raw.headers.authorization = `Bearer ${key}`;
        request.raw.url = withoutQuery(request.raw.url ?? '', QUERY_CREDENTIAL_PARAMS);
      }),
  },
  {
    id: 'key-param-accepted',
    breaks: 'CRED-07',
    description: 'a key in ?key= (a name other than the two well-known ones) is used as the key',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        if (!behindKeyGate(request) || request.headers.authorization !== undefined) return;
        const key = queryValue(request.raw.url ?? '', ['key']);
        if (key === undefined) return;
        request.raw.headers.authorization = `Bearer ${key}`;
        request.raw.url = withoutQuery(request.raw.url ?? '', ['key']);
      }),
  },
  {
    id: 'header-and-query-accepted',
    breaks: 'CRED-08',
    description: 'a key sent in the header and in the query at once is accepted, not 400',
    applied: 'hook',
    app: (app) => dropQueryCredentialBesideHeader(app, behindKeyGate),
  },
];
