import { Pool } from 'undici';

const POOL_OPTIONS = {
  connections: 1,
  pipelining: 1,
  keepAliveTimeout: 30_000,
  headersTimeout: 10_000,
  bodyTimeout: 10_000,
  connect: { timeout: 5_000 },
};

/**
 * One keep-alive connection per simulated client: a pool of size one each, so that what
 * a client sends always rides its own socket and per-connection claims can be checked.
 */
export class Connections {
  readonly pools: Pool[];
  private connects = 0;

  constructor(origin: string, count: number) {
    this.pools = Array.from({ length: count }, () => {
      const pool = new Pool(origin, POOL_OPTIONS);
      pool.on('connect', () => this.connects++);
      return pool;
    });
  }

  /** Sockets opened so far; equal to the client count when none had to reconnect. */
  get opened(): number {
    return this.connects;
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.destroy()));
  }
}

/** Runs `count` closed loops, each calling `step(client)` while the budget lasts. */
export async function runClients(
  count: number,
  take: () => boolean,
  step: (client: number) => Promise<void>,
): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, async (_, client) => {
      while (take()) await step(client);
    }),
  );
}
