import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadContract } from '../../src/contract/load.js';
import { SchemaValidator } from '../../src/contract/schemas.js';
import { parseChallenges } from '../../src/http/challenge.js';
import type { HttpResponse } from '../../src/http/client.js';
import { checkResponse, identityChecks, namesCheck } from '../../src/run/checks.js';
import type { Expectation } from '../../src/scenarios/model.js';
import { randomBase62 } from '../../src/secrets/keys.js';

const contract = loadContract();
const validator = new SchemaValidator(contract);
const KEY = `cci_live_${'S'.repeat(36)}abcd`;

function response(
  status: number,
  body: unknown,
  headers: Array<[string, string]> = [],
): HttpResponse {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const raw: Array<[string, string]> = [['Content-Type', 'application/json'], ...headers];
  return {
    status,
    headers: Object.fromEntries(raw.map(([n, v]) => [n.toLowerCase(), v])),
    rawHeaders: raw,
    body: text,
    reusedConnection: false,
  };
}

const revoked: Expectation = {
  status: 401,
  code: 'revoked_api_key',
  challenge: 'bearer-invalid-token',
};
const missing: Expectation = { status: 401, code: 'missing_api_key', challenge: 'bearer' };
const challenge = (value: string): Array<[string, string]> => [['WWW-Authenticate', value]];
const err = (code: string) => ({ error: { code, message: 'm' } });

function failed(expect: Expectation, res: HttpResponse): string[] {
  return checkResponse(expect, res, {
    requirement: 'LIFE-01',
    realm: 'cci',
    validator,
    secrets: [KEY],
  })
    .filter((c) => !c.ok)
    .map((c) => c.requirement)
    .sort();
}

describe('WWW-Authenticate parsing', () => {
  it('reads schemes, quoted and token parameters, and several challenges', () => {
    const parsed = parseChallenges([
      'Bearer realm="cci", error="invalid_token", Basic realm="x y"',
    ])!;
    assert.deepEqual(
      parsed.map((c) => c.scheme),
      ['Bearer', 'Basic'],
    );
    assert.deepEqual(
      parsed[0]!.params.map((p) => [p.name, p.value, p.quoted]),
      [
        ['realm', 'cci', true],
        ['error', 'invalid_token', true],
      ],
    );
    assert.equal(parseChallenges(['bearer REALM=cci'])![0]!.params[0]!.name, 'realm');
    assert.equal(parseChallenges(['Negotiate abc123=='])![0]!.token68, 'abc123==');
    assert.equal(parseChallenges(['Bearer realm="unterminated']), undefined);
    // Parameters are a comma-separated list (RFC 9110 §11.3): spaces alone do not part them.
    assert.equal(parseChallenges(['Bearer realm="cci" error="invalid_token"']), undefined);
    assert.equal(parseChallenges(['Bearer realm="cci", error="x" Basic realm="y"']), undefined);
    assert.ok(parseChallenges(['Bearer realm="cci" ,error="invalid_token"']));
  });
});

describe('response checks', () => {
  it('passes a conforming refusal, whatever the member order, casing and extras', () => {
    const body = { error: { message: 'gone', extra: 1, code: 'revoked_api_key' }, trace: 'x' };
    const res = response(401, body, challenge('bearer Realm="cci" , error=invalid_token'));
    assert.deepEqual(failed(revoked, res), []);
  });

  it('blames the step requirement for a wrong status or code', () => {
    assert.deepEqual(failed(revoked, response(403, err('revoked_api_key'))), ['LIFE-01']);
    const wrongCode = response(
      401,
      err('invalid_api_key'),
      challenge('Bearer realm="cci", error="invalid_token"'),
    );
    assert.deepEqual(failed(revoked, wrongCode), ['LIFE-01']);
  });

  it("blames CHAL-01 for a missing challenge, or one without the contract's realm", () => {
    assert.deepEqual(failed(revoked, response(401, err('revoked_api_key'))), ['CHAL-01']);
    const unquoted = response(
      401,
      err('revoked_api_key'),
      challenge('Bearer realm=cci, error="invalid_token"'),
    );
    assert.deepEqual(failed(revoked, unquoted), ['CHAL-01']);
    const basic = response(401, err('revoked_api_key'), challenge('Basic realm="cci"'));
    assert.deepEqual(failed(revoked, basic), ['CHAL-01']);
    const elsewhere = response(
      401,
      err('revoked_api_key'),
      challenge('Bearer realm="api", error="invalid_token"'),
    );
    assert.deepEqual(failed(revoked, elsewhere), ['CHAL-01'], "another realm than the contract's");
    const recased = response(
      401,
      err('revoked_api_key'),
      challenge('Bearer realm="CCI", error="invalid_token"'),
    );
    assert.deepEqual(failed(revoked, recased), ['CHAL-01'], 'realm values are case-sensitive');
  });

  it('blames CHAL-02 for the wrong error attribute', () => {
    const noError = response(401, err('revoked_api_key'), challenge('Bearer realm="cci"'));
    assert.deepEqual(failed(revoked, noError), ['CHAL-02']);
    const extra = response(
      401,
      err('missing_api_key'),
      challenge('Bearer realm="cci", error="invalid_token"'),
    );
    assert.deepEqual(failed(missing, extra), ['CHAL-02']);
  });

  it('blames ERR-01 for bodies outside the schema or not JSON', () => {
    const ok = challenge('Bearer realm="cci", error="invalid_token"');
    assert.deepEqual(failed(revoked, response(401, err('key_revoked'), ok)), ['ERR-01', 'LIFE-01']);
    assert.deepEqual(failed(revoked, response(401, { error: { message: 'no code' } }, ok)), [
      'ERR-01',
    ]);
    const text = response(401, 'revoked', ok);
    text.headers['content-type'] = 'text/plain';
    text.rawHeaders[0] = ['Content-Type', 'text/plain'];
    assert.deepEqual(failed(revoked, text), ['ERR-01', 'ERR-01']);
  });

  it('blames ERR-02 for a key in the body or a header, and never shows it', () => {
    const ok = challenge('Bearer realm="cci", error="invalid_token"');
    const echoed = response(
      401,
      { error: { code: 'revoked_api_key', message: `key ${KEY} revoked` } },
      ok,
    );
    const checks = checkResponse(revoked, echoed, {
      requirement: 'LIFE-01',
      realm: 'cci',
      validator,
      secrets: [KEY],
    });
    const leak = checks.find((c) => !c.ok)!;
    assert.equal(leak.requirement, 'ERR-02');
    assert.ok(!JSON.stringify(checks).includes(KEY));
    assert.match(leak.actual!, /cci_live_…abcd/);
    const header = response(401, err('revoked_api_key'), [...ok, ['X-Key', KEY]]);
    assert.deepEqual(failed(revoked, header), ['ERR-02']);
  });

  it('finds a key however it is dressed: case, base64, or its first characters', () => {
    // Made at run time; the capitals make the lower-cased echo differ from the key itself.
    const real = `cci_live_${randomBase62(36)}QzXw`;
    const ok = challenge('Bearer realm="cci", error="invalid_token"');
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    const dressed: Array<[string, Array<[string, string]>]> = [
      ['lower case', [['X-Echo', real.toLowerCase()]]],
      ['base64', [['Set-Cookie', `s=${base64(real)}`]]],
      ['base64 of the header', [['X-Auth', base64(`Bearer ${real}`)]]],
      ['base64url', [['X-Auth', base64(`x${real}`).replace(/\+/g, '-').replace(/\//g, '_')]]],
      ['prefix and first four', [['X-Hint', `${real.slice(0, 13)}…${real.slice(-4)}`]]],
      ['hex', [['X-Debug-Token', Buffer.from(real).toString('hex')]]],
      ['hex in capitals', [['X-Debug-Token', Buffer.from(real).toString('hex').toUpperCase()]]],
    ];
    for (const [what, headers] of dressed) {
      const res = response(401, err('revoked_api_key'), [...ok, ...headers]);
      const checks = checkResponse(revoked, res, {
        requirement: 'LIFE-01',
        realm: 'cci',
        validator,
        secrets: [real],
      });
      assert.ok(
        checks.some((c) => c.requirement === 'ERR-02' && !c.ok),
        what,
      );
    }
    // The reason phrase of the status line is part of the answer too.
    const phrase = {
      ...response(401, err('invalid_api_key'), ok),
      statusMessage: `Unknown ${real}`,
    };
    assert.ok(
      checkResponse(revoked, phrase, {
        requirement: 'LIFE-01',
        realm: 'cci',
        validator,
        secrets: [real],
      }).some((c) => c.requirement === 'ERR-02' && !c.ok),
    );
    // The last four alone, as listings and redacted evidence show them, is no leak.
    const redacted = response(401, err('revoked_api_key'), [
      ...ok,
      ['X-Key', `cci_live_…${real.slice(-4)}`],
    ]);
    assert.deepEqual(
      checkResponse(revoked, redacted, {
        requirement: 'LIFE-01',
        realm: 'cci',
        validator,
        secrets: [real],
      })
        .filter((c) => !c.ok)
        .map((c) => c.requirement),
      [],
    );
  });
});

describe('management checks', () => {
  it('MGMT-01: a listing shows a key no further than its prefix and last four', () => {
    const real = `cci_live_${randomBase62(36)}QzXw`;
    const listed = (shown: string) =>
      checkResponse({ status: 200 }, response(200, { keys: [{ id: 'key_1', shown }] }), {
        requirement: 'MGMT-01',
        realm: 'cci',
        validator,
        secrets: [real],
        listing: true,
      }).filter((c) => !c.ok).length;
    assert.equal(listed(`cci_live_…${real.slice(-4)}`), 0);
    assert.equal(listed(`cci_live_${real.slice(-4)}`), 0);
    // Another key's prefix and last four may begin as this key does, for two characters: no
    // leak of this one. The third differs, whatever the random key holds there.
    const third = real[11] === 'z' ? 'y' : 'z';
    assert.equal(listed(`cci_live_${real.slice(9, 11)}${third}z`), 0);
    assert.ok(listed(`cci_live_${real.slice(9, 12)}z`) > 0, 'the prefix and first three');
    assert.ok(listed(`${real.slice(0, 12)}…${real.slice(-4)}`) > 0, 'the prefix and three');
    assert.ok(listed(real.slice(9, 15)) > 0, 'six characters of the body');
  });

  it('MGMT-02: a refusal must name what is wrong, in its message or details', () => {
    const named = response(400, { error: { code: 'invalid_request', message: '/name is blank' } });
    assert.equal(namesCheck('name', named).ok, true);
    const detailed = response(400, {
      error: {
        code: 'invalid_request',
        message: 'no',
        details: [{ pointer: '/plan', problem: 'x' }],
      },
    });
    assert.equal(namesCheck('plan', detailed).ok, true);
    const vague = namesCheck('name', response(400, err('invalid_request')));
    assert.deepEqual([vague.requirement, vague.ok], ['MGMT-02', false]);
  });

  it('MGMT-03: introspection must report the address, the plan and the key', () => {
    const body = {
      keyId: 'key_1',
      name: 'n',
      plan: 'enterprise',
      clientAddress: '::ffff:127.0.0.2',
    };
    const expected = { clientAddress: '127.0.0.2', plan: 'enterprise' };
    assert.ok(identityChecks(expected, response(200, body)).every((c) => c.ok));
    const wrong = identityChecks(expected, response(200, { ...body, plan: 'starter', keyId: '' }));
    assert.deepEqual(
      wrong
        .filter((c) => !c.ok)
        .map((c) => c.what)
        .sort(),
      ['/keyId', '/plan'],
    );
  });
});
