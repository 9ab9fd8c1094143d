import { Budget, until } from './budget.js';
import {
  ms,
  result,
  type CheckOptions,
  type CheckResult,
  type Criterion,
  type LoadTarget,
} from './check.js';
import { Connections, runClients } from './connections.js';
import { LoadKeys, VALID_PATH } from './keys.js';
import { probe, succeeded, type Outcome } from './probe.js';
import { Stats } from './stats.js';

/** The share of the budget spent on the key before it is revoked. */
const REVOKE_AT = 0.35;
const NAME = 'no success after revocation';

interface Sent extends Outcome {
  client: number;
}

/** When the revoke call was made, and when its answer arrived. */
interface Timeline {
  called?: number;
  returned?: number;
}

/**
 * Immediate revocation under load: keep-alive clients use key K; K is revoked; every
 * request sent after the revoke call returned must be refused, on every connection and,
 * behind a multi-worker reference, by every worker.
 */
export async function revocationCheck(
  target: LoadTarget,
  options: CheckOptions,
): Promise<CheckResult> {
  const keys = new LoadKeys(target.baseUrl, target.managementToken);
  const connections = new Connections(target.baseUrl, options.connections);
  try {
    const key = await keys.create('revocation');
    const budget = new Budget(options.maxRequests, options.durationMs);
    const sent: Sent[] = [];
    const timeline: Timeline = {};
    const traffic = runClients(
      options.connections,
      () => budget.take(),
      async (client) => {
        const outcome = await probe(connections.pools[client]!, VALID_PATH, `Bearer ${key.key}`);
        sent.push({ ...outcome, client });
      },
    );
    const revoking = (async () => {
      if (!(await until(budget, () => budget.progress() >= REVOKE_AT))) return;
      timeline.called = performance.now();
      await keys.revoke(key.id);
      timeline.returned = performance.now();
      options.progress(`revocation: key revoked at ${(budget.elapsed() / 1000).toFixed(1)} s`);
    })();
    await Promise.all([traffic, revoking]);
    const stats = new Stats();
    for (const outcome of sent) stats.add(outcome);
    const criteria = judge(sent, timeline, options.connections, target.workers);
    return result('revocation', budget.elapsed(), stats.summary(budget.elapsed()), criteria, [
      `connections opened: ${connections.opened} for ${options.connections} clients`,
    ]);
  } finally {
    await connections.close();
    await keys.revokeAll();
  }
}

function judge(sent: Sent[], timeline: Timeline, clients: number, workers: number): Criterion[] {
  if (timeline.returned === undefined) {
    const detail = 'the budget ran out before the key was revoked';
    return [{ name: 'revocation happened', ok: false, detail }];
  }
  const before = sent.filter((s) => s.sentAt + s.ms < timeline.called!);
  const after = sent.filter((s) => s.sentAt >= timeline.returned!);
  const criteria = [
    baseline(before),
    noSuccessAfter(after, timeline.returned),
    refusedProperly(after),
    everyConnection(after, clients),
  ];
  if (workers > 1) criteria.push(everyWorker(after, workers));
  return criteria;
}

function baseline(before: Sent[]): Criterion {
  const failed = before.filter((s) => !succeeded(s)).length;
  return {
    name: 'key accepted before revocation',
    ok: before.length > 0 && failed === 0,
    detail:
      `${before.length - failed} of ${before.length} answered before the revoke call ` +
      'succeeded',
  };
}

function noSuccessAfter(after: Sent[], returned: number): Criterion {
  const accepted = after.filter(succeeded);
  if (accepted.length === 0) {
    const detail = `${after.length} requests sent after the revoke returned, none accepted`;
    return { name: NAME, ok: true, detail };
  }
  const lag = Math.max(...accepted.map((s) => s.sentAt - returned));
  return {
    name: NAME,
    ok: false,
    detail:
      `${accepted.length} of ${after.length} requests sent after the revoke returned were ` +
      `accepted, the last sent ${ms(lag)} after it: revocation is not immediate`,
  };
}

const asRevoked = (s: Sent) => s.status === 401 && s.code === 'revoked_api_key';

function refusedProperly(after: Sent[]): Criterion {
  const other = after.filter((s) => !succeeded(s) && !asRevoked(s));
  const kinds = [...new Set(other.map((s) => s.error ?? `${s.status} ${s.code ?? ''}`.trim()))];
  return {
    name: 'refused as revoked_api_key',
    ok: other.length === 0,
    detail:
      other.length === 0
        ? 'every refusal was 401 revoked_api_key'
        : `${other.length} other answers: ${kinds.join(', ')}`,
  };
}

function everyConnection(after: Sent[], clients: number): Criterion {
  const reached = new Set(after.map((s) => s.client)).size;
  return {
    name: 'every open connection checked',
    ok: reached === clients,
    detail: `${reached} of ${clients} connections sent requests after the revocation`,
  };
}

function everyWorker(after: Sent[], workers: number): Criterion {
  const seen = new Set(after.flatMap((s) => (s.worker ? [s.worker] : [])));
  return {
    name: 'every worker checked',
    ok: seen.size >= workers,
    detail: `${seen.size} of ${workers} workers answered after the revocation`,
  };
}
