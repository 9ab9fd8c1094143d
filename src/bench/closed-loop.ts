import type { Dispatcher } from 'undici';
import { percentile } from '../load/stats.js';

/** One timed burst of identical requests. */
export interface Burst {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers whose status was not the expected one, or that never came. */
  unexpected: number;
  /** Server CPU per request in µs, when the server's process can be read. */
  serverCpuUs?: number;
}

export interface BurstSpec {
  path: string;
  /** Called per request, so that each unknown key can differ. */
  authorization: () => string | undefined;
  expectStatus: number;
}

/**
 * `connections` closed loops sending `spec` for `ms` (and at most `cap` requests); the
 * rate is over the time until the last answer, so a slow tail is not hidden.
 */
export async function burst(
  pool: Dispatcher,
  spec: BurstSpec,
  connections: number,
  ms: number,
  cap: number,
): Promise<Burst> {
  const latencies: number[] = [];
  let unexpected = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline && latencies.length + unexpected < cap) {
        const auth = spec.authorization();
        const sent = performance.now();
        const status = await send(pool, spec.path, auth);
        if (status === spec.expectStatus) latencies.push(performance.now() - sent);
        else unexpected++;
      }
    }),
  );
  const wall = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length + unexpected,
    rps: ((latencies.length + unexpected) * 1000) / wall,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    unexpected,
  };
}

async function send(pool: Dispatcher, path: string, authorization?: string): Promise<number> {
  try {
    const res = await pool.request({
      path,
      method: 'GET',
      headers: authorization === undefined ? {} : { authorization },
    });
    await res.body.dump();
    return res.statusCode;
  } catch {
    return 0;
  }
}
