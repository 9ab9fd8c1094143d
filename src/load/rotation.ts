import { Budget, until } from './budget.js';
import {
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

/** Budget shares: B is created, clients move over one by one, then A is revoked. */
const SCHEDULE = { createB: 0.2, moveFrom: 0.25, moveTo: 0.65 };

type Slot = 'A' | 'B';

interface Rotation {
  secrets: Partial<Record<Slot, string>>;
  /** Which key each client was told to use. */
  assigned: Slot[];
  inFlight: Record<Slot, number>;
  /** Requests on each key sent while both existed. */
  overlap: Record<Slot, number>;
  phase: 'A only' | 'both' | 'A revoked';
  failures: string[];
  revokedProbe?: Outcome;
}

const describe = (o: Outcome) => o.error ?? `${o.status} ${o.code ?? ''}`.trim();
const seconds = (budget: Budget) => `${(budget.elapsed() / 1000).toFixed(1)} s`;

/**
 * Rotation under load: clients on key A, key B created, clients moved to B one by one,
 * A revoked once no client uses it. No request on the key a client was told to use may fail.
 */
export async function rotationCheck(
  target: LoadTarget,
  options: CheckOptions,
): Promise<CheckResult> {
  const keys = new LoadKeys(target.baseUrl, target.managementToken);
  const connections = new Connections(target.baseUrl, options.connections + 1);
  try {
    const a = await keys.create('rotation-a');
    const budget = new Budget(options.maxRequests, options.durationMs);
    const state: Rotation = {
      secrets: { A: a.key },
      assigned: new Array<Slot>(options.connections).fill('A'),
      inFlight: { A: 0, B: 0 },
      overlap: { A: 0, B: 0 },
      phase: 'A only',
      failures: [],
    };
    const stats = new Stats();
    const traffic = runClients(
      options.connections,
      () => budget.take(),
      async (client) => {
        stats.add(await send(connections, client, state));
      },
    );
    const operator = { budget, state, keys, connections, progress: options.progress };
    const [, done] = await Promise.all([traffic, rotate(operator, a.id)]);
    const wall = budget.elapsed();
    return result('rotation', wall, stats.summary(wall), judge(state, done));
  } finally {
    await connections.close();
    await keys.revokeAll();
  }
}

async function send(connections: Connections, client: number, state: Rotation): Promise<Outcome> {
  const slot = state.assigned[client]!;
  const phase = state.phase;
  state.inFlight[slot]++;
  const pool = connections.pools[client]!;
  const outcome = await probe(pool, VALID_PATH, `Bearer ${state.secrets[slot]}`);
  state.inFlight[slot]--;
  if (phase === 'both') state.overlap[slot]++;
  if (!succeeded(outcome) && state.failures.length < 1000) {
    state.failures.push(`client ${client} on key ${slot} (${phase}): ${describe(outcome)}`);
  }
  return outcome;
}

interface Operator {
  budget: Budget;
  state: Rotation;
  keys: LoadKeys;
  connections: Connections;
  progress: (line: string) => void;
}

/** The operator's side; false when the budget ran out before A was revoked. */
async function rotate({ budget, state, keys, connections, progress }: Operator, idA: string) {
  const at = (share: number) => until(budget, () => budget.progress() >= share);
  if (!(await at(SCHEDULE.createB))) return false;
  state.secrets.B = (await keys.create('rotation-b')).key;
  state.phase = 'both';
  progress(`rotation: key B created at ${seconds(budget)}`);
  const clients = state.assigned.length;
  const step = (SCHEDULE.moveTo - SCHEDULE.moveFrom) / clients;
  for (let client = 0; client < clients; client++) {
    if (!(await at(SCHEDULE.moveFrom + step * client))) return false;
    state.assigned[client] = 'B';
  }
  // A is revoked only once no request on it is in flight: those were told to use A.
  if (!(await until(budget, () => state.inFlight.A === 0))) return false;
  await keys.revoke(idA);
  state.phase = 'A revoked';
  progress(`rotation: all clients on B, key A revoked at ${seconds(budget)}`);
  const spare = connections.pools.at(-1)!;
  state.revokedProbe = await probe(spare, VALID_PATH, `Bearer ${state.secrets.A}`);
  return true;
}

function judge(state: Rotation, done: boolean): Criterion[] {
  const { failures, overlap, revokedProbe: after } = state;
  return [
    {
      name: 'rotation completed',
      ok: done,
      detail: done ? 'B created, clients moved, A revoked' : 'the budget ran out first',
    },
    {
      name: 'no failed request on the assigned key',
      ok: failures.length === 0,
      detail:
        failures.length === 0 ? 'none failed' : `${failures.length} failed, first: ${failures[0]}`,
    },
    {
      name: 'both keys served while both existed',
      ok: overlap.A > 0 && overlap.B > 0,
      detail:
        `${overlap.A} requests on A and ${overlap.B} on B between B's creation and ` +
        "A's revocation",
    },
    {
      name: 'A refused once revoked',
      ok: after?.status === 401 && after.code === 'revoked_api_key',
      detail: after ? `A got ${describe(after)}` : 'A was not revoked',
    },
  ];
}
