import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { digestKey, digestKeyText, randomBase62, sameDigestText } from '../../src/secrets/keys.js';
import { ReferenceHarness } from '../helpers/reference.js';

// The reference logs every request at debug level here; no log line and no response may
// hold a key in full, wherever the client put it.

const ref = new ReferenceHarness();
before(() => ref.start({ trustedProxies: ['127.0.0.9'] }));
after(() => ref.close());

test('no log line and no response holds a key in full', async () => {
  const valid = await ref.key('starter');
  const revoked = await ref.key('enterprise', { allowedIps: ['192.0.2.1'] });
  await ref.api.revoke(revoked.id);
  const unknown = `cci_live_${'k'.repeat(40)}`;
  const test = `cci_test_${'t'.repeat(40)}`;
  const keys = [valid.key, revoked.key, unknown, test, ref.server.managementToken];

  for (const key of keys) {
    await ref.call('/v1/cases', { auth: `Bearer ${key}` });
    await ref.call('/v1/cases', { auth: `bearer ${key}`, headers: { 'x-api-key': key } });
    await ref.call(`/v1/cases?api_key=${key}`);
    // Percent-encoded, wholly or in part, twice, around a bad escape, and in a path.
    const encoded = key.replace(/_/g, '%5F');
    await ref.call(`/v1/cases?api_key=${encoded}`);
    await ref.call(`/v1/cases?q=%63${key.slice(1)}`);
    await ref.call(`/v1/cases/${key}%ZZ`, { auth: `Bearer ${key}` });
    await ref.call(`/v1/${encoded}%ZZ`);
    await ref.call(`/v1/cases?x=1&${encoded}%ZZ`);
    await ref.call(`/v1/cases/${key.replace(/_/g, '%255F')}`);
    await ref.call('/v1/keys', {
      method: 'POST',
      auth: `Bearer ${ref.server.managementToken}`,
      body: { name: 'x', plan: 'starter', [key]: 1 },
    });
    await ref.call(`/v1/cases?access_token=${key}`, { auth: `Bearer ${key}` });
    await ref.call(`/v1/${key}`, { auth: `Bearer ${key}` });
    await ref.call('/v1/judges/jdg_abcdefgh/analytics', { auth: `Token ${key}` });
    await ref.call('/v1/keys', {
      method: 'POST',
      auth: `Bearer ${key}`,
      body: { name: key, plan: key },
    });
  }
  await ref.manage('POST', '/v1/keys', { name: 'x', plan: valid.key, allowedIps: [valid.key] });
  await ref.manage('POST', '/v1/keys', `{"name": "${valid.key}`);

  assert.ok(ref.logs.length > 50, `expected request logs, got ${ref.logs.length} lines`);
  assert.ok(ref.responses.length > 50);
  const text = [...ref.logs, ...ref.responses].join('\n');
  // A key is found by its body (what follows its prefix), whatever encoding it came in.
  const found = keys.filter((key) => text.includes(key.slice(10, 34)));
  assert.deepEqual(
    found.map((k) => k.slice(0, 12)),
    [],
    'keys found in full in logs or responses',
  );
  assert.ok(
    text.includes(`cci_live_…${valid.key.slice(-4)}`),
    'URLs are logged redacted, not dropped',
  );
});

test('every answer is logged with its status, refusals and HEAD among them', async () => {
  const valid = await ref.key('starter');
  const from = ref.logs.length;
  const statuses = [];
  for (const auth of [`Bearer ${valid.key}`, `Bearer cci_live_${'u'.repeat(40)}`, undefined]) {
    statuses.push((await ref.call('/v1/cases', { auth })).status);
    statuses.push((await ref.call('/v1/cases', { auth, method: 'HEAD' })).status);
  }
  assert.deepEqual(statuses, [200, 200, 401, 401, 401, 401]);
  const completed = ref.logs
    .slice(from)
    .map((line) => JSON.parse(line) as { msg?: string; res?: { statusCode?: number } })
    .filter((entry) => entry.msg === 'request completed')
    .map((entry) => entry.res?.statusCode);
  assert.deepEqual(completed, statuses);
});

test('a key is looked up by the same SHA-256 it is stored under, compared in full', () => {
  const key = `cci_live_${randomBase62(40)}`;
  const text = digestKeyText(key);
  assert.equal(text.length, 32);
  assert.deepEqual(Buffer.from(text, 'latin1'), createHash('sha256').update(key, 'utf8').digest());
  assert.deepEqual(Buffer.from(text, 'latin1'), digestKey(key));
  assert.ok(sameDigestText(text, digestKeyText(key)));
  // A difference anywhere, first or last character, or in length, is a mismatch.
  const flip = (at: number) =>
    text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ 1) + text.slice(at + 1);
  for (const at of [0, 15, 31]) assert.equal(sameDigestText(text, flip(at)), false, `at ${at}`);
  assert.equal(sameDigestText(text, text.slice(0, 31)), false);
  assert.equal(sameDigestText(text, digestKeyText(`${key}x`)), false);
});
