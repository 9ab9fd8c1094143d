import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leakedSecrets, redactKey, redactSecrets } from '../../src/secrets/redact.js';

const key = `cci_live_${'x'.repeat(36)}Wq9Z`;

describe('redaction', () => {
  it('keeps the prefix and the last four characters', () => {
    assert.equal(redactKey(key), 'cci_live_…Wq9Z');
    assert.equal(redactKey(`cci_test_${'y'.repeat(36)}1234`), 'cci_test_…1234');
    assert.equal(redactKey('cci_live_ab'), 'cci_live_…');
  });

  it('redacts every key-like run inside text, malformed ones too', () => {
    const text =
      `Authorization: Bearer ${key}\n` + `{"url":"/v1/cases?api_key=${key}&x=1"} cci_live_ab$cd`;
    const out = redactSecrets(text);
    assert.ok(!out.includes(key));
    assert.match(out, /Bearer cci_live_…Wq9Z\n/);
    assert.match(out, /api_key=cci_live_…Wq9Z&x=1/);
    assert.doesNotMatch(out, /cci_live_[A-Za-z0-9]{5,}/);
  });

  it('redacts keys that do not start a word: percent-encoded, glued or prefixed', () => {
    for (const text of [
      `x-echo: Bearer%20${key}`,
      `token=tok_${key}`,
      `Bearer+${key}`,
      `id9${key}`,
    ]) {
      const out = redactSecrets(text);
      assert.ok(!out.includes(key), out);
      assert.match(out, /cci_live_…Wq9Z/, out);
    }
  });

  it('shows a Basic credential that holds a key decoded and redacted, and others as sent', () => {
    const basic = (text: string) => Buffer.from(text).toString('base64');
    const out = redactSecrets(`authorization: Basic ${basic(`${key}:`)}\nnext: line`);
    assert.equal(out, 'authorization: Basic [base64 of cci_live_…Wq9Z:]\nnext: line');
    const plain = `Authorization: basic ${basic('aladdin:opensesame')}`;
    assert.equal(redactSecrets(plain), plain);
  });

  it('finds leaked secrets', () => {
    assert.deepEqual(leakedSecrets(`x ${key} y`, [key, 'short']), [key]);
    assert.deepEqual(leakedSecrets('nothing here', [key]), []);
  });
});

describe('redaction of prose', () => {
  it('leaves a bare prefix alone, in Markdown and JSON alike', () => {
    const prose =
      'A `cci_test_` key is refused; prefix "cci_live_" (see [cci_live_](x)) | cci_live_ |';
    assert.equal(redactSecrets(prose), prose);
  });
});
