import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mutationPolicy } from '../../src/run/global-setup.js';
import { isLoopback, loopbackPlan, remotePlan } from '../../src/target/addresses.js';

describe('target policy', () => {
  it('tells loopback targets from others', () => {
    for (const url of [
      'http://127.0.0.1:8080',
      'http://127.9.9.9',
      'http://localhost:1',
      'http://[::1]:80',
    ]) {
      assert.equal(isLoopback(url), true, url);
    }
    for (const url of [
      'https://api.example.test',
      'http://10.0.0.1',
      'http://[2001:db8::1]',
      'http://128.0.0.1',
    ]) {
      assert.equal(isLoopback(url), false, url);
    }
  });

  it('creates and revokes keys off loopback only with --allow-mutations', () => {
    assert.equal(mutationPolicy(true, true, false), undefined);
    assert.match(mutationPolicy(true, false, false)!, /needs --allow-mutations/);
    assert.equal(mutationPolicy(true, false, true), undefined);
    assert.match(mutationPolicy(false, true, true)!, /no management token/);
  });

  it('uses real loopback sources, and says which it cannot use', () => {
    const plan = loopbackPlan(undefined, undefined);
    assert.equal(plan.sources.allowed, '127.0.0.2');
    assert.equal(plan.sources.other, '127.0.0.3');
    assert.match(plan.missingSources.ipv6!, /IPv6/);
    assert.match(plan.missingSources['trusted-proxy']!, /--trusted-proxy/);
    assert.deepEqual(loopbackPlan('http://[::1]:1', '127.0.0.9').allowlists['ip.v6'], ['::1']);
  });

  it('allowlists the address a remote target reports, and a documentation range to refuse', () => {
    const plan = remotePlan('198.51.100.23', ['127.0.0.1', '::1']);
    assert.deepEqual(plan.allowlists['ip.allowed'], ['198.51.100.23']);
    assert.deepEqual(plan.allowlists['ip.cidr'], ['198.51.100.0/24']);
    assert.deepEqual(plan.allowlists['ip.elsewhere'], ['192.0.2.10']);
    assert.match(plan.missingSources.other!, /single address/);
    assert.deepEqual(remotePlan('2001:db8:1:2:3::9').allowlists['ip.cidr'], ['2001:db8:1:2::/64']);
    const blind = remotePlan(undefined, []);
    assert.equal(blind.allowlists['ip.allowed'], undefined);
    assert.match(blind.missingAllowlists['ip.allowed']!, /did not report the client address/);
  });

  it('refuses this machine from a range that holds none of its addresses', () => {
    // A machine on a documentation network (as test networks and containers often are)
    // must not find its own address in the range that ought to refuse it.
    const own = remotePlan('192.0.2.2', ['127.0.0.1']);
    assert.deepEqual(own.allowlists['ip.cidr.elsewhere'], ['198.51.100.0/24']);
    assert.deepEqual(own.allowlists['ip.elsewhere'], ['198.51.100.10']);
    const everywhere = remotePlan('203.0.113.7', ['192.0.2.2', '::ffff:198.51.100.4']);
    assert.equal(everywhere.allowlists['ip.cidr.elsewhere'], undefined);
    assert.match(everywhere.missingAllowlists['ip.elsewhere']!, /every documentation range/);
  });
});
