import { errorCode, onJsonReply, operationOf, presentedKey } from './hooks.js';
import type { Variant } from './model.js';

/** Broken variants of the plan check: PLAN-01. */
export const planVariants: Variant[] = [
  {
    id: 'plan-restricted-401',
    breaks: 'PLAN-01',
    description: 'a key whose plan lacks the operation gets 401 plan_restricted, not 403',
    applied: 'hook',
    app: (app) =>
      onJsonReply(app, (body, _request, reply) => {
        if (reply.statusCode !== 403 || errorCode(body) !== 'plan_restricted') return;
        reply.code(401).header('www-authenticate', 'Bearer realm="cci", error="invalid_token"');
      }),
  },
  {
    id: 'plan-not-enforced-on-exports',
    breaks: 'PLAN-01',
    description: 'createBulkExport also admits professional keys (its plan list has a stray entry)',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request) => {
        // The app's own copy of the operation, which its gate reads the plans from.
        const operation = operationOf(request);
        if (operation?.operationId !== 'createBulkExport') return;
        if (!operation.plans.includes('professional')) operation.plans.push('professional');
      }),
  },
  {
    id: 'head-skips-checks',
    breaks: 'PLAN-01',
    description: 'HEAD requests with a live key are answered 200 before plan and address checks',
    applied: 'hook',
    app: (app) =>
      app.addHook('onRequest', async (request, reply) => {
        if (request.method !== 'HEAD') return;
        const key = presentedKey(request);
        if (key && key.revokedAt === null) return reply.code(200).send();
      }),
  },
];
