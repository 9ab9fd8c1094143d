import type { Scenario } from '../scenarios/model.js';

/** Playwright's options that the CLI hands over as they are, once they are known to be sound. */
export const PASS_THROUGH = [
  'grep',
  'grep-invert',
  'workers',
  'shard',
  'retries',
  'max-failures',
  'timeout',
  'repeat-each',
] as const;

export type PassThrough = (typeof PASS_THROUGH)[number];

const whole = (text: string) => (/^\d+$/.test(text) ? Number(text) : Number.NaN);

/** What each numeric option accepts, as a phrase and a test. */
const NUMERIC: Record<
  Exclude<PassThrough, 'grep' | 'grep-invert'>,
  [string, (text: string) => boolean]
> = {
  workers: [
    'a positive whole number or a percentage of the cores (for example 2 or 50%)',
    (text) => {
      const percent = /^(\d+)%$/.exec(text);
      return percent ? Number(percent[1]) > 0 && Number(percent[1]) <= 100 : whole(text) > 0;
    },
  ],
  shard: [
    'I/N with 1 ≤ I ≤ N (for example 1/3)',
    (text) => {
      const match = /^(\d+)\/(\d+)$/.exec(text);
      return match !== null && Number(match[1]) >= 1 && Number(match[1]) <= Number(match[2]);
    },
  ],
  retries: ['a whole number (0 or more)', (text) => whole(text) >= 0],
  'max-failures': ['a whole number (0 means no limit)', (text) => whole(text) >= 0],
  timeout: ['a whole number of milliseconds (0 means none)', (text) => whole(text) >= 0],
  'repeat-each': ['a whole number, 1 or more', (text) => whole(text) >= 1],
};

/**
 * Playwright's reading of a --grep pattern: `/re/flags` as written, anything else as a
 * case-insensitive expression.
 */
export function grepExpression(pattern: string): RegExp {
  const literal = /^\/(.*)\/([gi]*)$/.exec(pattern);
  return literal ? new RegExp(literal[1]!, literal[2]) : new RegExp(pattern, 'gi');
}

/**
 * Checks the options Playwright would otherwise refuse only after start-up, with a stack
 * trace, or not at all (`--timeout abc` used to run with no timeout). Returns the first
 * problem as one line naming the option; undefined when all are sound.
 */
export function passThroughProblem(
  values: Partial<Record<PassThrough, string | undefined>>,
): string | undefined {
  for (const name of ['grep', 'grep-invert'] as const) {
    const pattern = values[name];
    if (pattern === undefined) continue;
    try {
      grepExpression(pattern);
    } catch (error) {
      return `--${name} "${pattern}" is not a regular expression: ${(error as Error).message}`;
    }
  }
  for (const [name, [accepts, sound]] of Object.entries(NUMERIC)) {
    const value = values[name as PassThrough];
    if (value !== undefined && !sound(value.trim()))
      return `--${name} must be ${accepts}, not "${value}"`;
  }
  return undefined;
}

/**
 * The text Playwright matches --grep against: an empty title (its root's), the spec file,
 * the test's title, then its tags, joined by spaces. Specs are one file per scenario
 * family (specs/<family>.spec.ts). A test holds this to Playwright's own --list.
 */
export function grepTitle(scenario: Scenario): string {
  return ['', `${scenario.family}.spec.ts`, scenario.title, ...scenario.tags].join(' ');
}

/** The scenarios a --grep / --grep-invert pair selects. */
export function grepSelection(
  scenarios: Scenario[],
  grep: string | undefined,
  grepInvert: string | undefined,
): Scenario[] {
  const matcher = (pattern: string | undefined) => {
    if (pattern === undefined) return undefined;
    const expression = grepExpression(pattern);
    return (scenario: Scenario) => {
      expression.lastIndex = 0;
      return expression.test(grepTitle(scenario));
    };
  };
  const wanted = matcher(grep);
  const unwanted = matcher(grepInvert);
  return scenarios.filter((s) => (!wanted || wanted(s)) && !unwanted?.(s));
}
