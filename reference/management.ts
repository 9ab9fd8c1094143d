import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Contract } from '../src/contract/model.js';
import { SchemaValidator } from '../src/contract/schemas.js';
import { parseAllowEntry } from './addresses.js';
import { sendError } from './errors.js';
import type { StoredKey } from './store.js';

const validators = new WeakMap<object, SchemaValidator>();

/** The validator of a contract's schemas, compiled once per contract. */
export function validatorFor(contract: Contract): SchemaValidator {
  let validator = validators.get(contract);
  if (!validator) validators.set(contract, (validator = new SchemaValidator(contract)));
  return validator;
}

type Problem = { pointer: string; problem: string };

/** How a key is listed: never the secret, only its prefix and last four characters. */
function summary(request: FastifyRequest, key: StoredKey) {
  return {
    id: key.id,
    name: key.name,
    plan: key.plan,
    accountId: key.accountId,
    prefix: request.server.cci.contract.keyFormat.livePrefix,
    last4: key.last4,
    allowedIps: key.allowedIps,
    createdAt: key.createdAt,
    revokedAt: key.revokedAt,
  };
}

/** Problems with a create request beyond its schema: the plan and the allowlist entries. */
function checkCreate(request: FastifyRequest, body: Record<string, unknown>): Problem[] {
  const { contract } = request.server.cci;
  const problems = validatorFor(contract).check('KeyCreateRequest', body);
  if (problems.length > 0) return problems;

  const name = String(body.name);
  if (name.trim() === '') problems.push({ pointer: '/name', problem: 'must not be blank' });
  if (/[\u0000-\u001f\u007f]/.test(name))
    problems.push({ pointer: '/name', problem: 'must not contain control characters' });
  // Listings and introspection show the name to anyone with the key or the token.
  if (/cci_(live|test|admin)_[A-Za-z0-9]{8}/.test(name))
    problems.push({ pointer: '/name', problem: 'must not contain an API key' });
  if (!contract.plans.includes(String(body.plan))) {
    problems.push({ pointer: '/plan', problem: `must be one of ${contract.plans.join(', ')}` });
  }
  ((body.allowedIps ?? []) as unknown[]).forEach((entry, i) => {
    const parsed = typeof entry === 'string' ? parseAllowEntry(entry) : 'must be a string';
    if (typeof parsed === 'string') problems.push({ pointer: `/allowedIps/${i}`, problem: parsed });
  });
  return problems;
}

/** At most this many problems are named: a body of many bad entries gets a short answer. */
const MAX_PROBLEMS = 10;

/** The 400 of a request body that is wrong, naming what is wrong and where. */
export function refuseInput(request: FastifyRequest, reply: FastifyReply, problems: Problem[]) {
  const named = problems.slice(0, MAX_PROBLEMS);
  const more = problems.length - named.length;
  return sendError(request, reply, 400, 'invalid_request', {
    message:
      named.map((p) => `${p.pointer} ${p.problem}`).join('; ') +
      (more > 0 ? `; and ${more} more` : ''),
    details: named,
  });
}

/** The key-management operations, by operationId. */
export function managementHandlers() {
  return {
    createApiKey: (request: FastifyRequest, reply: FastifyReply) => {
      const body = request.body;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        return sendError(request, reply, 400, 'invalid_request', {
          message: 'The body must be a JSON object with at least "name" and "plan".',
        });
      }
      const input = body as Record<string, unknown>;
      const problems = checkCreate(request, input);
      if (problems.length > 0) return refuseInput(request, reply, problems);
      const { store, contract, keyBodyLength } = request.server.cci;
      const { key, stored } = store.create(
        {
          name: String(input.name).trim(),
          plan: String(input.plan),
          accountId: typeof input.accountId === 'string' ? input.accountId : 'default',
          allowedIps: (input.allowedIps ?? []) as string[],
        },
        contract.keyFormat.livePrefix,
        keyBodyLength,
      );
      request.log.info({ keyId: stored.id, accountId: stored.accountId }, 'api key created');
      return reply.code(201).send({ ...summary(request, stored), key });
    },

    listApiKeys: (request: FastifyRequest, reply: FastifyReply) => {
      const { accountId } = request.query as { accountId?: string };
      if (accountId !== undefined && !/^[a-z0-9_-]{1,64}$/.test(accountId)) {
        return sendError(request, reply, 400, 'invalid_request', {
          details: [{ pointer: 'accountId', problem: 'must be 1 to 64 of a-z, 0-9, _ and -' }],
        });
      }
      return { keys: request.server.cci.store.list(accountId).map((key) => summary(request, key)) };
    },

    revokeApiKey: (request: FastifyRequest, reply: FastifyReply) => {
      const { keyId } = request.params as { keyId: string };
      if (!request.server.cci.store.revoke(keyId))
        return sendError(request, reply, 404, 'key_not_found');
      request.log.info({ keyId }, 'api key revoked');
      return reply.code(204).send();
    },
  };
}
