import { readFileSync } from 'node:fs';
import type { Contract } from '../contract/model.js';
import { redactSecrets } from '../secrets/redact.js';
import { decide, type Outcome, type ScenarioOutcome, type Verdict } from './verdict.js';

export const SUITE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** Where a run was pointed and when: what the report says about the run itself. */
export interface RunMeta {
  baseUrl: string | null;
  embedded: boolean;
  seed: number;
  startedAt: string;
  finishedAt: string;
  runStatus: string;
  profiles: string[];
  shard?: string;
}

export type ProfileStatus = 'passed' | 'failed' | 'errored' | 'not assessed';

/** The conformance report, `conformance.json`; schema: schemas/conformance-report.schema.json. */
export interface ConformanceReport {
  reportVersion: 1;
  suite: { name: string; version: string };
  contract: { title: string; version: string; sha256: string };
  target: { baseUrl: string | null; embedded: boolean };
  seed: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  runStatus: string;
  shard?: string;
  selectedProfiles: string[];
  verdict: 'pass' | 'fail' | 'incomplete';
  counts: { scenarios: Verdict['counts']; requirements: Record<string, number> };
  profiles: Array<{ id: string; title: string; status: ProfileStatus; reason?: string }>;
  requirements: Array<{
    id: string;
    level: string;
    profile: string;
    text: string;
    source: string;
    status: Outcome;
    scenarios: { passed: number; failed: number; errored: number; skipped: number };
    skipReasons?: string[];
    failures?: Verdict['requirements'][number]['failures'];
  }>;
  scenarios: Array<
    Omit<ScenarioOutcome, 'checks'> & {
      checked: Record<string, boolean>;
      failedChecks?: ScenarioOutcome['checks'];
    }
  >;
}

/** Builds the report from scenario outcomes; everything in it is redacted. */
export function buildReport(
  contract: Contract,
  meta: RunMeta,
  outcomes: ScenarioOutcome[],
  strict: boolean,
): ConformanceReport {
  const verdict = decide(contract.requirements, outcomes, strict);
  const c = verdict.counts;
  // An interrupted or timed-out run has no verdict on what it did not reach, and a run in
  // which every scenario was skipped has none at all (unless skips fail it, --strict).
  const incomplete =
    meta.runStatus === 'interrupted' ||
    meta.runStatus === 'timedout' ||
    (!strict && c.passed + c.failed + c.errored === 0);
  const report: ConformanceReport = {
    reportVersion: 1,
    suite: { name: 'cci-auth-conformance', version: SUITE_VERSION },
    contract: {
      title: contract.document.info.title,
      version: contract.version,
      sha256: contract.sha256,
    },
    target: { baseUrl: meta.baseUrl, embedded: meta.embedded },
    seed: meta.seed,
    startedAt: meta.startedAt,
    finishedAt: meta.finishedAt,
    durationMs: Date.parse(meta.finishedAt) - Date.parse(meta.startedAt),
    runStatus: meta.runStatus,
    ...(meta.shard ? { shard: meta.shard } : {}),
    selectedProfiles: meta.profiles,
    verdict: incomplete ? 'incomplete' : verdict.result,
    counts: {
      scenarios: verdict.counts,
      requirements: countBy(verdict.requirements.map((r) => r.status)),
    },
    profiles: profileResults(contract, verdict),
    requirements: verdict.requirements.map((r) => ({
      id: r.id,
      level: r.level,
      profile: r.profile,
      text: r.text,
      source: r.source,
      status: r.status,
      scenarios: r.scenarios,
      ...(r.skipReasons.length ? { skipReasons: r.skipReasons } : {}),
      ...(r.failures.length ? { failures: r.failures.slice(0, 20) } : {}),
    })),
    scenarios: outcomes.map(({ checks, ...rest }) => ({
      ...rest,
      checked: checkedMap(checks),
      ...(checks.some((c) => !c.ok) ? { failedChecks: checks.filter((c) => !c.ok) } : {}),
    })),
  };
  return JSON.parse(redactSecrets(JSON.stringify(report))) as ConformanceReport;
}

/**
 * A profile passes only when every MUST requirement in it passed; one that could not be
 * checked (for example lifecycle on a target that cannot create keys) is not assessed,
 * never passed.
 */
/** How many MUST requirements the run checked (passed or failed), of how many there are. */
export function mustCoverage(report: ConformanceReport): { checked: number; total: number } {
  const musts = report.requirements.filter((r) => r.level === 'MUST');
  const unchecked = musts.filter((r) => r.status === 'skipped' || r.status === 'not assessed');
  return { checked: musts.length - unchecked.length, total: musts.length };
}

/**
 * What a verdict covers, when it is not everything: a pass over part of the contract must
 * not read as a pass over all of it. Empty when every MUST requirement was checked.
 */
export function coverageNote(report: ConformanceReport): string {
  const { checked, total } = mustCoverage(report);
  return checked === total ? '' : `${checked} of ${total} MUST requirements checked`;
}

function profileResults(contract: Contract, verdict: Verdict): ConformanceReport['profiles'] {
  return contract.profiles.map((profile) => {
    const inside = verdict.requirements.filter((r) => r.profile === profile.id);
    const must = inside.filter((r) => r.level === 'MUST');
    const base = { id: profile.id, title: profile.title };
    if (inside.some((r) => r.status === 'failed')) return { ...base, status: 'failed' };
    if (inside.some((r) => r.status === 'errored')) return { ...base, status: 'errored' };
    if (must.length > 0 && must.every((r) => r.status === 'passed'))
      return { ...base, status: 'passed' };
    const unchecked = must.find((r) => r.status !== 'passed');
    const reason =
      unchecked?.skipReasons[0] ??
      (unchecked ? `${unchecked.id} was not selected` : 'no MUST requirement');
    return { ...base, status: 'not assessed', reason };
  });
}

/** Per requirement, whether all of the scenario's checks for it passed. */
function checkedMap(checks: ScenarioOutcome['checks']): Record<string, boolean> {
  const map: Record<string, boolean> = {};
  for (const check of checks) map[check.requirement] = (map[check.requirement] ?? true) && check.ok;
  return map;
}

/** Scenario outcomes read back from a report, for merging shards. */
export function outcomesOf(report: ConformanceReport): ScenarioOutcome[] {
  return report.scenarios.map(({ checked, failedChecks = [], ...rest }) => {
    const checks = Object.entries(checked).flatMap(([requirement, ok]) =>
      ok
        ? [{ requirement, ok, what: 'check' }]
        : failedChecks.filter((c) => c.requirement === requirement),
    );
    return { ...rest, checks };
  });
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
