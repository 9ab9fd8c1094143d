import type { CheckName, CheckOptions, CheckResult, LoadTarget } from './check.js';
import { floodCheck } from './flood.js';
import { revocationCheck } from './revocation.js';
import { rotationCheck } from './rotation.js';

type Check = (target: LoadTarget, options: CheckOptions) => Promise<CheckResult>;

const RUNNERS: Record<CheckName, Check> = {
  rotation: rotationCheck,
  revocation: revocationCheck,
  flood: floodCheck,
};

/** Runs the checks one after another, each with its own budget, and prints a tick a second. */
export async function runChecks(
  target: LoadTarget,
  checks: readonly CheckName[],
  options: CheckOptions,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const name of checks) {
    options.progress(`${name}: started`);
    const started = performance.now();
    const ticker = setInterval(() => {
      options.progress(`${name}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }, 1000);
    try {
      const outcome = await RUNNERS[name](target, options);
      options.progress(`${name}: ${outcome.ok ? 'passed' : 'FAILED'}`);
      results.push(outcome);
    } finally {
      clearInterval(ticker);
    }
  }
  return results;
}
