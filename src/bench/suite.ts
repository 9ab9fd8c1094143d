import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadContract } from '../contract/load.js';
import { spawnReference } from '../load/spawn-reference.js';
import { median } from '../load/stats.js';
import { EMBEDDED_TRUSTED_PROXY } from '../run/global-setup.js';
import type { Scenario } from '../scenarios/model.js';
import { generateScenarios } from '../scenarios/generate.js';
import { loopbackPlan } from '../target/addresses.js';
import { ManagementApi } from '../target/management-api.js';
import { provisionKeys } from '../target/provision.js';
import { plainLoop, type LoopResult, type PlainTarget } from './plain-loop.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** A conformance run that takes longer than this is stopped: the bench must end. */
const RUN_LIMIT_MS = 300_000;

export interface SuiteBenchOptions {
  /** Timed conformance runs. */
  runs: number;
  /** Timed plain-loop rounds, after one untimed warm-up round. */
  rounds: number;
  /** Scenarios in flight in the plain loop: the suite's two Playwright workers. */
  lanes: number;
}

export const SUITE_DEFAULTS: SuiteBenchOptions = { runs: 3, rounds: 5, lanes: 2 };

export interface ConformanceRun {
  wallMs: number;
  scenarios: number;
  /** The run's own duration from its report: scenarios only, no start-up. */
  reportMs: number;
  verdict: string;
}

export interface SuiteBench {
  conformance: { runs: ConformanceRun[]; rate: number };
  plain: { rounds: LoopResult[]; rate: number; scenarios: number; skipped: number };
  /** Conformance scenarios/s over plain-loop scenarios/s. */
  ratio: number;
}

/** Times the conformance CLI end to end and the same scenarios' HTTP traffic alone. */
export async function benchSuite(
  options: SuiteBenchOptions = SUITE_DEFAULTS,
  progress: (line: string) => void = () => undefined,
): Promise<SuiteBench> {
  const runs: ConformanceRun[] = [];
  for (let i = 0; i < options.runs; i++) {
    progress(`suite bench: conformance run ${i + 1} of ${options.runs}`);
    runs.push(await timeConformance());
  }
  const plain = await timePlainLoop(options, progress);
  const rate = median(runs.map((r) => (r.scenarios * 1000) / r.wallMs));
  return { conformance: { runs, rate }, plain, ratio: rate / plain.rate };
}

/** One `scripts/conformance.ts` run in its own process group, into a fresh directory. */
async function timeConformance(): Promise<ConformanceRun> {
  const output = mkdtempSync(join(tmpdir(), 'cci-bench-'));
  try {
    const started = performance.now();
    const code = await runGroup([
      '--import',
      'tsx',
      join(ROOT, 'scripts', 'conformance.ts'),
      '--output',
      output,
    ]);
    const wallMs = performance.now() - started;
    const report = JSON.parse(readFileSync(join(output, 'conformance.json'), 'utf8')) as {
      durationMs: number;
      verdict: string;
      counts: { scenarios: Record<string, number> };
    };
    const scenarios = Object.values(report.counts.scenarios).reduce((a, b) => a + b, 0);
    if (code !== 0 && scenarios === 0) throw new Error(`the conformance run exited ${code}`);
    return { wallMs, scenarios, reportMs: report.durationMs, verdict: report.verdict };
  } finally {
    rmSync(output, { recursive: true, force: true });
  }
}

function runGroup(args: string[]): Promise<number | null> {
  const child = spawn(process.execPath, args, { cwd: ROOT, detached: true, stdio: 'ignore' });
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The group is gone already.
    }
  };
  process.once('exit', kill);
  const timer = setTimeout(kill, RUN_LIMIT_MS);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      kill();
      process.off('exit', kill);
      resolve(code);
    }),
  );
}

async function timePlainLoop(options: SuiteBenchOptions, progress: (line: string) => void) {
  const server = await spawnReference({ trustedProxies: [EMBEDDED_TRUSTED_PROXY] });
  try {
    const { target, scenarios, skipped } = await prepare(server);
    const run = randomBytes(3).toString('hex');
    progress('suite bench: plain loop warm-up');
    await plainLoop(target, scenarios, options.lanes, `${run}-w`);
    const rounds: LoopResult[] = [];
    for (let i = 0; i < options.rounds; i++) {
      progress(`suite bench: plain loop round ${i + 1} of ${options.rounds}`);
      rounds.push(await plainLoop(target, scenarios, options.lanes, `${run}-${i}`));
    }
    const rate = median(rounds.map((r) => (r.scenarios * 1000) / r.ms));
    return { rounds, rate, scenarios: scenarios.length, skipped };
  } finally {
    await server.stop();
  }
}

/** Keys per role, made as the suite makes them, and the scenarios this target can run. */
async function prepare(server: { url: string; ipv6Url?: string; managementToken: string }) {
  const contract = loadContract();
  const plan = loopbackPlan(server.ipv6Url, EMBEDDED_TRUSTED_PROXY);
  const api = new ManagementApi(server.url, server.managementToken);
  const { keys } = await provisionKeys(contract, api, 'bench', plan, () => undefined);
  const all = generateScenarios(contract, { seed: 1 });
  const runnable = (s: Scenario) =>
    s.roles.every((role) => role in keys) && s.sources.every((source) => source in plan.sources);
  const scenarios = all.filter(runnable);
  const target: PlainTarget = {
    baseUrl: server.url,
    ...(server.ipv6Url ? { ipv6Url: server.ipv6Url } : {}),
    managementToken: server.managementToken,
    sources: plan.sources,
    keys,
    addresses: { elsewhere: plan.allowlists['ip.elsewhere']?.[0] ?? '192.0.2.10' },
    format: contract.keyFormat,
  };
  return { target, scenarios, skipped: all.length - scenarios.length };
}

/** The bench as text. */
export function formatSuiteBench(bench: SuiteBench): string {
  const { conformance, plain } = bench;
  const runs = conformance.runs
    .map((r) => `${(r.wallMs / 1000).toFixed(1)} s (${r.scenarios} scenarios, ${r.verdict})`)
    .join(', ');
  const asExpected = plain.rounds.reduce((sum, r) => sum + r.asExpected, 0);
  const requests = plain.rounds.reduce((sum, r) => sum + r.requests, 0);
  return [
    `suite: conformance CLI ${conformance.rate.toFixed(1)} scenarios/s ` +
      `(median of ${conformance.runs.length} runs, wall time incl. start-up: ${runs})`,
    `       plain undici loop ${plain.rate.toFixed(1)} scenarios/s (median of ` +
      `${plain.rounds.length} rounds of ${plain.scenarios} scenarios, ${plain.skipped} skipped; ` +
      `${asExpected} of ${requests} answers as the scenarios expect)`,
    `       conformance/plain ${bench.ratio.toFixed(3)}`,
  ].join('\n');
}
