import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
  const found = keys.filter((key) => text.includes(key));
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
