import { relative } from 'node:path';
import { loadContract } from '../../src/contract/load.js';
import { generateScenarios } from '../../src/scenarios/generate.js';
import type { Variant } from './model.js';
import { ROOT, scenariosRun, statusOf, type SuiteRun } from './run-suite.js';

/** The rows of the kill matrix, and how a variant's runs decide its row. */

export type Outcome =
  /** Broken: the suite failed it on the requirement it breaks. */
  | 'killed'
  /** Broken: the whole suite passed it. */
  | 'survived'
  /** Broken: the suite failed it, but not on the requirement it breaks. */
  | 'killed-elsewhere'
  /** Correct: every scenario passed. */
  | 'passed'
  /** Correct: something failed. */
  | 'false-failure'
  /** No usable verdict, or scenarios were skipped. */
  | 'unusable';

/** One row of the kill matrix. */
export interface MatrixRow {
  id: string;
  breaks: string | null;
  applied: Variant['applied'];
  description: string;
  outcome: Outcome;
  /** Killed on its requirement, or passed. */
  ok: boolean;
  /** Why the row is not ok. */
  problem?: string;
  /** Requirements failed or errored in the runs made. */
  failing: string[];
  /** A couple of failing scenarios: of the broken requirement when it failed, else any. */
  examples: string[];
  /** The runs made, in order: what each ran, its exit code and where its report is. */
  runs: Array<{
    scope: Scope;
    what: string;
    exitCode: number | null;
    scenarios: number;
    reportDir: string;
  }>;
  durationMs: number;
}

export interface Matrix {
  ok: boolean;
  startedAt: string;
  durationMs: number;
  concurrency: number;
  workersPerRun: number;
  maxFailures: number;
  rows: MatrixRow[];
}

/** What a run selected: a requirement's own scenarios, or the whole suite (with a stop or not). */
export type Scope = 'focused' | 'whole' | 'complete';
export type MadeRun = SuiteRun & { scope: Scope; what: string };

let generated: Array<{ title: string; requirements: Set<string> }> | undefined;

/** The scenarios the suite runs (seed 1, the CLI's default), with what each checks. */
export function scenarios() {
  generated ??= generateScenarios(loadContract(), { seed: 1 }).map((s) => ({
    title: s.title,
    requirements: new Set([
      s.requirement,
      ...s.steps.flatMap((step) =>
        'requirement' in step && step.requirement ? [step.requirement] : [],
      ),
    ]),
  }));
  return generated;
}

/** Titles of the scenarios that check `requirement` as their own or a step's requirement. */
export const titlesFor = (requirement: string): string[] =>
  scenarios()
    .filter((s) => s.requirements.has(requirement))
    .map((s) => s.title);

/** Decides a row from the runs made: killed or survived, passed or false failure. */
export function classify(
  variant: Variant,
  runs: MadeRun[],
  failure: string | undefined,
  durationMs: number,
): MatrixRow {
  const last = runs.at(-1);
  const failing = [
    ...new Set(
      runs.flatMap((r) =>
        (r.report?.requirements ?? [])
          .filter((q) => q.status === 'failed' || q.status === 'errored')
          .map((q) => q.id),
      ),
    ),
  ];
  const killedIn =
    variant.breaks === null
      ? undefined
      : runs.find((r) => statusOf(r, variant.breaks!) === 'failed');
  const own = killedIn?.report?.requirements.find((q) => q.id === variant.breaks);
  const anyFailed = (last?.report?.scenarios ?? [])
    .filter((s) => s.status === 'failed' || s.status === 'errored')
    .map((s) => s.id);
  const examples = [
    ...new Set(own ? (own.failures ?? []).map((f) => f.scenario) : anyFailed),
  ].slice(0, 2);
  const row = {
    id: variant.id,
    breaks: variant.breaks,
    applied: variant.applied,
    description: variant.description,
    failing,
    examples,
    runs: runs.map((r) => ({
      scope: r.scope,
      what: r.what,
      exitCode: r.exitCode,
      scenarios: scenariosRun(r),
      reportDir: relative(ROOT, r.dir) || '.',
    })),
    durationMs,
  };
  const unusable = (problem: string): MatrixRow => ({
    ...row,
    outcome: 'unusable',
    ok: false,
    problem,
  });

  if (failure) return unusable(failure);
  const broken = runs.find((r) => !r.report || (r.exitCode !== 0 && r.exitCode !== 1));
  if (!last || broken) {
    return unusable(`a run gave no verdict (exit code ${broken?.exitCode}); see its run.log`);
  }
  const skipped = runs.flatMap((r) => r.report!.scenarios.filter((s) => s.status === 'skipped'));
  if (skipped.length > 0) {
    const why = [...new Set(skipped.map((s) => s.skipReason ?? 'skipped'))].join('; ');
    return unusable(`${skipped.length} scenarios were skipped, so the run proves less: ${why}`);
  }
  const complete = scenariosRun(last) === scenarios().length;
  if (!killedIn && failing.length === 0 && !complete) {
    return unusable(`only ${scenariosRun(last)} of ${scenarios().length} scenarios ran`);
  }
  if (variant.breaks === null) {
    return last.exitCode === 0 && failing.length === 0
      ? { ...row, outcome: 'passed', ok: true }
      : { ...row, outcome: 'false-failure', ok: false, problem: `it failed ${failing.join(', ')}` };
  }
  if (killedIn) return { ...row, outcome: 'killed', ok: true };
  if (last.exitCode === 0 && failing.length === 0) {
    const problem = `the whole suite passed it: ${variant.breaks} is unproven`;
    return { ...row, outcome: 'survived', ok: false, problem };
  }
  const status = statusOf(last, variant.breaks);
  const problem = `it failed ${failing.join(', ')}, but ${variant.breaks} was ${status}`;
  return { ...row, outcome: 'killed-elsewhere', ok: false, problem };
}
