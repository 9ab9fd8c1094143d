import { percentile } from '../load/stats.js';
import type { LoadClient } from './clients.js';

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
  /** CPU the load generator (this process) spent per request, in µs. */
  clientCpuUs: number;
}

export interface BurstSpec {
  path: string;
  /** Called per request, so that each unknown key can differ. */
  authorization: () => string | undefined;
  expectStatus: number;
}

/**
 * A closed loop per connection of `client`, sending `spec` for `ms` (and at most `cap`
 * requests); the rate is over the time until the last answer, so a slow tail is not hidden.
 */
export async function burst(
  client: LoadClient,
  spec: BurstSpec,
  ms: number,
  cap: number,
): Promise<Burst> {
  const latencies: number[] = [];
  let unexpected = 0;
  let issued = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    client.senders.map(async (send) => {
      while (performance.now() < deadline && issued < cap) {
        issued++;
        const auth = spec.authorization();
        const sent = performance.now();
        const status = await send(spec.path, auth);
        if (status === spec.expectStatus) latencies.push(performance.now() - sent);
        else unexpected++;
      }
    }),
  );
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const requests = latencies.length + unexpected;
  latencies.sort((a, b) => a - b);
  return {
    requests,
    rps: (requests * 1000) / wall,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    unexpected,
    clientCpuUs: requests === 0 ? 0 : (used.user + used.system) / requests,
  };
}
