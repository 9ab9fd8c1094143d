import type { Faker } from '@faker-js/faker';
import type { KeyFormat } from '../contract/model.js';
import { BASE62 } from '../secrets/keys.js';

/** A credential the server must refuse as malformed, with why it is malformed. */
export interface MalformedCredential {
  slug: string;
  title: string;
  header: string;
}

/** Base62 characters from the seeded generator: deterministic, never a real key. */
export function fakeBody(faker: Faker, length: number): string {
  return faker.string.alphanumeric({ length });
}

/**
 * The malformed Authorization headers the suite sends, derived from the contract's key
 * format so that a change of prefix or length changes them too.
 */
export function malformedCredentials(faker: Faker, format: KeyFormat): MalformedCredential[] {
  const live = format.livePrefix;
  const body = (length = format.bodyMinLength + 8) => fakeBody(faker, length);
  const half = Math.floor(format.bodyMinLength / 2);
  return [
    { slug: 'bearer-without-key', title: '"Bearer" without a key is refused', header: 'Bearer' },
    {
      slug: 'basic-scheme',
      title: 'Basic credentials are refused',
      header: `Basic ${Buffer.from(`${live}${body()}:`).toString('base64')}`,
    },
    {
      slug: 'token-scheme',
      title: 'a key under the Token scheme is refused',
      header: `Token {{key:valid.enterprise}}`,
    },
    {
      slug: 'key-without-scheme',
      title: 'a key without a scheme is refused',
      header: '{{key:valid.enterprise}}',
    },
    {
      slug: 'unknown-prefix',
      title: 'a key with an unknown cci_ prefix is refused',
      header: `Bearer cci_prod_${body()}`,
    },
    {
      slug: 'foreign-prefix',
      title: 'a key with a foreign prefix is refused',
      header: `Bearer sk_live_${body()}`,
    },
    { slug: 'prefix-only', title: 'the prefix alone is refused', header: `Bearer ${live}` },
    {
      slug: 'truncated',
      title: 'a truncated key is refused',
      header: `Bearer ${live}${body(format.bodyMinLength - 1)}`,
    },
    {
      slug: 'overlong',
      title: 'a key one character too long is refused',
      header: `Bearer ${live}${body(format.bodyMaxLength + 1)}`,
    },
    {
      slug: 'several-kilobytes',
      title: 'a key of several kilobytes is refused',
      header: `Bearer ${live}${body(6000)}`,
    },
    {
      slug: 'illegal-characters',
      title: 'a key with illegal characters is refused',
      header: `Bearer ${live}${body(half)}$%*!${body(half)}`,
    },
    {
      slug: 'non-ascii',
      title: 'a key with non-ASCII characters is refused',
      header: `Bearer ${live}${body(half)}é${body(half)}`,
    },
    {
      slug: 'space-inside',
      title: 'a key with a space inside is refused',
      header: `Bearer ${live}${body(half)} ${body(half + 8)}`,
    },
    {
      slug: 'tab-inside',
      title: 'a key with a tab inside is refused',
      header: `Bearer ${live}${body(half)}\t${body(half + 8)}`,
    },
    {
      slug: 'quoted-key',
      title: 'a key in quotes is refused',
      header: 'Bearer "{{key:valid.enterprise}}"',
    },
    {
      slug: 'two-keys',
      title: 'two keys in one header are refused',
      header: `Bearer {{key:valid.enterprise}}, Bearer {{key:valid.starter}}`,
    },
  ];
}

/** The ways a near miss differs from the key it is made from. */
export const NEAR_MISSES = ['middle', 'length', 'case', 'last', 'prefix'] as const;
export type NearMiss = (typeof NEAR_MISSES)[number];

/**
 * A well-formed key that is not `key` but shares nearly all of it, for servers that
 * compare less than the whole secret:
 * - `middle`: one character in the middle of the body changed; prefix, length and last
 *   four stay, so a lookup by what listings show (prefix and last four) matches it;
 * - `length`: one character shorter, or longer when the body is already at the shortest
 *   the format allows; the first characters stay, so a comparison of a fixed-width
 *   prefix of the key (a truncating column or hash) matches it;
 * - `case`: the first letter of the body in the other case, which a lookup that ignores
 *   case matches;
 * - `last`: its last character changed, which a server that treats the end of a key as a
 *   checksum and never compares it matches;
 * - `prefix`: the prefix in upper case, so no longer of the documented shape at all (a
 *   malformed key, CRED-03), which a server that folds the prefix accepts.
 */
export function nearMiss(key: string, format: KeyFormat, change: NearMiss): string {
  const prefix = key.startsWith(format.testPrefix) ? format.testPrefix : format.livePrefix;
  const bodyLength = key.length - prefix.length;
  if (change === 'prefix') return `${prefix.toUpperCase()}${key.slice(prefix.length)}`;
  if (change === 'last') {
    const last = key.at(-1)!;
    return `${key.slice(0, -1)}${BASE62[(BASE62.indexOf(last) + 1) % BASE62.length]}`;
  }
  if (change === 'length') {
    return bodyLength > format.bodyMinLength ? key.slice(0, -1) : `${key}${key.at(-1)}`;
  }
  if (change === 'case') {
    // The first letter of the body in the other case: the same key to a lookup that
    // ignores case (a case-insensitive collation, say). A body of digits only is no key
    // the CSPRNG gives; its first character is then changed as in the middle.
    const at = key.slice(prefix.length).search(/[A-Za-z]/);
    if (at >= 0) {
      const i = prefix.length + at;
      const ch = key[i]!;
      const other = ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase();
      return `${key.slice(0, i)}${other}${key.slice(i + 1)}`;
    }
  }
  const at = prefix.length + Math.floor(bodyLength / 2);
  const next = BASE62[(BASE62.indexOf(key[at]!) + 1) % BASE62.length]!;
  return `${key.slice(0, at)}${next}${key.slice(at + 1)}`;
}
