/**
 * Anything that starts like a CCI credential: `cci_<kind>_` and the characters that
 * follow it up to a delimiter. Malformed variants (spaces aside) are caught too, so a
 * report never shows more of a submitted key than its prefix and last four characters.
 * It need not start a word: a server may echo a key glued to other text, percent-encoded
 * after `Bearer%20`, or behind a prefix of its own (`tok_cci_live_…`).
 */
const CREDENTIAL = /(cci_[A-Za-z]+_)([^\s"'<>&,;\\`|)\]}]+)/g;

/** The form in which a key may be shown: its prefix, an ellipsis and its last four characters. */
export function redactKey(key: string): string {
  const match = /^(cci_[A-Za-z]+_)(.*)$/s.exec(key);
  if (!match) return key.length <= 4 ? '…' : `…${key.slice(-4)}`;
  const body = match[2]!;
  return `${match[1]}…${body.length > 4 ? body.slice(-4) : ''}`;
}

/** `text` with every credential-like run redacted with {@link redactKey}. */
export function redactSecrets(text: string): string {
  return text.replace(CREDENTIAL, (whole) => redactKey(whole));
}

/** The keys in `secrets` that occur in `text` in full. */
export function leakedSecrets(text: string, secrets: Iterable<string>): string[] {
  const leaked: string[] = [];
  for (const secret of secrets) {
    if (secret.length >= 12 && text.includes(secret)) leaked.push(secret);
  }
  return leaked;
}
