/**
 * Node's parseArgs error, as one line a user can act on. Its own messages run over
 * several lines, or advise `--` in a way that reads as a stray quote.
 */
export function argumentProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `Unknown option '${unknown[1]}'`;
  const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(message);
  if (ambiguous) {
    const name = ambiguous[1]!;
    return `${name} needs a value; for one that starts with "-", write ${name}=VALUE`;
  }
  const missing = /^Option '(-[^ ']+)(?: <value>)?' argument missing/.exec(message);
  if (missing) return `${missing[1]} needs a value`;
  return message.split('\n')[0]!;
}

/**
 * The first option given an empty value, as one line; undefined when there is none. An
 * empty value is nearly always a shell variable that is not set, and running without the
 * option would do something else than was asked for.
 */
export function emptyOption(values: Record<string, unknown>): string | undefined {
  const name = Object.keys(values).find((n) => {
    const value = values[n];
    return typeof value === 'string' && value.trim() === '';
  });
  return name === undefined ? undefined : `--${name} is empty (is the variable it came from set?)`;
}

/**
 * The first of the variables `wanted` picks that is set to nothing, as one line; undefined
 * when there is none. That is how an unset CI secret arrives.
 */
export function emptyVariable(
  env: NodeJS.ProcessEnv,
  wanted: (name: string) => boolean,
): string | undefined {
  const name = Object.keys(env).find((n) => wanted(n) && env[n]!.trim() === '');
  return name === undefined
    ? undefined
    : `${name} is set but empty (did the secret or setting it comes from arrive?)`;
}
