import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { send } from '../../src/http/client.js';
import { ReferenceHarness } from '../helpers/reference.js';

// Plain tests of the reference, one or more per requirement of the catalogue. Each title
// starts with the requirement ID; tests/reference/coverage.test.ts checks that every ID
// of the contract has one.

const ref = new ReferenceHarness();
let starter: { key: string; id: string };
let enterprise: { key: string; id: string };

before(async () => {
  await ref.start({ trustedProxies: ['127.0.0.9'] });
  starter = await ref.key('starter');
  enterprise = await ref.key('enterprise');
});
after(() => ref.close());

const bearer = (key: string) => `Bearer ${key}`;
const code = (res: { json: any }) => res.json?.error?.code;

describe('credentials', () => {
  it('CRED-01 a valid key is accepted on the operations of its plan', async () => {
    assert.equal((await ref.call('/v1/cases', { auth: bearer(starter.key) })).status, 200);
    assert.equal(
      (await ref.call('/v1/cases/case_abcdefghij/docket', { auth: bearer(enterprise.key) })).status,
      200,
    );
    const exported = await ref.call('/v1/exports', {
      method: 'POST',
      auth: bearer(enterprise.key),
      body: { query: 'x' },
    });
    assert.equal(exported.status, 202);
  });

  it('CRED-02 a missing or empty Authorization header is missing_api_key', async () => {
    for (const auth of [undefined, '', '   ']) {
      const res = await ref.call('/v1/cases', auth === undefined ? {} : { auth });
      assert.equal(res.status, 401);
      assert.equal(code(res), 'missing_api_key');
    }
  });

  it('CRED-03 malformed credentials are malformed_api_key', async () => {
    const body = 'a'.repeat(40);
    for (const auth of [
      'Bearer',
      `Basic ${body}`,
      `Token ${starter.key}`,
      `Bearer cci_prod_${body}`,
      `Bearer cci_live_${body.slice(0, 31)}`,
      `Bearer cci_live_${'b'.repeat(65)}`,
      `Bearer cci_live_${'c'.repeat(5000)}`,
      `Bearer cci_live_${body.slice(0, 20)} ${body.slice(0, 20)}`,
      `Bearer cci_live_${body.slice(0, 20)}$${body.slice(0, 20)}`,
      starter.key,
    ]) {
      const res = await ref.call('/v1/cases', { auth });
      assert.equal(res.status, 401, auth.slice(0, 20));
      assert.equal(code(res), 'malformed_api_key', auth.slice(0, 20));
    }
  });

  it('CRED-04 a well-formed unknown key is invalid_api_key', async () => {
    const res = await ref.call('/v1/cases', { auth: bearer(`cci_live_${'Z'.repeat(40)}`) });
    assert.equal(res.status, 401);
    assert.equal(code(res), 'invalid_api_key');
  });

  it('CRED-05 a cci_test_ key is test_key_not_supported', async () => {
    const res = await ref.call('/v1/cases', { auth: bearer(`cci_test_${'Q'.repeat(40)}`) });
    assert.equal(res.status, 401);
    assert.equal(code(res), 'test_key_not_supported');
  });

  it('CRED-06 the scheme name is case-insensitive', async () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      assert.equal(
        (await ref.call('/v1/cases', { auth: `${scheme} ${starter.key}` })).status,
        200,
        scheme,
      );
    }
  });

  it('CRED-07 a key in the query string alone is not a credential', async () => {
    for (const param of ['api_key', 'access_token', 'key']) {
      const res = await ref.call(`/v1/cases?${param}=${starter.key}`);
      assert.equal(res.status, 401, param);
      assert.equal(code(res), 'missing_api_key', param);
    }
  });

  it('CRED-08 a key in header and query at once is invalid_request', async () => {
    const res = await ref.call(`/v1/cases?access_token=${starter.key}`, {
      auth: bearer(starter.key),
    });
    assert.equal(res.status, 400);
    assert.equal(code(res), 'invalid_request');
  });

  it('CRED-08 so is the management token, also when it is wrong or an API key', async () => {
    const token = ref.server.managementToken;
    for (const [auth, method, path] of [
      [token, 'GET', '/v1/keys?access_token=x'],
      [token, 'DELETE', `/v1/keys/key_doesnotexist0000?api_key=${token}`],
      [token, 'POST', `/v1/keys?access_token=${token}`],
      [starter.key, 'GET', `/v1/keys?access_token=${starter.key}`],
      [`cci_admin_${'w'.repeat(40)}`, 'GET', '/v1/keys?api_key=x'],
      // On a path that matches none, too: the token holder is told 404 only without it.
      [token, 'GET', `/v1/nothing-here?access_token=${token}`],
    ] as const) {
      const res = await ref.call(path, {
        auth: bearer(auth),
        method,
        ...(method === 'POST' ? { body: { name: 'x', plan: 'starter' } } : {}),
      });
      assert.equal(res.status, 400, `${method} ${path.slice(0, 20)}`);
      assert.equal(code(res), 'invalid_request');
    }
    // Alone in the query string it is no credential (MGMT-04), and the header alone serves.
    assert.equal((await ref.call(`/v1/keys?access_token=${token}`)).status, 401);
    assert.equal((await ref.manage('GET', '/v1/keys')).status, 200);
    assert.equal((await ref.call('/v1/nothing-here', { auth: bearer(token) })).status, 404);
  });
});

describe('one Authorization header', () => {
  it('CRED-09 two Authorization headers are invalid_request, whatever they hold', async () => {
    const twice = (first: string, second: string, path = '/v1/cases') =>
      send({
        url: `${ref.server.url}${path}`,
        method: 'GET',
        headers: { authorization: [first, second] },
      });
    for (const [first, second] of [
      [bearer(enterprise.key), bearer(enterprise.key)],
      [bearer(enterprise.key), bearer(starter.key)],
      ['', bearer(enterprise.key)],
      [bearer(enterprise.key), 'Basic eDp5'],
    ]) {
      const res = await twice(first!, second!);
      assert.equal(res.status, 400, `${first!.slice(0, 12)} + ${second!.slice(0, 12)}`);
      assert.equal(JSON.parse(res.body).error.code, 'invalid_request');
    }
    const token = bearer(ref.server.managementToken);
    assert.equal((await twice(token, token, '/v1/keys')).status, 400, 'management too');
  });
});

describe('challenges and error bodies', () => {
  it('CHAL-01 every 401 carries a Bearer challenge with one quoted realm', async () => {
    for (const auth of [undefined, 'Basic x', bearer(`cci_live_${'Z'.repeat(40)}`)]) {
      const res = await ref.call('/v1/whoami', auth === undefined ? {} : { auth });
      assert.equal(res.status, 401);
      assert.match(String(res.headers['www-authenticate']), /^Bearer realm="cci"/);
    }
  });

  it('CHAL-02 error="invalid_token" only when a credential was sent', async () => {
    const none = await ref.call('/v1/whoami');
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="cci"');
    const bad = await ref.call('/v1/whoami', { auth: 'Bearer nope' });
    assert.match(String(bad.headers['www-authenticate']), /error="invalid_token"/);
  });

  it('ERR-01 error bodies are JSON with a code and a message', async () => {
    const res = await ref.call('/v1/cases');
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(typeof res.json.error.message, 'string');
    assert.match(res.json.error.requestId, /^req_/);
  });

  it('ERR-02 no response reflects a submitted key', async () => {
    const res = await ref.call(`/v1/nope?api_key=${starter.key}`, { auth: `Token ${starter.key}` });
    assert.equal(res.status, 400, 'a key sent two ways at once is a bad request');
    assert.ok(!res.body.includes(starter.key));
    assert.ok(!JSON.stringify(res.rawHeaders).includes(starter.key));
  });
});

describe('IP allowlists', () => {
  it('IP-01 an allowlisted key works from its address only', async () => {
    const key = await ref.key('enterprise', { allowedIps: ['127.0.0.2'] });
    assert.equal(
      (await ref.call('/v1/whoami', { auth: bearer(key.key), localAddress: '127.0.0.2' })).status,
      200,
    );
    const other = await ref.call('/v1/whoami', {
      auth: bearer(key.key),
      localAddress: '127.0.0.3',
    });
    assert.equal(other.status, 403);
    assert.equal(code(other), 'ip_not_allowed');
  });

  it('IP-02 IPv6 entries match IPv6 clients', async () => {
    const key = await ref.key('enterprise', { allowedIps: ['::1'] });
    assert.equal((await ref.call('/v1/whoami', { auth: bearer(key.key), ipv6: true })).status, 200);
    assert.equal((await ref.call('/v1/whoami', { auth: bearer(key.key) })).status, 403);
    const mapped = await ref.key('enterprise', { allowedIps: ['::ffff:127.0.0.4'] });
    assert.equal(
      (await ref.call('/v1/whoami', { auth: bearer(mapped.key), localAddress: '127.0.0.4' }))
        .status,
      200,
    );
  });

  it('IP-03 CIDR entries admit the whole range', async () => {
    const key = await ref.key('enterprise', { allowedIps: ['127.0.0.16/28'] });
    for (const inside of ['127.0.0.16', '127.0.0.31']) {
      assert.equal(
        (await ref.call('/v1/whoami', { auth: bearer(key.key), localAddress: inside })).status,
        200,
      );
    }
    assert.equal(
      (await ref.call('/v1/whoami', { auth: bearer(key.key), localAddress: '127.0.0.32' })).status,
      403,
    );
  });

  it('IP-04 X-Forwarded-For is believed from a trusted proxy only', async () => {
    const key = await ref.key('enterprise', { allowedIps: ['192.0.2.10'] });
    const headers = { 'x-forwarded-for': '192.0.2.10' };
    const spoofed = await ref.call('/v1/whoami', {
      auth: bearer(key.key),
      headers,
      localAddress: '127.0.0.3',
    });
    assert.equal(spoofed.status, 403);
    const proxied = await ref.call('/v1/whoami', {
      auth: bearer(key.key),
      headers,
      localAddress: '127.0.0.9',
    });
    assert.equal(proxied.status, 200);
    assert.equal(proxied.json.clientAddress, '192.0.2.10');
    const chained = await ref.call('/v1/whoami', {
      auth: bearer(key.key),
      headers: { 'x-forwarded-for': '192.0.2.10, 198.51.100.7' },
      localAddress: '127.0.0.9',
    });
    assert.equal(chained.status, 403, 'the rightmost untrusted hop is the client');
  });
});

describe('plans and precedence', () => {
  it('PLAN-01 an operation outside the plan is plan_restricted', async () => {
    const res = await ref.call('/v1/judges/jdg_abcdefgh/analytics', { auth: bearer(starter.key) });
    assert.equal(res.status, 403);
    assert.equal(code(res), 'plan_restricted');
  });

  it('ORDER-01 a revoked key gets 401 where address and plan would also refuse', async () => {
    const key = await ref.key('starter', { allowedIps: ['192.0.2.10'] });
    await ref.api.revoke(key.id);
    const res = await ref.call('/v1/judges/jdg_abcdefgh/analytics', { auth: bearer(key.key) });
    assert.equal(res.status, 401);
    assert.equal(code(res), 'revoked_api_key');
  });

  it('ORDER-02 the address is checked before the plan', async () => {
    const key = await ref.key('starter', { allowedIps: ['192.0.2.10'] });
    const res = await ref.call('/v1/judges/jdg_abcdefgh/analytics', { auth: bearer(key.key) });
    assert.equal(code(res), 'ip_not_allowed');
  });

  it('ORDER-03 authentication comes before routing', async () => {
    assert.equal((await ref.call('/v1/no-such-thing')).status, 401);
    assert.equal((await ref.call('/v1/cases', { method: 'DELETE' })).status, 401);
    const known = await ref.call('/v1/no-such-thing', { auth: bearer(starter.key) });
    assert.equal(known.status, 404);
    assert.equal(code(known), 'not_found');
  });

  it('ORDER-03 undecodable paths, and bodies of unknown routes, wait for the key', async () => {
    // A bad percent-escape and an overlong parameter are unknown paths, not the router's
    // own 400/414 quoting the path back (with the key a client put in it).
    for (const path of [`/v1/cases/${starter.key}%ZZ`, `/v1/cases/${'c'.repeat(150)}`]) {
      const anonymous = await ref.call(path);
      assert.equal(anonymous.status, 401, path.slice(0, 30));
      assert.equal(code(anonymous), 'missing_api_key');
      assert.ok(!anonymous.body.includes(starter.key.slice(9)), 'the path is not quoted');
      const known = await ref.call(path, { auth: bearer(enterprise.key) });
      assert.equal(known.status, 404);
      assert.equal(code(known), 'not_found');
    }
    // A body is not read, or judged, before the key is.
    const bad = { method: 'POST', body: '{bad', headers: { 'content-type': 'application/json' } };
    for (const path of ['/v1/no-such-thing', '/v1/cases']) {
      const anonymous = await ref.call(path, bad);
      assert.equal(anonymous.status, 401, path);
      assert.equal(code(anonymous), 'missing_api_key');
    }
    const known = await ref.call('/v1/no-such-thing', { ...bad, auth: bearer(enterprise.key) });
    assert.equal(known.status, 404);
  });

  it('ERR-02 an identifier of the wrong form names nothing, and is not echoed', async () => {
    for (const path of [`/v1/cases/${starter.key}`, `/v1/judges/${starter.key}/analytics`]) {
      const res = await ref.call(path, { auth: bearer(enterprise.key) });
      assert.equal(res.status, 404, path.slice(0, 20));
      assert.equal(code(res), 'not_found');
      assert.ok(!res.body.includes(starter.key.slice(9)), 'the key in the path is not echoed');
    }
    assert.equal(
      (await ref.call('/v1/cases/case_7h2kq9x0ab', { auth: bearer(enterprise.key) })).status,
      200,
    );
  });

  it('ERR-01 a bad export request is invalid_request, checked against the contract', async () => {
    const post = (body: unknown) =>
      ref.call('/v1/exports', { method: 'POST', auth: bearer(enterprise.key), body });
    const wrongFormat = await post({ query: 'unlawful detainer', format: 'xml' });
    assert.equal(wrongFormat.status, 400);
    assert.equal(wrongFormat.json.error.details[0].pointer, '/format');
    assert.equal((await post({ query: 'q'.repeat(201) })).json.error.details[0].pointer, '/query');
    assert.equal((await post({ query: 'unlawful detainer' })).status, 202);
  });

  it('ERR-01 what the HTTP parser refuses is answered with the error body too', async () => {
    const url = new URL(ref.server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(Number(url.port), url.hostname, () =>
        socket.write('FOO /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n'),
      );
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /\r\nContent-Type: application\/json; charset=utf-8\r\n/i);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
    assert.equal(body.error.code, 'invalid_request');
  });
});

describe('key lifecycle', () => {
  it('LIFE-01 a revoked key is revoked_api_key', async () => {
    const key = await ref.key('starter');
    await ref.api.revoke(key.id);
    const res = await ref.call('/v1/cases', { auth: bearer(key.key) });
    assert.equal(res.status, 401);
    assert.equal(code(res), 'revoked_api_key');
  });

  it('LIFE-02 revocation reaches a keep-alive connection opened before it', async () => {
    const key = await ref.key('starter');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const call = () =>
      send({
        url: `${ref.server.url}/v1/cases`,
        method: 'GET',
        headers: { authorization: bearer(key.key) },
        agent,
      });
    assert.equal((await call()).status, 200);
    await ref.api.revoke(key.id);
    const after = await call();
    agent.destroy();
    assert.equal(after.reusedConnection, true);
    assert.equal(after.status, 401);
  });

  it('LIFE-03 rotation: both keys work until the old one is revoked', async () => {
    const old = await ref.key('starter', { accountId: 'rotation' });
    const next = await ref.key('starter', { accountId: 'rotation' });
    assert.equal((await ref.call('/v1/cases', { auth: bearer(next.key) })).status, 200);
    assert.equal((await ref.call('/v1/cases', { auth: bearer(old.key) })).status, 200);
    await ref.api.revoke(old.id);
    assert.equal((await ref.call('/v1/cases', { auth: bearer(old.key) })).status, 401);
    assert.equal((await ref.call('/v1/cases', { auth: bearer(next.key) })).status, 200);
  });

  it("LIFE-04 revoking one key leaves the account's others working", async () => {
    const keys = await Promise.all(
      ['web', 'batch'].map((name) => ref.key('starter', { accountId: 'shared', name })),
    );
    await ref.api.revoke(keys[0]!.id);
    assert.equal((await ref.call('/v1/cases', { auth: bearer(keys[1]!.key) })).status, 200);
    const { keys: listed } = await ref.api.list('shared');
    assert.deepEqual(listed.map((k) => k.name).sort(), ['batch', 'web']);
  });
});

describe('management API', () => {
  it('MGMT-01 listings show the prefix and last four, never the key', async () => {
    const created = await ref.manage('POST', '/v1/keys', { name: 'listed', plan: 'starter' });
    assert.equal(created.status, 201);
    assert.match(created.json.key, /^cci_live_[A-Za-z0-9]{40}$/);
    const list = await ref.manage('GET', '/v1/keys');
    assert.ok(!list.body.includes(created.json.key));
    const entry = list.json.keys.find((k: { id: string }) => k.id === created.json.id);
    assert.equal(entry.last4, created.json.key.slice(-4));
    assert.equal(entry.prefix, 'cci_live_');
  });

  it('MGMT-02 bad input is invalid_request naming the problem; unknown ids 404', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: '', plan: 'starter' }, '/name'],
      [{ name: '   ', plan: 'starter' }, '/name'],
      [{ name: 'n'.repeat(101), plan: 'starter' }, '/name'],
      [{ name: 'x', plan: 'gold' }, '/plan'],
      [{ name: 'x', plan: 'starter', allowedIps: ['10.0.0.0/33'] }, '/allowedIps/0'],
      [{ name: 'x', plan: 'starter', surprise: 1 }, '/surprise'],
      [{ plan: 'starter' }, '/'],
      [{ name: 'line\nbreak', plan: 'starter' }, '/name'],
      [{ name: `ci key ${starter.key}`, plan: 'starter' }, '/name'],
      [{ name: 'x', plan: 'starter', allowedIps: ['127.1'] }, '/allowedIps/0'],
      [{ name: 'x', plan: 'starter', allowedIps: ['::ffff:1.2.3.4/64'] }, '/allowedIps/0'],
    ];
    for (const [body, pointer] of cases) {
      const res = await ref.manage('POST', '/v1/keys', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(code(res), 'invalid_request');
      assert.ok(
        res.json.error.details.some((d: { pointer: string }) => d.pointer === pointer),
        JSON.stringify(res.json),
      );
    }
    const broken = await ref.manage('POST', '/v1/keys', '{"name": ');
    assert.equal(code(broken), 'invalid_request');
    // Every bad body is a 400 (x-cci-status), also one Fastify would answer 413 or 415.
    const auth = bearer(ref.server.managementToken);
    const form = await ref.call('/v1/keys', {
      method: 'POST',
      auth,
      body: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const huge = await ref.manage('POST', '/v1/keys', { name: 'x', plan: 'n'.repeat(70_000) });
    for (const [res, words] of [
      [form, /must be JSON/],
      [huge, /larger than this server accepts/],
    ] as const) {
      assert.equal(res.status, 400);
      assert.equal(code(res), 'invalid_request');
      assert.match(res.json.error.message, words);
    }
    // Many bad entries get a short answer, not one problem each.
    const many = await ref.manage('POST', '/v1/keys', {
      name: 'x',
      plan: 'starter',
      allowedIps: Array.from({ length: 5000 }, () => 0),
    });
    assert.equal(many.status, 400);
    assert.ok(many.json.error.details.length <= 10, `${many.json.error.details.length} details`);
    assert.ok(many.body.length < 4000, `${many.body.length} bytes`);
    const unknown = await ref.manage('DELETE', '/v1/keys/key_doesnotexist0000');
    assert.equal(unknown.status, 404);
    assert.equal(code(unknown), 'key_not_found');
    const refused = await ref.call('/v1/keys', { auth: bearer(starter.key) });
    assert.equal(refused.status, 401, 'an API key is not a management credential');
  });

  it('MGMT-03 introspection reports key, plan and the address seen', async () => {
    const res = await ref.call('/v1/whoami', {
      auth: bearer(starter.key),
      localAddress: '127.0.0.5',
    });
    assert.equal(res.json.keyId, starter.id);
    assert.equal(res.json.plan, 'starter');
    assert.equal(res.json.clientAddress, '127.0.0.5');
  });

  it('MGMT-04 management answers only to its own credential, before reading the body', async () => {
    const calls: Array<[string, string, unknown]> = [
      ['GET', '/v1/keys', undefined],
      ['POST', '/v1/keys', { name: '', plan: 'starter' }],
      ['POST', '/v1/keys', '{"name": '],
      ['DELETE', '/v1/keys/key_doesnotexist0000', undefined],
    ];
    const credentials: Array<[string | undefined, string, string]> = [
      [undefined, 'missing_api_key', 'Bearer realm="cci"'],
      ['Bearer cci_admin_notthemanagementtokenatall', 'invalid_api_key', 'invalid_token'],
      [bearer(enterprise.key), 'invalid_api_key', 'invalid_token'],
    ];
    for (const [method, path, body] of calls) {
      for (const [auth, expected, challenge] of credentials) {
        const sent = auth === undefined ? 'no credential' : auth.slice(0, 16);
        const what = `${method} ${path} with ${sent}`;
        const res = await ref.call(path, { method, body, ...(auth ? { auth } : {}) });
        assert.equal(res.status, 401, what);
        assert.equal(code(res), expected, what);
        assert.ok(String(res.headers['www-authenticate']).includes(challenge), what);
      }
    }
    // A method the management API does not have: 404 to who holds its token, 401 to others.
    const token = bearer(ref.server.managementToken);
    const missing = await ref.call('/v1/keys', { method: 'PUT', auth: token });
    assert.equal(missing.status, 404);
    assert.equal(code(missing), 'not_found');
    assert.equal((await ref.call('/v1/keys', { method: 'PUT' })).status, 401);
  });
});
