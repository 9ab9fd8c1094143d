import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { KeyStore } from '../../reference/store.js';
import { ReferenceHarness } from '../helpers/reference.js';

test('keys and revocations in a --db file survive a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cci-ref-'));
  const db = join(dir, 'keys.db');
  const managementToken = 'cci_admin_durability-test-token';
  try {
    const first = await new ReferenceHarness().start({ db, managementToken });
    const kept = await first.key('starter');
    const revoked = await first.key('starter');
    await first.api.revoke(revoked.id);
    await first.close();

    const second = await new ReferenceHarness().start({ db, managementToken });
    try {
      assert.equal((await second.call('/v1/cases', { auth: `Bearer ${kept.key}` })).status, 200);
      const res = await second.call('/v1/cases', { auth: `Bearer ${revoked.key}` });
      assert.equal(res.status, 401);
      assert.equal(res.json.error.code, 'revoked_api_key');
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Two stores over one SQLite file, as two server processes have; removed afterwards. */
function twoStores(use: (mine: KeyStore, theirs: KeyStore) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'cci-ref-'));
  const file = join(dir, 'keys.db');
  const mine = new KeyStore(file);
  const theirs = new KeyStore(file);
  try {
    use(mine, theirs);
  } finally {
    mine.close();
    theirs.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const NEW_KEY = { accountId: 'a', name: 'n', plan: 'starter', allowedIps: [] };

test('a revocation by another process is seen on the very next lookup', () =>
  twoStores((mine, theirs) => {
    const { key, stored } = mine.create(NEW_KEY, 'cci_live_', 40);
    assert.equal(mine.findBySecret(key)?.revokedAt, null, 'looked up, and now cached');
    assert.equal(theirs.revoke(stored.id), true);
    assert.notEqual(
      mine.findBySecret(key)?.revokedAt,
      null,
      'the cache did not outlive the other commit',
    );
  }));

test('a key created by another process is found on the very next lookup', () =>
  twoStores((mine, theirs) => {
    // Looked up once first, so this store has read the table before the other one writes.
    assert.equal(mine.findBySecret(`cci_live_${'n'.repeat(40)}`), undefined);
    const { key, stored } = theirs.create(NEW_KEY, 'cci_live_', 40);
    assert.equal(mine.findBySecret(key)?.id, stored.id);
  }));

test('only the whole secret finds a key, whatever it shares with it', () => {
  const store = new KeyStore();
  try {
    const { key, stored } = store.create(NEW_KEY, 'cci_live_', 40);
    assert.equal(store.findBySecret(key)?.id, stored.id);
    const at = 9 + 20;
    const sameEnding = `${key.slice(0, at)}${key[at] === 'A' ? 'B' : 'A'}${key.slice(at + 1)}`;
    assert.equal(store.findBySecret(sameEnding), undefined, 'same last four, other middle');
    assert.equal(store.findBySecret(key.slice(0, -1)), undefined, 'one shorter');
    assert.equal(store.findBySecret(`${key}A`), undefined, 'one longer');
    assert.equal(store.findBySecret(`cci_live_${'z'.repeat(40)}`), undefined, 'another ending');
  } finally {
    store.close();
  }
});
