import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oneByte } from '../../reference/one-byte.js';

test('an answer prepared in one-byte form keeps every character it had', () => {
  const samples = [
    '',
    'Bearer realm="cci", error="invalid_token"',
    // A string cut from a text with non-ASCII characters, as the contract's are.
    'keyId — plan'.slice(0, 5),
    'café, naïve: latin1 characters fit in one byte',
    'beyond latin1: “quoted” … and a key’s apostrophe',
  ];
  for (const text of samples) assert.equal(oneByte(text), text);
});
