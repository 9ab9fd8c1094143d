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

/**
 * A Basic credential: base64 that, decoded, may hold a key (`cci_live_…:` as a user name),
 * which a scanner that decodes it would find whole.
 */
const BASIC = /\b(Basic\s+)([A-Za-z0-9+/]{16,}={0,2})/gi;
const HOLDS_CREDENTIAL = new RegExp(CREDENTIAL.source);

/**
 * `text` with every credential-like run redacted with {@link redactKey}, and a Basic
 * credential that holds one shown decoded, redacted: `Basic [base64 of cci_live_…Wq9Z:]`.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(CREDENTIAL, (whole) => redactKey(whole))
    .replace(BASIC, (whole, scheme, encoded: string) => {
      const decoded = Buffer.from(encoded, 'base64').toString('latin1');
      if (!HOLDS_CREDENTIAL.test(decoded)) return whole;
      // The user name and the password apart: a colon is no part of a key.
      const shown = decoded
        .split(':')
        .map((part) => part.replace(CREDENTIAL, (key) => redactKey(key)))
        .join(':');
      return `${scheme}[base64 of ${shown}]`;
    });
}

/** The keys in `secrets` that occur in `text` in full. */
export function leakedSecrets(text: string, secrets: Iterable<string>): string[] {
  const leaked: string[] = [];
  for (const secret of secrets) {
    if (secret.length >= 12 && text.includes(secret)) leaked.push(secret);
  }
  return leaked;
}
