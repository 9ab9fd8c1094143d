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
