import { Buffer } from 'node:buffer';

/**
 * `text` in V8's one-byte representation, when every character fits in one byte.
 *
 * V8 keeps a string cut from a two-byte text in two-byte form even when all its characters
 * are ASCII, and a name first met there (a property name of the contract, which has
 * non-ASCII prose) stays two-byte wherever it is used later, JSON.stringify's output
 * included. One two-byte part makes a whole answer two-byte, and Node then transcodes the
 * head and body to UTF-8 on every write. Answers prepared once are passed through here,
 * so that writing them is a copy.
 */
export function oneByte(text: string): string {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return text;
  return Buffer.from(text, 'latin1').toString('latin1');
}
