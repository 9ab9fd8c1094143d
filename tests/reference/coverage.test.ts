import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadContract } from '../../src/contract/load.js';

test('every requirement of the catalogue has a plain test of the reference', () => {
  const source = readFileSync(new URL('./requirements.test.ts', import.meta.url), 'utf8');
  const titled = new Set([...source.matchAll(/it\(['"`]([A-Z]+-\d+) /g)].map((m) => m[1]));
  const missing = loadContract()
    .requirements.map((r) => r.id)
    .filter((id) => !titled.has(id));
  assert.deepEqual(missing, [], `requirements without a reference test: ${missing.join(', ')}`);
});
