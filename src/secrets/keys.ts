import { hash, randomInt, timingSafeEqual } from 'node:crypto';

/** The characters of a key body. */
export const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `length` base62 characters from the CSPRNG; `randomInt` is uniform, so no modulo bias. */
export function randomBase62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[randomInt(62)];
  return out;
}

/** The SHA-256 digest under which a key is stored. */
export function digestKey(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

/**
 * The same digest as a 32-character string, one character per byte ('binary' is latin1),
 * under which a key is looked up. The one-shot hash straight to a string allocates no Hash
 * object and no Buffer, and a string half the length of hex costs half as much to hash
 * into a Map and to compare.
 */
export function digestKeyText(key: string): string {
  return hash('sha256', key, 'binary');
}

/**
 * Compares two digest strings in time that does not depend on where they differ, without
 * leaving JavaScript: the lookup path compares strings it already holds.
 */
export function sameDigestText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/** Compares two digests in time that does not depend on where they differ. */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
