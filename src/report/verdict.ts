import type { Requirement } from '../contract/model.js';
import type { Check } from '../run/checks.js';

/** The closed set of outcomes, for scenarios and requirements alike. */
export type Outcome = 'passed' | 'failed' | 'errored' | 'skipped' | 'not assessed';

/** How one scenario ended, as the reporter saw it. */
export interface ScenarioOutcome {
  id: string;
  title: string;
  requirement: string;
  status: Exclude<Outcome, 'not assessed'>;
  checks: Check[];
  skipReason?: string;
  error?: string;
  evidence?: unknown;
}

export interface RequirementResult extends Requirement {
  status: Outcome;
  scenarios: { passed: number; failed: number; errored: number; skipped: number };
  skipReasons: string[];
  failures: Array<{
    scenario: string;
    title: string;
    what: string;
    expected?: string;
    actual?: string;
  }>;
}

export interface Verdict {
  /** pass: every MUST requirement that could be checked passed, and at least one was. */
  result: 'pass' | 'fail';
  requirements: RequirementResult[];
  counts: Record<Exclude<Outcome, 'not assessed'>, number>;
}

/**
 * Folds scenario outcomes into a status per requirement. A requirement fails when any
 * check attributed to it failed, in whichever scenario; it passes when checks for it
 * passed and none failed; it is skipped when every scenario for it was skipped; it is
 * not assessed when no selected scenario touched it.
 */
export function decide(
  requirements: Requirement[],
  outcomes: ScenarioOutcome[],
  strict = false,
): Verdict {
  const results = new Map<string, RequirementResult>(
    requirements.map((r) => [
      r.id,
      {
        ...r,
        status: 'not assessed',
        scenarios: { passed: 0, failed: 0, errored: 0, skipped: 0 },
        skipReasons: [],
        failures: [],
      },
    ]),
  );
  const counts = { passed: 0, failed: 0, errored: 0, skipped: 0 };

  for (const outcome of outcomes) {
    counts[outcome.status]++;
    const own = results.get(outcome.requirement);
    if (own && outcome.status === 'skipped') {
      own.scenarios.skipped++;
      if (outcome.skipReason && !own.skipReasons.includes(outcome.skipReason))
        own.skipReasons.push(outcome.skipReason);
    }
    if (own && outcome.status === 'errored') {
      own.scenarios.errored++;
      // No check failed; what went wrong is the error, which the table and report show.
      own.failures.push({
        scenario: outcome.id,
        title: outcome.title,
        what: 'the scenario could not finish',
        actual: outcome.error ?? 'an error',
      });
    }

    // A scenario counts for every requirement it checked: passed for it when all its
    // checks for that requirement passed.
    const verdicts = new Map<string, boolean>();
    for (const check of outcome.checks) {
      verdicts.set(check.requirement, (verdicts.get(check.requirement) ?? true) && check.ok);
      if (!check.ok) {
        results.get(check.requirement)?.failures.push({
          scenario: outcome.id,
          title: outcome.title,
          what: check.what,
          ...(check.expected !== undefined ? { expected: check.expected } : {}),
          ...(check.actual !== undefined ? { actual: check.actual } : {}),
        });
      }
    }
    for (const [requirement, ok] of verdicts) {
      const result = results.get(requirement);
      if (result) result.scenarios[ok ? 'passed' : 'failed']++;
    }
  }

  for (const result of results.values()) {
    if (result.scenarios.failed > 0) result.status = 'failed';
    else if (result.scenarios.errored > 0) result.status = 'errored';
    else if (result.scenarios.passed > 0) result.status = 'passed';
    else if (result.scenarios.skipped > 0) result.status = 'skipped';
  }

  const list = [...results.values()];
  const must = list.filter((r) => r.level === 'MUST');
  const broken = must.some(
    (r) => r.status === 'failed' || r.status === 'errored' || (strict && r.status === 'skipped'),
  );
  const anyPassed = list.some((r) => r.status === 'passed');
  return { result: !broken && anyPassed ? 'pass' : 'fail', requirements: list, counts };
}
