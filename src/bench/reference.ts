import { HEALTH_PATH, LoadKeys, VALID_PATH } from '../load/keys.js';
import { spawnReference } from '../load/spawn-reference.js';
import { median } from '../load/stats.js';
import { randomBase62 } from '../secrets/keys.js';
import { openClient, type ClientName } from './clients.js';
import { burst, type Burst, type BurstSpec } from './closed-loop.js';
import { processCpuMs } from './process-cpu.js';

export const PATHS = ['valid', 'unknown', 'missing', 'health'] as const;
export type PathName = (typeof PATHS)[number];

export interface ReferenceBenchOptions {
  rounds: number;
  roundMs: number;
  warmupMs: number;
  connections: number;
  /** Per burst, so that a very fast server still stops. */
  maxRequests: number;
  /** The load generator: `raw` keeps the server the bottleneck; `undici` is a typical client. */
  client: ClientName;
}

export const REFERENCE_DEFAULTS: ReferenceBenchOptions = {
  rounds: 5,
  roundMs: 1500,
  warmupMs: 3000,
  connections: 32,
  maxRequests: 200_000,
  client: 'raw',
};

type Bursts = Record<PathName, Burst[]>;

export interface PathResult {
  /** Medians over the rounds. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Median server CPU per request, µs; absent where it cannot be read. */
  serverCpuUs?: number;
  /** Median CPU the load generator spent per request, µs. */
  clientCpuUs: number;
  unexpected: number;
  rounds: Burst[];
}

export interface ReferenceBench {
  options: ReferenceBenchOptions;
  paths: Record<PathName, PathResult>;
  ratios: { validOverHealth: number; unknownOverValid: number; missingOverValid: number };
}

/**
 * Throughput and latency of the reference, in a process of its own, for a valid key, an
 * unknown key, no key, and the unauthenticated health route: warm-up, then rounds in
 * which the four alternate (each round starts with the next), medians over the rounds.
 */
export async function benchReference(
  options: ReferenceBenchOptions = REFERENCE_DEFAULTS,
  progress: (line: string) => void = () => undefined,
): Promise<ReferenceBench> {
  const server = await spawnReference({ logLevel: 'warn' });
  const keys = new LoadKeys(server.url, server.managementToken);
  const client = await openClient(options.client, server.url, options.connections);
  try {
    const specs = pathSpecs((await keys.create('bench')).key);
    const run = async (name: PathName, ms: number): Promise<Burst> => {
      const before = processCpuMs(server.pid);
      const result = await burst(client, specs[name], ms, options.maxRequests);
      const after = processCpuMs(server.pid);
      if (before === undefined || after === undefined || result.requests === 0) return result;
      return { ...result, serverCpuUs: ((after - before) * 1000) / result.requests };
    };
    progress(`reference bench: warming up for ${options.warmupMs / 1000} s`);
    for (const name of PATHS) await run(name, options.warmupMs / PATHS.length);
    const bursts = Object.fromEntries(PATHS.map((p) => [p, [] as Burst[]])) as Bursts;
    for (let round = 0; round < options.rounds; round++) {
      progress(`reference bench: round ${round + 1} of ${options.rounds}`);
      for (let i = 0; i < PATHS.length; i++) {
        const name = PATHS[(round + i) % PATHS.length]!;
        bursts[name].push(await run(name, options.roundMs));
      }
    }
    return summarize(options, bursts);
  } finally {
    await client.close();
    await server.stop();
  }
}

function pathSpecs(valid: string): Record<PathName, BurstSpec> {
  const unknown = Array.from({ length: 256 }, () => `Bearer cci_live_${randomBase62(40)}`);
  let n = 0;
  return {
    valid: { path: VALID_PATH, authorization: () => `Bearer ${valid}`, expectStatus: 200 },
    unknown: {
      path: VALID_PATH,
      authorization: () => unknown[n++ % unknown.length],
      expectStatus: 401,
    },
    missing: { path: VALID_PATH, authorization: () => undefined, expectStatus: 401 },
    health: { path: HEALTH_PATH, authorization: () => undefined, expectStatus: 200 },
  };
}

function summarize(options: ReferenceBenchOptions, bursts: Bursts): ReferenceBench {
  const paths = Object.fromEntries(
    PATHS.map((name) => {
      const rounds = bursts[name];
      const cpu = rounds.flatMap((b) => (b.serverCpuUs === undefined ? [] : [b.serverCpuUs]));
      const result: PathResult = {
        rps: median(rounds.map((b) => b.rps)),
        p50Ms: median(rounds.map((b) => b.p50Ms)),
        p99Ms: median(rounds.map((b) => b.p99Ms)),
        ...(cpu.length > 0 ? { serverCpuUs: median(cpu) } : {}),
        clientCpuUs: median(rounds.map((b) => b.clientCpuUs)),
        unexpected: rounds.reduce((sum, b) => sum + b.unexpected, 0),
        rounds,
      };
      return [name, result];
    }),
  ) as Record<PathName, PathResult>;
  return {
    options,
    paths,
    ratios: {
      validOverHealth: paths.valid.rps / paths.health.rps,
      unknownOverValid: paths.unknown.rps / paths.valid.rps,
      missingOverValid: paths.missing.rps / paths.valid.rps,
    },
  };
}

/** The bench as text: a row per path, then the ratios against their goals. */
export function formatReferenceBench(bench: ReferenceBench): string {
  const { options, paths, ratios } = bench;
  const rows = PATHS.map((name) => {
    const p = paths[name];
    const odd = p.unexpected > 0 ? `  (${p.unexpected} unexpected answers)` : '';
    const server =
      p.serverCpuUs === undefined ? '' : `   server CPU ${p.serverCpuUs.toFixed(1)} µs/req`;
    const cpu = `${server}   client CPU ${p.clientCpuUs.toFixed(1)} µs/req`;
    return (
      `  ${name.padEnd(8)} ${p.rps.toFixed(0).padStart(7)} req/s   ` +
      `p50 ${p.p50Ms.toFixed(2)} ms   p99 ${p.p99Ms.toFixed(2)} ms${cpu}${odd}`
    );
  });
  const goal = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const cpu = (name: PathName) => paths[name].serverCpuUs;
  const cpuRatio =
    cpu('valid') && cpu('health')
      ? [
          `  server CPU valid/health    ${(cpu('valid')! / cpu('health')!).toFixed(2)}  ` +
            '(per request; independent of which process limits throughput)',
        ]
      : [];
  return [
    `reference: ${options.rounds} rounds of ${options.roundMs / 1000} s per path, ` +
      `${options.connections} keep-alive connections, ${options.client} client, medians:`,
    ...rows,
    `  valid/health throughput   ${ratios.validOverHealth.toFixed(2)}  ` +
      `(goal >= 0.85: ${goal(ratios.validOverHealth >= 0.85)})`,
    `  unknown/valid throughput  ${ratios.unknownOverValid.toFixed(2)}  ` +
      `(goal >= 1.00: ${goal(ratios.unknownOverValid >= 1)})`,
    `  missing/valid throughput  ${ratios.missingOverValid.toFixed(2)}  ` +
      `(goal >= 1.00: ${goal(ratios.missingOverValid >= 1)})`,
    ...cpuRatio,
  ].join('\n');
}
