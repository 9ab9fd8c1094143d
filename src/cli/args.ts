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
