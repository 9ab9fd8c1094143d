/** One challenge of a `WWW-Authenticate` field: a scheme and its parameters. */
export interface ParsedChallenge {
  scheme: string;
  /** Parameters in order; names lower-cased (RFC 9110 §11.2: case-insensitive). */
  params: Array<{ name: string; value: string; quoted: boolean }>;
  /** A token68 instead of parameters, when the challenge has one. */
  token68?: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/;

/**
 * Parses `WWW-Authenticate` field values (RFC 9110 §11.6.1, grammar in §11.3 and §5.6):
 * `challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`, challenges separated by
 * commas. Returns undefined when the text does not follow the grammar.
 */
export function parseChallenges(values: string[]): ParsedChallenge[] | undefined {
  const challenges: ParsedChallenge[] = [];
  for (const value of values) {
    const parsed = parseField(value);
    if (!parsed) return undefined;
    challenges.push(...parsed);
  }
  return challenges;
}

function parseField(text: string): ParsedChallenge[] | undefined {
  const out: ParsedChallenge[] = [];
  let rest = text.trim();
  let current: ParsedChallenge | undefined;
  while (rest.length > 0) {
    // Parameters, and challenges, are comma-separated lists; only a challenge's first
    // parameter follows its scheme after a space alone.
    const separated = /^[\s,]*,/.test(rest);
    rest = rest.replace(/^[\s,]+/, '');
    if (rest.length === 0) break;
    const token = TOKEN.exec(rest)?.[0];
    if (!token) return undefined;
    const after = rest.slice(token.length);
    const param = /^\s*=\s*/.exec(after);
    const first = current === undefined || (current.params.length === 0 && !current.token68);
    if (!separated && !first) return undefined;
    if (param && current && !/^\s*=\s*(,|$)/.test(after)) {
      // name = token / quoted-string
      rest = after.slice(param[0].length);
      const value = readValue(rest);
      if (!value) return undefined;
      current.params.push({ name: token.toLowerCase(), value: value.value, quoted: value.quoted });
      rest = rest.slice(value.length);
    } else {
      // a new challenge: scheme, then optionally a token68
      current = { scheme: token, params: [] };
      out.push(current);
      rest = after;
      const token68 = /^ +([A-Za-z0-9\-._~+/]+=*)\s*(,|$)/.exec(rest);
      if (token68 && !/^ +[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=[^=]/.test(rest)) {
        current.token68 = token68[1]!;
        rest = rest.slice(token68[0].length);
      }
    }
    rest = rest.replace(/^\s*/, '');
    if (rest.length > 0 && !rest.startsWith(',') && !TOKEN.test(rest)) return undefined;
  }
  return out;
}

function readValue(text: string): { value: string; quoted: boolean; length: number } | undefined {
  if (text.startsWith('"')) {
    let value = '';
    for (let i = 1; i < text.length; i++) {
      const char = text[i]!;
      if (char === '\\') {
        value += text[++i] ?? '';
      } else if (char === '"') {
        return { value, quoted: true, length: i + 1 };
      } else {
        value += char;
      }
    }
    return undefined;
  }
  const token = TOKEN.exec(text)?.[0];
  return token ? { value: token, quoted: false, length: token.length } : undefined;
}
