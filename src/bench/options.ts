import { parseArgs, type ParseArgsConfig } from 'node:util';
import { argumentProblem } from '../cli/args.js';

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<T extends Options> = ReturnType<
  typeof parseArgs<{ options: T; strict: true; allowPositionals: false }>
>['values'];

/**
 * A bench script's command line: `--help` prints `usage` and exits 0; an unknown or
 * misused option is named on stderr, with exit 2, never as a stack trace.
 */
export function benchArgs<T extends Options>(script: string, usage: string, options: T): Values<T> {
  try {
    const { values } = parseArgs({
      options: { ...options, help: { type: 'boolean', short: 'h', default: false } },
      strict: true,
      allowPositionals: false,
    });
    if ((values as { help?: boolean }).help) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    return values as Values<T>;
  } catch (error) {
    process.stderr.write(`${script}: ${argumentProblem(error)} (see --help)\n`);
    process.exit(2);
  }
}

/** An integer option from `min` to `max`, or `fallback` when absent; exits 2 otherwise. */
export function wholeOption(
  name: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (Number.isInteger(value) && value >= min && value <= max) return value;
  process.stderr.write(`--${name} must be an integer from ${min} to ${max}, not ${text}\n`);
  process.exit(2);
}
