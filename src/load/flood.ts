import { Budget } from './budget.js';
import {
  result,
  type CheckOptions,
  type CheckResult,
  type Criterion,
  type LoadTarget,
} from './check.js';
import { Connections, runClients } from './connections.js';
import { CredentialMix, KINDS, type Kind } from './credentials.js';
import { HEALTH_PATH, LoadKeys, VALID_PATH } from './keys.js';
import { probe, succeeded } from './probe.js';
import { Stats, type StatsSummary } from './stats.js';

/** A refusal may cost this much more than a success before the check calls it slower. */
export const REJECTION_COST_TOLERANCE = 1.25;

type ByKind = Record<Kind, StatsSummary>;

interface Tallies {
  all: Stats;
  byKind: Record<Kind, Stats>;
  /** Refused kinds that were answered 2xx: a flood must never get in. */
  admitted: number;
}

/**
 * Invalid, malformed and missing credentials mixed with valid traffic: nothing may crash
 * or answer 5xx, valid requests must all succeed, and refusing must not cost more than
 * accepting (p50 latency of each refused kind against the valid one, under the same load).
 */
export async function floodCheck(target: LoadTarget, options: CheckOptions): Promise<CheckResult> {
  const keys = new LoadKeys(target.baseUrl, target.managementToken);
  const connections = new Connections(target.baseUrl, options.connections + 1);
  try {
    const valid = await keys.create('flood-valid');
    const revoked = await keys.create('flood-revoked');
    await keys.revoke(revoked.id);
    const mix = new CredentialMix(valid.key, revoked.key);
    const budget = new Budget(options.maxRequests, options.durationMs);
    const tallies = await flood(mix, connections, budget, options.connections);
    const wall = budget.elapsed();
    const health = await probe(connections.pools.at(-1)!, HEALTH_PATH);
    const kinds = Object.fromEntries(
      KINDS.map((k) => [k, tallies.byKind[k].summary(wall)]),
    ) as ByKind;
    const all = tallies.all.summary(wall);
    return result(
      'flood',
      wall,
      all,
      judge(all, kinds, tallies.admitted, health.status),
      costNotes(kinds),
    );
  } finally {
    await connections.close();
    await keys.revokeAll();
  }
}

async function flood(
  mix: CredentialMix,
  connections: Connections,
  budget: Budget,
  clients: number,
): Promise<Tallies> {
  const tallies: Tallies = {
    all: new Stats(),
    byKind: Object.fromEntries(KINDS.map((k) => [k, new Stats()])) as Record<Kind, Stats>,
    admitted: 0,
  };
  const sentBy = new Array<number>(clients).fill(0);
  await runClients(
    clients,
    () => budget.take(),
    async (client) => {
      const n = sentBy[client]!++;
      const kind = mix.kind(client, n);
      const outcome = await probe(connections.pools[client]!, VALID_PATH, mix.header(kind, n));
      tallies.all.add(outcome);
      tallies.byKind[kind].add(outcome);
      if (kind !== 'valid' && succeeded(outcome)) tallies.admitted++;
    },
  );
  return tallies;
}

function judge(all: StatsSummary, kinds: ByKind, admitted: number, health: number): Criterion[] {
  const serverErrors = Object.entries(all.byStatus).filter(([label]) => label.startsWith('5'));
  const transport = Object.entries(all.errors);
  const valid = kinds.valid;
  return [
    { name: 'no 5xx', ok: serverErrors.length === 0, detail: listed(serverErrors, 'none') },
    {
      name: 'no connection errors',
      ok: transport.length === 0,
      detail: listed(transport, 'every request answered'),
    },
    {
      name: 'valid traffic served',
      ok: valid.requests > 0 && valid.succeeded === valid.requests,
      detail: `${valid.succeeded} of ${valid.requests} valid requests succeeded`,
    },
    {
      name: 'no invalid credential admitted',
      ok: admitted === 0,
      detail: `${admitted} invalid requests got a 2xx`,
    },
    {
      name: 'server healthy afterwards',
      ok: health === 200,
      detail: `GET ${HEALTH_PATH} answered ${health || 'nothing'}`,
    },
    costCriterion(kinds),
  ];
}

/** The slowest refused kind's p50 over the valid p50. */
export function rejectionCost(kinds: ByKind): { kind: Kind; ratio: number } {
  const base = kinds.valid.p50Ms;
  let worst = { kind: 'valid' as Kind, ratio: 0 };
  for (const kind of KINDS) {
    if (kind === 'valid' || kinds[kind].requests === 0 || base === 0) continue;
    const ratio = kinds[kind].p50Ms / base;
    if (ratio > worst.ratio) worst = { kind, ratio };
  }
  return worst;
}

function costCriterion(kinds: ByKind): Criterion {
  const worst = rejectionCost(kinds);
  return {
    name: 'rejection costs no more than acceptance',
    ok: worst.ratio <= REJECTION_COST_TOLERANCE,
    detail:
      `slowest refusal (${worst.kind}) p50 is ${worst.ratio.toFixed(2)}x the valid p50 ` +
      `(limit ${REJECTION_COST_TOLERANCE}x)`,
    timing: true,
  };
}

function costNotes(kinds: ByKind): string[] {
  const base = kinds.valid.p50Ms;
  return KINDS.map((k) => {
    const s = kinds[k];
    const ratio = k === 'valid' || base === 0 ? '' : ` (${(s.p50Ms / base).toFixed(2)}x valid)`;
    const count = String(s.requests).padStart(7);
    return `${k.padEnd(9)} ${count} requests, p50 ${s.p50Ms.toFixed(2)} ms${ratio}`;
  });
}

function listed(entries: Array<[string, number]>, none: string): string {
  return entries.length === 0 ? none : entries.map(([label, n]) => `${label}: ${n}`).join(', ');
}
