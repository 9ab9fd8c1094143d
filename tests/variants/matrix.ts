import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { redactSecrets } from '../../src/secrets/redact.js';
import {
  classify,
  titlesFor,
  type MadeRun,
  type Matrix,
  type MatrixRow,
  type Scope,
} from './classify.js';
import type { Variant } from './model.js';
import { ROOT, runSuite, statusOf, type SuiteOptions, type SuiteRun } from './run-suite.js';
import { startVariant } from './serve.js';

export type { Matrix, MatrixRow } from './classify.js';
import { failureLimit } from './table.js';
export { formatMatrix } from './table.js';

export interface MatrixOptions {
  /** Variants run at once (default 3). */
  concurrency?: number;
  /** Playwright workers per run (default 1). */
  workers?: number;
  /** A run stops at this many failed scenarios (default 1); see {@link decideVariant}. */
  maxFailures?: number;
  /** Reports go to `<dir>/variants/<id>/`, the matrix to `<dir>/kill-matrix.json`. */
  reportDir?: string;
  /** Longest one run may take (default 240 s). */
  timeoutMs?: number;
  onRow?: (row: MatrixRow, done: number, total: number) => void;
}

/** Runs the suite against every variant, `concurrency` at a time, and writes the matrix. */
export async function runMatrix(variants: Variant[], options: MatrixOptions = {}): Promise<Matrix> {
  const settings = {
    concurrency: Math.max(1, options.concurrency ?? 3),
    workersPerRun: Math.max(1, options.workers ?? 1),
    maxFailures: Math.max(1, options.maxFailures ?? 1),
  };
  const reportDir = resolve(options.reportDir ?? join(ROOT, 'reports'));
  const started = Date.now();
  const rows: MatrixRow[] = new Array(variants.length);
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < variants.length) {
      const index = next++;
      const variant = variants[index]!;
      const dir = join(reportDir, 'variants', variant.id);
      rows[index] = await decideVariant(variant, dir, {
        workers: settings.workersPerRun,
        maxFailures: settings.maxFailures,
        timeoutMs: options.timeoutMs ?? 240_000,
      });
      options.onRow?.(rows[index]!, ++done, variants.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(settings.concurrency, variants.length) }, lane));
  const matrix: Matrix = {
    ok: rows.every((r) => r.ok),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    ...settings,
    rows,
  };
  mkdirSync(reportDir, { recursive: true });
  writeFileSync(join(reportDir, 'kill-matrix.json'), `${JSON.stringify(matrix, null, 2)}\n`);
  return matrix;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

type RunSettings = Pick<SuiteOptions, 'workers' | 'timeoutMs'> & { maxFailures: number };

/**
 * Decides one variant with as few runs as honesty allows. A failed scenario costs
 * Playwright a new worker process, and a broken variant can fail two hundred, so runs
 * stop at the `maxFailures`-th failed scenario, by default the first. That is sound for a
 * kill: the verdict fails a requirement when any of its checks fails, so a failure seen in
 * part of the suite is a failure of the whole suite. A higher limit only shows more
 * examples in the reports, at about a second per failure.
 *
 * - A correct variant: the whole suite, which it must pass to the end.
 * - A broken variant: first the scenarios that have the broken requirement as their own
 *   (none for the cross-cutting CHAL and ERR requirements, which every refusal checks);
 *   if they do not fail it, the whole suite; if that stopped at its failure limit without
 *   failing it either, the whole suite again without a limit. A variant is declared
 *   surviving only after the whole suite ran to its end.
 */
export async function decideVariant(variant: Variant, dir: string, settings: RunSettings) {
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  const runs: MadeRun[] = [];
  let failure: string | undefined;
  try {
    const server = await startVariant(variant);
    const run = async (scope: Scope, what: string, extra: Partial<SuiteOptions>) => {
      const made = await runSuite({
        url: server.url,
        managementToken: server.managementToken,
        dir: join(dir, scope),
        workers: settings.workers,
        timeoutMs: settings.timeoutMs,
        ...extra,
      });
      runs.push({ ...made, scope, what });
      return made;
    };
    const { maxFailures } = settings;
    const target = variant.breaks;
    const killed = (made: SuiteRun) => target !== null && statusOf(made, target) === 'failed';
    try {
      const titles = target ? titlesFor(target) : [];
      const focused =
        titles.length === 0
          ? undefined
          : await run(
              'focused',
              `the ${titles.length} scenarios of ${target}, stop at ${failureLimit(maxFailures)}`,
              { maxFailures, grep: titles.map(escape).join('|') },
            );
      if (!focused || (target && !killed(focused))) {
        const limit = `whole suite, stop at ${failureLimit(maxFailures)}`;
        const whole = await run('whole', limit, { maxFailures });
        if (target && !killed(whole) && whole.report && stoppedEarly(whole, maxFailures)) {
          await run('complete', 'whole suite to its end', {});
        }
      }
    } finally {
      await server.close();
    }
  } catch (error) {
    failure = `the variant could not be run: ${redactSecrets((error as Error).message)}`;
  }
  return classify(variant, runs, failure, Date.now() - started);
}

/** True when a run ended at its failure limit, before every scenario ran. */
function stoppedEarly(run: SuiteRun, maxFailures: number): boolean {
  const counts = run.report?.counts.scenarios ?? {};
  return (counts.failed ?? 0) + (counts.errored ?? 0) >= maxFailures;
}
