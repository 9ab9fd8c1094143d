import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import pino, { type DestinationStream } from 'pino';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { loadContract } from '../src/contract/load.js';
import type { Contract, Operation } from '../src/contract/model.js';
import { digestKey, randomBase62 } from '../src/secrets/keys.js';
import { redactSecrets } from '../src/secrets/redact.js';
import { parseAllowEntry, type AllowEntry } from './addresses.js';
import {
  apiKeyGate,
  authenticateManagement,
  callerAddress,
  gatedHandler,
  unroutedGate,
  type Handler,
} from './authenticate.js';
import { CourtData } from './court-data.js';
import { JSON_TYPE, sendError } from './errors.js';
import { managementHandlers, refuseInput, validatorFor } from './management.js';
import { oneByte } from './one-byte.js';
import { KeyStore, type StoredKey } from './store.js';

export interface ReferenceOptions {
  /** SQLite file; in memory when absent. */
  db?: string;
  /** The management credential; generated when absent. */
  managementToken?: string;
  /** Addresses or CIDR ranges whose `X-Forwarded-For` is believed. */
  trustedProxies?: string[];
  /** Seed of the generated court data. */
  seed?: number;
  /** Where structured logs go; silent when absent. */
  logStream?: DestinationStream;
  logLevel?: string;
  contractFile?: string;
}

export interface ReferenceContext {
  contract: Contract;
  store: KeyStore;
  data: CourtData;
  managementDigest: Buffer;
  trustedProxies: AllowEntry[];
  keyBodyLength: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    cci: ReferenceContext;
  }
  interface FastifyRequest {
    caller?: { key: StoredKey };
  }
  interface FastifyContextConfig {
    operation?: Operation;
  }
}

/** The data operations, by operationId. Who may call them is the contract's business. */
function dataHandlers(data: CourtData): Record<string, Handler> {
  const param = (request: FastifyRequest, name: string) =>
    (request.params as Record<string, string>)[name]!;
  return {
    getHealth: () => ({ status: 'ok' }),
    searchCases: (request) => {
      const query = request.query as { q?: string; limit?: string };
      const limit = Math.min(100, Math.max(1, Number(query.limit ?? 20) || 20));
      return data.search(query.q ?? '', limit);
    },
    getCase: (request) => data.case(param(request, 'caseId')),
    listDocketEntries: (request) => data.docket(param(request, 'caseId')),
    getJudgeAnalytics: (request) => data.judge(param(request, 'judgeId')),
    createBulkExport: (request, reply) => {
      const problems = validatorFor(request.server.cci.contract).check(
        'ExportRequest',
        request.body ?? null,
      );
      if (problems.length > 0) return refuseInput(request, reply, problems);
      return reply.code(202).send(data.export((request.body as { query: string }).query));
    },
    getCallerIdentity: (request, reply) => {
      return reply
        .header('content-type', JSON_TYPE)
        .send(identityBody(request.caller!.key, callerAddress(request)));
    },
  };
}

const identities = new WeakMap<StoredKey, { address: string; body: string }>();

/**
 * A key's identity body as last sent. Only the client address can differ from one call
 * to the next, and a client rarely moves, so the body is serialised again only when it
 * does. Stored keys are never mutated (a revocation replaces them), so it cannot go stale.
 */
function identityBody(key: StoredKey, address: string): string {
  let last = identities.get(key);
  if (last === undefined || last.address !== address) {
    const { id: keyId, name, plan, accountId } = key;
    last = {
      address,
      body: oneByte(JSON.stringify({ keyId, name, plan, accountId, clientAddress: address })),
    };
    identities.set(key, last);
  }
  return last.body;
}

/** Builds the reference server of the contract; call `listen` on the result. */
export async function buildReference(options: ReferenceOptions = {}): Promise<{
  app: FastifyInstance;
  managementToken: string;
}> {
  const contract = loadContract(options.contractFile);
  const managementToken = options.managementToken ?? `cci_admin_${randomBase62(40)}`;
  const trustedProxies = (options.trustedProxies ?? []).map((entry) => {
    const parsed = parseAllowEntry(entry);
    if (typeof parsed === 'string') throw new Error(`--trusted-proxy: ${parsed}`);
    return parsed;
  });

  // Unknown routes pass the same gate first, which answers 404 only to a caller it accepts.
  const unrouted = unroutedGate(contract.realm);
  const notFound = (request: FastifyRequest, reply: FastifyReply) =>
    unrouted(request, reply, () => sendError(request, reply, 404, 'not_found'));

  const app = Fastify({
    loggerInstance: createLogger(options) as FastifyBaseLogger,
    genReqId: requestIds(),
    bodyLimit: 64 * 1024,
    // A path the router cannot decode, or with a parameter over its length limit, names
    // no route: it is answered as an unknown path. Fastify's own answers would quote the
    // path, and with it any key a client put there, before any authentication.
    frameworkErrors: (_error, request, reply) => notFound(request, reply),
    clientErrorHandler: answerClientError,
  });
  app.decorate('cci', {
    contract,
    store: new KeyStore(options.db),
    data: new CourtData(options.seed ?? 1),
    managementDigest: digestKey(managementToken),
    trustedProxies,
    keyBodyLength: Math.max(40, contract.keyFormat.bodyMinLength),
  } satisfies ReferenceContext);
  app.decorateRequest('caller', undefined);

  // The gate of unknown routes is an onRequest hook of the not-found handler: in the
  // handler it would run only after Fastify had read and parsed the body, and a bad body
  // would be answered 400 before a missing key was 401. Fastify runs every lifecycle hook
  // given here (its types name only two), after the app's own hooks.
  app.setNotFoundHandler(
    { onRequest: unrouted } as Parameters<typeof app.setNotFoundHandler>[0],
    (request, reply) => sendError(request, reply, 404, 'not_found'),
  );
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    // Every bad request is 400 invalid_request (the contract's x-cci-status), also those
    // Fastify would answer 413 or 415: what is wrong is said in the message.
    if (status >= 400 && status < 500) {
      return sendError(request, reply, 400, 'invalid_request', {
        message: FRAMEWORK_MESSAGES[error.code ?? ''] ?? redactSecrets(error.message),
      });
    }
    request.log.error(
      { err: { type: error.name, message: redactSecrets(error.message) } },
      'request failed',
    );
    return sendError(request, reply, 500, 'internal_error');
  });

  // An empty body with a JSON content type (common on DELETE) is no body, not an error.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('The body is not valid JSON.'), { statusCode: 400 }), undefined);
    }
  });

  registerOperations(app, contract);
  app.addHook('onClose', async () => app.cci.store.close());
  return { app, managementToken };
}

/**
 * The handler, after the operation's path parameters are checked against their patterns
 * in the contract: an identifier of another shape names nothing (404), and is never
 * echoed in an answer, whatever a client put in the path.
 */
function withPathPatterns(operation: Operation, handler: Handler): Handler {
  const patterns = Object.entries(operation.pathParameters).flatMap(([name, param]) =>
    param.pattern ? [[name, new RegExp(param.pattern)] as const] : [],
  );
  if (patterns.length === 0) return handler;
  return (request, reply) => {
    const params = request.params as Record<string, string>;
    for (const [name, pattern] of patterns) {
      if (!pattern.test(params[name] ?? '')) {
        return sendError(request, reply, 404, 'not_found', {
          message: `There is nothing with this ${name}; it has the form ${pattern.source}.`,
        });
      }
    }
    return handler(request, reply);
  };
}

/** Fastify's refusals of a body, in the words of this API. */
const FRAMEWORK_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The body is larger than this server accepts (64 KB).',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'The body must be JSON, sent as Content-Type: application/json.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The body is empty; send a JSON object.',
};

/** Methods whose requests Fastify never reads a body of. */
const BODYLESS = new Set(['GET', 'HEAD']);

function registerOperations(app: FastifyInstance, contract: Contract): void {
  const handlers: Record<string, Handler> = {
    ...dataHandlers(app.cci.data),
    ...managementHandlers(),
  };
  const missing = contract.operations
    .filter((op) => !handlers[op.operationId])
    .map((op) => op.operationId);
  if (missing.length > 0)
    throw new Error(`the reference has no handler for: ${missing.join(', ')}`);

  for (const shared of contract.operations) {
    // Each app gets its own copy: the gate reads the plans from it, and the route's config
    // shows it to hooks, without reaching the contract cached for the whole process.
    const operation = { ...shared, plans: [...shared.plans] };
    const handler = withPathPatterns(operation, handlers[operation.operationId]!);
    const route = {
      method: operation.method as 'GET',
      url: operation.pathTemplate.replace(/\{([^}]+)\}/g, ':$1'),
      config: { operation },
    };
    if (operation.security === 'none') {
      app.route({ ...route, handler });
    } else if (operation.security === 'managementToken') {
      app.route({ ...route, onRequest: authenticateManagement, handler });
    } else if (BODYLESS.has(operation.method)) {
      app.route({ ...route, handler: gatedHandler(contract.realm, operation, handler) });
    } else {
      app.route({ ...route, onRequest: apiKeyGate(contract.realm, operation), handler });
    }
  }
}

/**
 * Answers a request Node's HTTP parser refused (bad framing, headers over its limit, a
 * timeout) with the contract's error body; there is no request to route or authenticate.
 */
function answerClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Duplex) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const message =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'The request headers are larger than this server accepts.'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'The request did not arrive in time.'
        : 'The request is not valid HTTP/1.1.';
  this.log.debug({ code: error.code }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify({ error: { code: 'invalid_request', message } });
    socket.write(
      `HTTP/1.1 400 Bad Request\r\nContent-Type: ${JSON_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * A request URL fit for a log line. It is percent-decoded as far as it goes (escapes of
 * escapes too, and around a bad one), keys are redacted, any run of 24 or more letters
 * and digits (a key without its prefix, say) is replaced by its length, and so are query
 * values longer than any harmless one.
 */
export function loggableUrl(url: string): string {
  const at = url.indexOf('?');
  const path = scrubbed(at < 0 ? url : url.slice(0, at), false);
  if (at < 0) return path;
  const pairs = url
    .slice(at + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = scrubbed(eq < 0 ? pair : pair.slice(0, eq), true).slice(0, 64);
      if (eq < 0) return name;
      const value = scrubbed(pair.slice(eq + 1), true);
      return `${name}=${value.length > 16 ? `[${value.length} characters]` : value}`;
    });
  return `${path}?${pairs.join('&')}`;
}

function scrubbed(text: string, query: boolean): string {
  let plain = query ? text.replace(/\+/g, ' ') : text;
  // Each valid escape alone, so that one bad escape does not keep the rest encoded.
  for (let round = 0; round < 3 && /%[0-9a-f]{2}/i.test(plain); round++) {
    plain = plain.replace(/%([0-9a-f]{2})/gi, (_, hex: string) =>
      String.fromCharCode(parseInt(hex, 16)),
    );
  }
  return redactSecrets(plain).replace(/[A-Za-z0-9]{24,}/g, (run) => `[${run.length} characters]`);
}

/** Request ids unique across restarts: a random prefix per process and a counter. */
function requestIds(): () => string {
  const prefix = `req_${randomBytes(4).toString('hex')}`;
  let next = 0;
  return () => `${prefix}${(next++).toString(36).padStart(6, '0')}`;
}

function createLogger(options: ReferenceOptions) {
  return pino(
    {
      level: options.logStream ? (options.logLevel ?? 'info') : 'silent',
      // The Authorization header is never serialised; URLs are redacted in case a
      // client put a key in the query string.
      serializers: {
        req: (req: {
          method: string;
          url: string;
          id: string;
          socket?: { remoteAddress?: string };
        }) => ({
          method: req.method,
          url: loggableUrl(req.url),
          remoteAddress: req.socket?.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      redact: { paths: ['req.headers', 'headers', 'authorization'], remove: true },
    },
    options.logStream,
  );
}
