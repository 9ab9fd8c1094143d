import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  clientAddress,
  isAllowed,
  parseAllowEntry,
  UNKNOWN_CLIENT,
  type AllowEntry,
} from '../../reference/addresses.js';

const entry = (text: string) => {
  const parsed = parseAllowEntry(text);
  assert.notEqual(typeof parsed, 'string', `${text}: ${String(parsed)}`);
  return parsed as AllowEntry;
};

describe('allowlist entries', () => {
  it('take addresses and ranges as operators write them', () => {
    for (const text of ['203.0.113.7', '198.51.100.0/24', '::1', '2001:db8::/32', '::/0'])
      entry(text);
    // IPv4-mapped entries are the IPv4 addresses they carry.
    assert.ok(isAllowed('127.0.0.2', [entry('::ffff:127.0.0.2')]));
    assert.ok(isAllowed('127.0.0.200', [entry('::ffff:127.0.0.0/104')]));
  });

  it('refuse forms a reader would take for another address', () => {
    // 0177.0.0.1 and 2130706433 are 127.0.0.1 to a lenient parser, 010.0.0.1 is 8.0.0.1.
    for (const text of ['0177.0.0.1', '010.0.0.1', '127.1', '2130706433', '0x7f000001', '1.2.3'])
      assert.match(String(parseAllowEntry(text)), /is not an IPv4 or IPv6 address/, text);
    assert.match(String(parseAllowEntry('fe80::1%eth0')), /is not an IPv4 or IPv6/);
    assert.match(String(parseAllowEntry('10.0.0.0/33')), /no valid prefix length \(0 to 32\)/);
    assert.match(String(parseAllowEntry('10.0.0.0/')), /no valid prefix length/);
    assert.match(String(parseAllowEntry('1.2.3.4/8/1')), /is not an IPv4 or IPv6/);
  });

  it('refuse an IPv4-mapped range shorter than /96, which would spill into IPv6', () => {
    assert.match(String(parseAllowEntry('::ffff:1.2.3.4/64')), /must be \/96 or longer/);
  });

  it('admit nothing that is not an address', () => {
    const all = [entry('0.0.0.0/0'), entry('::/0')];
    for (const client of [UNKNOWN_CLIENT, '', '127.1', 'garbage']) {
      assert.equal(isAllowed(client, all), false, client);
    }
    assert.equal(isAllowed('127.0.0.1', []), false, 'an empty list admits no one here');
  });
});

describe('X-Forwarded-For from a trusted proxy', () => {
  const proxy = [entry('127.0.0.9')];
  const from = (header: string) => clientAddress('127.0.0.9', header, proxy);

  it('is walked from the right, past the trusted proxies', () => {
    assert.equal(from('198.51.100.1'), '198.51.100.1');
    assert.equal(from('203.0.113.9, 198.51.100.1, 127.0.0.9'), '198.51.100.1');
    assert.equal(clientAddress('127.0.0.3', '198.51.100.1', proxy), '127.0.0.3', 'untrusted');
  });

  it('drops the ports some proxies add', () => {
    assert.equal(from('198.51.100.1:443'), '198.51.100.1');
    assert.equal(from('[2001:db8::1]:8443'), '2001:db8::1');
    assert.equal(from('[2001:db8::1]'), '2001:db8::1');
  });

  it('ends at a hop that is no address: the client is unknown, not the hop to its left', () => {
    assert.equal(from('198.51.100.1, unknown'), UNKNOWN_CLIENT);
    assert.equal(from('198.51.100.1, garbage'), UNKNOWN_CLIENT);
    assert.equal(from('3405803781'), UNKNOWN_CLIENT, 'no lenient IPv4 forms either');
  });
});
