import { errorCode, onChallenge, onJsonReply, type Json } from './hooks.js';
import { correct, type Variant } from './model.js';

/** Correct variants of what a body or challenge says: each must pass every scenario. */

/** The same JSON with the members of every object in reverse order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversed(v)]),
  );
}

const isError = (body: Json) => typeof body.error === 'object' && body.error !== null;

export const correctBodyVariants: Variant[] = [
  correct({
    id: 'json-members-reordered',
    description: 'every JSON object lists its members in reverse order',
    applied: 'hook',
    app: (app) => onJsonReply(app, (body) => reversed(body) as Json),
  }),
  correct({
    id: 'error-extra-fields',
    description: 'error bodies carry extra members, in the error object and beside it',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, request, reply) => {
        if (!isError(body)) return;
        const error = { ...(body.error as Json), status: reply.statusCode, retryable: false };
        return { error, meta: { path: request.url.split('?')[0], apiVersion: '2026-04-10' } };
      }),
  }),
  correct({
    id: 'error-messages-reworded',
    description: 'every error message is worded differently',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body) => {
        if (!isError(body)) return;
        const message = `Request refused (${String(errorCode(body)).replace(/_/g, ' ')}).`;
        return { error: { ...(body.error as Json), message } };
      }),
  }),
  correct({
    id: 'challenge-reformatted',
    description: 'challenges use a lower-case scheme, other parameter order and other spacing',
    applied: 'hook',
    app: (app) =>
      onChallenge(app, (challenge) => {
        const params = challenge
          .replace(/^Bearer\s+/i, '')
          .split(/,\s*/)
          .reverse();
        return `bearer   ${params.join(' ,  ')}`;
      }),
  }),
];
