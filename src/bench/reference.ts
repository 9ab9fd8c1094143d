import { HEALTH_PATH, LoadKeys, VALID_PATH } from '../load/keys.js';
import { spawnReference } from '../load/spawn-reference.js';
import { median } from '../load/stats.js';
import { randomBase62 } from '../secrets/keys.js';
import { openClient, type ClientName, type LoadClient } from './clients.js';
import { burst, type Burst, type BurstSpec } from './closed-loop.js';
import { pinApart, unpinned, type Pinning } from './pin.js';
import { processCpuMs } from './process-cpu.js';

/**
 * What is measured. `health+key` is the health route sent the valid key's header, which
 * it ignores: the difference between it and `health` is what carrying the header costs
 * the server's HTTP parser, before any authentication runs.
 */
export const PATHS = ['valid', 'unknown', 'missing', 'health', 'health+key'] as const;
export type PathName = (typeof PATHS)[number];

export interface ReferenceBenchOptions {
  /** Fresh server processes, measured one after the other. */
  processes: number;
  /** Timed rounds per process; each round runs every path once, back to back. */
  rounds: number;
  roundMs: number;
  /** Per process, spread over the paths. */
  warmupMs: number;
  connections: number;
  /**
   * Valid keys the valid path takes turns with. One by default, as a single client sends;
   * the unknown path always takes turns with 256, so that no cache of one key helps it.
   */
  validKeys: number;
  /** Per burst, so that a very fast server still stops. */
  maxRequests: number;
  /** The load generator: `raw` costs less than the server; `undici` is a typical client. */
  client: ClientName;
  /** Server and load generator on CPUs of their own (see `pinApart`). */
  pin: boolean;
}

export const REFERENCE_DEFAULTS: ReferenceBenchOptions = {
  processes: 3,
  rounds: 7,
  roundMs: 1000,
  warmupMs: 3000,
  connections: 32,
  validKeys: 1,
  maxRequests: 200_000,
  client: 'raw',
  pin: true,
};

/** One process's bursts: `rounds[r][path]` ran in round r, beside the other paths. */
export type ProcessRounds = Array<Record<PathName, Burst>>;

export interface PathResult {
  /** Medians over every round of every process. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Median server CPU per request, µs; absent where it cannot be read. */
  serverCpuUs?: number;
  /** Median CPU the load generator spent per request, µs. */
  clientCpuUs: number;
  unexpected: number;
}

/**
 * A throughput ratio, paired: taken within each round, between bursts that ran seconds
 * apart in one process; the median over a process's rounds; then the median over the
 * processes, whose own values show how far one process can be from another.
 */
export interface PairedRatio {
  median: number;
  perProcess: number[];
}

export interface ReferenceBench {
  options: ReferenceBenchOptions;
  /** Where the processes ran: the CPUs, or why they were not pinned. */
  placement: string;
  paths: Record<PathName, PathResult>;
  ratios: {
    validOverHealth: PairedRatio;
    unknownOverValid: PairedRatio;
    missingOverValid: PairedRatio;
    /** How much of the valid path's cost is the header's, not the check's. */
    keyedHealthOverHealth: PairedRatio;
  };
  processes: ProcessRounds[];
}

/**
 * Throughput and latency of the reference for a valid key, an unknown key, no key, and
 * the unauthenticated health route with and without a key's header. Each process is
 * started fresh, warmed up, then measured in rounds in which the paths alternate (each
 * round starts with the next path). Two identical server processes can differ by a fifth
 * in throughput here (their JIT decisions and placement differ), so a figure from one
 * process says little: the ratios are paired within rounds and reported per process.
 */
export async function benchReference(
  options: ReferenceBenchOptions = REFERENCE_DEFAULTS,
  progress: (line: string) => void = () => undefined,
): Promise<ReferenceBench> {
  const processes: ProcessRounds[] = [];
  const placements = new Set<string>();
  for (let p = 0; p < options.processes; p++) {
    const label = `reference bench: process ${p + 1} of ${options.processes}`;
    const run = await benchProcess(options, (line) => progress(`${label}, ${line}`));
    processes.push(run.rounds);
    placements.add(run.placement);
  }
  return summarize(options, processes, [...placements].join('; '));
}

async function benchProcess(
  options: ReferenceBenchOptions,
  progress: (line: string) => void,
): Promise<{ rounds: ProcessRounds; placement: string }> {
  const server = await spawnReference({ logLevel: 'warn' });
  let pinning: Pinning = unpinned('--no-pin');
  let client: LoadClient | undefined;
  try {
    if (options.pin) pinning = pinApart(server.pid);
    progress(pinning.description);
    const keys = new LoadKeys(server.url, server.managementToken);
    const load = await openClient(options.client, server.url, options.connections);
    client = load;
    const valid = await Promise.all(
      Array.from(
        { length: options.validKeys },
        async (_, i) => (await keys.create(`bench-${i}`)).key,
      ),
    );
    const specs = pathSpecs(valid);
    const run = async (name: PathName, ms: number): Promise<Burst> => {
      const before = processCpuMs(server.pid);
      const result = await burst(load, specs[name], ms, options.maxRequests);
      const after = processCpuMs(server.pid);
      if (before === undefined || after === undefined || result.requests === 0) return result;
      return { ...result, serverCpuUs: ((after - before) * 1000) / result.requests };
    };
    progress(`warming up for ${options.warmupMs / 1000} s`);
    for (const name of PATHS) await run(name, options.warmupMs / PATHS.length);
    const rounds: ProcessRounds = [];
    for (let round = 0; round < options.rounds; round++) {
      progress(`round ${round + 1} of ${options.rounds}`);
      const bursts: Partial<Record<PathName, Burst>> = {};
      for (let i = 0; i < PATHS.length; i++) {
        const name = PATHS[(round + i) % PATHS.length]!;
        bursts[name] = await run(name, options.roundMs);
      }
      rounds.push(bursts as Record<PathName, Burst>);
    }
    return { rounds, placement: pinning.description };
  } finally {
    pinning.release();
    await client?.close();
    await server.stop();
  }
}

function pathSpecs(valid: string[]): Record<PathName, BurstSpec> {
  const unknown = Array.from({ length: 256 }, () => `Bearer cci_live_${randomBase62(40)}`);
  // Each header value is made once: the load generator's cost must not differ by path.
  const keyed = valid.map((key) => `Bearer ${key}`);
  const turns = (headers: string[]) => {
    let n = 0;
    return () => headers[n++ % headers.length];
  };
  return {
    valid: { path: VALID_PATH, authorization: turns(keyed), expectStatus: 200 },
    unknown: { path: VALID_PATH, authorization: turns(unknown), expectStatus: 401 },
    missing: { path: VALID_PATH, authorization: () => undefined, expectStatus: 401 },
    health: { path: HEALTH_PATH, authorization: () => undefined, expectStatus: 200 },
    'health+key': { path: HEALTH_PATH, authorization: turns(keyed.slice(0, 1)), expectStatus: 200 },
  };
}

/** `top`/`bottom` throughput within each round, then medians as {@link PairedRatio} says. */
export function pairedRatio(
  processes: ProcessRounds[],
  top: PathName,
  bottom: PathName,
): PairedRatio {
  const perProcess = processes.map((rounds) =>
    median(rounds.map((round) => round[top].rps / round[bottom].rps)),
  );
  return { median: median(perProcess), perProcess };
}

export function summarize(
  options: ReferenceBenchOptions,
  processes: ProcessRounds[],
  placement = 'not recorded',
): ReferenceBench {
  const paths = Object.fromEntries(
    PATHS.map((name) => {
      const bursts = processes.flatMap((rounds) => rounds.map((round) => round[name]));
      const cpu = bursts.flatMap((b) => (b.serverCpuUs === undefined ? [] : [b.serverCpuUs]));
      const result: PathResult = {
        rps: median(bursts.map((b) => b.rps)),
        p50Ms: median(bursts.map((b) => b.p50Ms)),
        p99Ms: median(bursts.map((b) => b.p99Ms)),
        ...(cpu.length > 0 ? { serverCpuUs: median(cpu) } : {}),
        clientCpuUs: median(bursts.map((b) => b.clientCpuUs)),
        unexpected: bursts.reduce((sum, b) => sum + b.unexpected, 0),
      };
      return [name, result];
    }),
  ) as Record<PathName, PathResult>;
  return {
    options,
    placement,
    paths,
    ratios: {
      validOverHealth: pairedRatio(processes, 'valid', 'health'),
      unknownOverValid: pairedRatio(processes, 'unknown', 'valid'),
      missingOverValid: pairedRatio(processes, 'missing', 'valid'),
      keyedHealthOverHealth: pairedRatio(processes, 'health+key', 'health'),
    },
    processes,
  };
}

function keyCount(validKeys: number): string {
  return validKeys === 1 ? '1 valid key' : `${validKeys} valid keys in turn`;
}

/** The bench as text: a row per path, then the ratios against their goals. */
export function formatReferenceBench(bench: ReferenceBench): string {
  const { options, placement, paths, ratios } = bench;
  const rows = PATHS.map((name) => {
    const p = paths[name];
    const odd = p.unexpected > 0 ? `  (${p.unexpected} unexpected answers)` : '';
    const server =
      p.serverCpuUs === undefined ? '' : `   server CPU ${p.serverCpuUs.toFixed(1)} µs/req`;
    const cpu = `${server}   client CPU ${p.clientCpuUs.toFixed(1)} µs/req`;
    return (
      `  ${name.padEnd(10)} ${p.rps.toFixed(0).padStart(7)} req/s   ` +
      `p50 ${p.p50Ms.toFixed(2)} ms   p99 ${p.p99Ms.toFixed(2)} ms${cpu}${odd}`
    );
  });
  const ratio = (label: string, r: PairedRatio, goal?: number) => {
    const spread = r.perProcess.map((x) => x.toFixed(2)).join(', ');
    const verdict =
      goal === undefined
        ? ''
        : `  goal >= ${goal.toFixed(2)}: ${r.median >= goal ? 'met' : 'NOT met'}`;
    return `  ${label.padEnd(26)} ${r.median.toFixed(2)}  (per process: ${spread})${verdict}`;
  };
  return [
    `reference: ${options.processes} processes × ${options.rounds} rounds of ` +
      `${options.roundMs / 1000} s per path, ${options.connections} keep-alive connections, ` +
      `${options.client} client, ${keyCount(options.validKeys)}; ${placement}; medians:`,
    ...rows,
    'throughput ratios, paired within rounds:',
    ratio('valid/health', ratios.validOverHealth, 0.85),
    ratio('unknown/valid', ratios.unknownOverValid, 1),
    ratio('missing/valid', ratios.missingOverValid, 1),
    ratio('health+key/health', ratios.keyedHealthOverHealth),
  ].join('\n');
}
