import { Pool } from 'undici';
import type { KeyFormat } from '../contract/model.js';
import { fillPlaceholders, outgoing, outgoingBody } from '../scenarios/fill.js';
import type { CreateStep, RequestSpec, Scenario, Source, Step } from '../scenarios/model.js';

/** Where the plain loop sends, and what it fills placeholders with. */
export interface PlainTarget {
  baseUrl: string;
  ipv6Url?: string;
  managementToken: string;
  /** Local address per source; null leaves the choice to the system. */
  sources: Partial<Record<Source, string | null>>;
  keys: Record<string, string>;
  addresses: Record<string, string>;
  format: KeyFormat;
}

export interface LoopResult {
  scenarios: number;
  requests: number;
  /** Requests whose status was the one the scenario expects. */
  asExpected: number;
  ms: number;
}

interface Made {
  id: string;
  key: string;
}

interface Answer {
  status: number;
  body: string;
}

/**
 * The scenarios' HTTP traffic without the suite around it: every step sent once, in
 * order, over undici keep-alive pools (one per source, one per named connection), with
 * `lanes` scenarios in flight at a time like the suite's two workers.
 */
export async function plainLoop(
  target: PlainTarget,
  scenarios: Scenario[],
  lanes: number,
  run: string,
): Promise<LoopResult> {
  const pools = new PoolSet(target);
  const totals = { requests: 0, asExpected: 0 };
  let next = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < scenarios.length) {
          const index = next++;
          const replay = new Replay(target, pools, `bench-${run}-${index}`);
          try {
            for (const step of scenarios[index]!.steps) await replay.step(step, totals);
          } finally {
            await replay.close();
          }
        }
      }),
    );
    return { scenarios: scenarios.length, ...totals, ms: performance.now() - started };
  } finally {
    await pools.close();
  }
}

/** One keep-alive pool per (origin, local address), shared by every scenario. */
class PoolSet {
  private readonly pools = new Map<string, Pool>();

  constructor(readonly target: PlainTarget) {}

  origin(source: Source): string {
    return source === 'ipv6' && this.target.ipv6Url ? this.target.ipv6Url : this.target.baseUrl;
  }

  get(source: Source): Pool {
    const local = this.target.sources[source] ?? undefined;
    const id = `${this.origin(source)} ${local ?? ''}`;
    let pool = this.pools.get(id);
    if (!pool) {
      pool = new Pool(this.origin(source), poolOptions(4, local));
      this.pools.set(id, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.destroy()));
  }
}

/** The state of one scenario's replay: keys it made, connections it holds. */
class Replay {
  private readonly created = new Map<string, Made>();
  private readonly named = new Map<string, Pool>();

  constructor(
    private readonly target: PlainTarget,
    private readonly pools: PoolSet,
    private readonly account: string,
  ) {}

  async step(step: Step, totals: { requests: number; asExpected: number }): Promise<void> {
    const answer = await this.send(step);
    totals.requests++;
    const expected =
      step.action === 'request' || step.action === 'management'
        ? step.expect.status
        : { create: 201, revoke: 204, list: 200 }[step.action];
    if (answer.status === expected) totals.asExpected++;
  }

  private send(step: Step): Promise<Answer> {
    switch (step.action) {
      case 'request':
        return this.request(step.request);
      case 'create':
        return this.create(step);
      case 'revoke':
        return this.manage('DELETE', `/v1/keys/${this.created.get(step.name)?.id ?? 'none'}`);
      case 'list':
        return this.manage('GET', `/v1/keys?accountId=${this.accountOf('main')}`);
      case 'management': {
        const { text } = outgoingBody(step.body, (value) => this.fill(value));
        return this.manage(step.method, step.path, text);
      }
    }
  }

  private async create(step: CreateStep): Promise<Answer> {
    const accountId = this.accountOf(step.account);
    const body = JSON.stringify({ name: `bench ${step.name}`, plan: step.plan, accountId });
    const answer = await this.manage('POST', '/v1/keys', body);
    if (answer.status === 201) this.created.set(step.name, JSON.parse(answer.body) as Made);
    return answer;
  }

  private accountOf(name: string): string {
    return `${this.account}-${name}`.toLowerCase().slice(0, 64);
  }

  private async request(spec: RequestSpec): Promise<Answer> {
    const url = new URL(spec.path, 'http://placeholder');
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      url.searchParams.set(name, this.fill(value));
    }
    const { lines, body } = outgoing(spec, (text) => this.fill(text));
    const pool = spec.connection
      ? this.connection(spec.connection, spec.from)
      : this.pools.get(spec.from);
    return exchange(pool, spec.method, `${url.pathname}${url.search}`, lines, body);
  }

  private async manage(method: string, path: string, body?: string): Promise<Answer> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.target.managementToken}`,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return exchange(this.pools.get('default'), method, path, headers, body);
  }

  /** A named connection lives as long as the scenario, as in the suite. */
  private connection(name: string, from: Source): Pool {
    let pool = this.named.get(name);
    if (!pool) {
      const local = this.target.sources[from] ?? undefined;
      pool = new Pool(this.pools.origin(from), poolOptions(1, local));
      this.named.set(name, pool);
    }
    return pool;
  }

  private fill(text: string): string {
    return fillPlaceholders(text, {
      keys: this.target.keys,
      addresses: this.target.addresses,
      created: (name) => this.created.get(name)?.key,
      format: this.target.format,
      managementToken: this.target.managementToken,
      runId: this.account,
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.named.values()].map((pool) => pool.destroy()));
  }
}

const poolOptions = (connections: number, localAddress: string | undefined) => ({
  connections,
  ...(localAddress ? { localAddress } : {}),
});

async function exchange(
  pool: Pool,
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  body?: string,
): Promise<Answer> {
  try {
    const res = await pool.request({ method: method as 'GET', path, headers, body: body ?? null });
    return { status: res.statusCode, body: await res.body.text() };
  } catch {
    return { status: 0, body: '' };
  }
}
