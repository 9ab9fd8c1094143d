import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { DEFAULT_CONTRACT_PATH, loadContract, parseContract } from '../../src/contract/load.js';
import { generateScenarios } from '../../src/scenarios/generate.js';
import { fillPlaceholders, managementNearMisses, outgoingBody } from '../../src/scenarios/fill.js';
import { nearMiss } from '../../src/scenarios/tokens.js';

const contract = loadContract();
const scenarios = generateScenarios(contract, { seed: 7 });
const secured = contract.operations.filter((op) => op.security === 'apiKey');

/** Every slug the generator crosses with each secured operation. */
const PER_OPERATION = [
  'missing-key',
  'empty-header',
  'malformed.bearer-without-key',
  'malformed.basic-scheme',
  'malformed.token-scheme',
  'malformed.unknown-prefix',
  'malformed.foreign-prefix',
  'malformed.truncated',
  'malformed.overlong',
  'malformed.several-kilobytes',
  'malformed.illegal-characters',
  'malformed.non-ascii',
  'malformed.space-inside',
  'unknown-key',
  'near-key-middle',
  'near-key-length',
  'near-key-case',
  'mixed-case-scheme',
  'x-api-key-header',
  'malformed.quoted-key',
  'ipv4-allowlist-from-ipv6',
  'forwarded-rightmost-client',
  'test-key',
  'lowercase-scheme',
  'query-api-key',
  'header-and-query',
  'revoked-key',
  'ip-allowed',
  'ip-other-source',
  'ipv6-allowed',
  'cidr-inside',
  'cidr-last',
  'cidr-beyond',
  'cidr-outside',
  'forwarded-spoofed',
];

describe('near misses of a key', () => {
  const format = contract.keyFormat;
  const key = `${format.livePrefix}${'aZ09'.repeat(10)}`;

  it('changes one middle character, keeping prefix, length and last four', () => {
    const near = nearMiss(key, format, 'middle');
    assert.notEqual(near, key);
    assert.equal(near.length, key.length);
    assert.equal(near.slice(-4), key.slice(-4));
    assert.equal([...near].filter((ch, i) => ch !== key[i]).length, 1);
    assert.match(near, format.pattern);
    // The last base62 character wraps round to the first, still a body character.
    const nine = `${format.livePrefix}${'9'.repeat(40)}`;
    assert.match(nearMiss(nine, format, 'middle'), format.pattern);
  });

  it('is one shorter, or one longer at the shortest body, and keeps the start', () => {
    const shorter = nearMiss(key, format, 'length');
    assert.equal(shorter, key.slice(0, -1));
    const shortest = `${format.livePrefix}${'x'.repeat(format.bodyMinLength)}`;
    const longer = nearMiss(shortest, format, 'length');
    assert.equal(longer.length, shortest.length + 1);
    assert.ok(longer.startsWith(shortest));
    for (const near of [shorter, longer]) assert.match(near, format.pattern);
  });

  it('changes only the last character, or only the prefix to upper case', () => {
    const last = nearMiss(key, format, 'last');
    assert.equal(last.slice(0, -1), key.slice(0, -1));
    assert.notEqual(last, key);
    assert.match(last, format.pattern);
    const prefix = nearMiss(key, format, 'prefix');
    assert.equal(
      prefix,
      `${format.livePrefix.toUpperCase()}${key.slice(format.livePrefix.length)}`,
    );
    assert.doesNotMatch(prefix, format.pattern);
  });

  it('fills near misses of the management token with what the run redacts', () => {
    const token = 'admin-token-0123456789';
    const sources = {
      keys: {},
      addresses: {},
      created: () => undefined,
      format,
      managementToken: token,
    };
    const sent = ['last', 'case'].map((c) =>
      fillPlaceholders(`{{token:management.near-${c}}}`, sources),
    );
    assert.deepEqual(sent, managementNearMisses(token, format));
    for (const near of sent) assert.notEqual(near, token);
    assert.throws(
      () => fillPlaceholders('{{token:management.near-other}}', sources),
      /nothing to fill/,
    );
  });
});

describe('management bodies', () => {
  const sources = {
    keys: {},
    addresses: {},
    created: () => undefined,
    format: contract.keyFormat,
    runId: '0a1b2c3d',
  };
  const fill = (text: string) => fillPlaceholders(text, sources);

  it('fill the run id into every string, nested ones too, and leave the rest as it was', () => {
    const body = {
      name: 'cci-conformance {{run:id}} x',
      plan: 'starter',
      allowedIps: ['{{run:id}}'],
    };
    const { value, text } = outgoingBody(body, fill);
    const expected = {
      name: 'cci-conformance 0a1b2c3d x',
      plan: 'starter',
      allowedIps: ['0a1b2c3d'],
    };
    assert.deepEqual(value, expected);
    assert.equal(text, JSON.stringify(expected));
    assert.deepEqual(outgoingBody('{"name": "{{run:id}}",', fill).text, '{"name": "0a1b2c3d",');
    assert.deepEqual(outgoingBody(undefined, fill), { value: undefined, text: undefined });
    assert.throws(() => fill('{{run:other}}'), /nothing to fill \{\{run:other\}\}/);
  });

  it('name every key they would make after the run, so that its sweep finds a mistaken one', () => {
    const named = scenarios.flatMap((s) =>
      s.steps.flatMap((step) => {
        if (step.action !== 'management' || step.method !== 'POST') return [];
        const name = (step.body as { name?: unknown } | undefined)?.name;
        return typeof name === 'string' && name !== '' ? [{ id: s.id, name }] : [];
      }),
    );
    assert.ok(named.length >= 8, `${named.length} bodies with a name`);
    for (const { id, name } of named) {
      assert.ok(name.startsWith('cci-conformance {{run:id}} '), `${id}: ${name}`);
    }
  });
});

describe('scenario generator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    assert.deepEqual(generateScenarios(contract, { seed: 7 }), scenarios);
    const other = generateScenarios(contract, { seed: 8 });
    assert.equal(other.length, scenarios.length);
    assert.notDeepEqual(other, scenarios, 'path parameters and tokens come from the seed');
  });

  it('crosses every secured operation with every credential state', () => {
    const ids = new Set(scenarios.map((s) => s.id));
    const missing = secured
      .flatMap((op) => PER_OPERATION.map((slug) => `${op.operationId}.${slug}`))
      .filter((id) => !ids.has(id));
    assert.deepEqual(missing, []);
    for (const op of secured) {
      for (const plan of contract.plans) {
        const id = op.plans.includes(plan)
          ? `${op.operationId}.valid-${plan}`
          : `${op.operationId}.outside-${plan}`;
        assert.ok(ids.has(id), id);
      }
    }
  });

  it('has at least 150 scenarios with unique ids and titles', () => {
    assert.ok(scenarios.length >= 150, String(scenarios.length));
    assert.equal(new Set(scenarios.map((s) => s.id)).size, scenarios.length);
    assert.equal(new Set(scenarios.map((s) => s.title)).size, scenarios.length);
  });

  it('proves every requirement of the catalogue', () => {
    const proven = new Set(scenarios.map((s) => s.requirement));
    for (const cross of ['CHAL-01', 'CHAL-02', 'ERR-01', 'ERR-02']) proven.add(cross);
    const missing = contract.requirements.map((r) => r.id).filter((id) => !proven.has(id));
    assert.deepEqual(missing, []);
  });

  it('expects the status the contract gives each code', () => {
    for (const scenario of scenarios) {
      for (const step of scenario.steps) {
        if (step.action !== 'request' || !step.expect.code) continue;
        assert.equal(step.expect.status, contract.errorCodes.get(step.expect.code), scenario.id);
        assert.equal(step.expect.challenge !== undefined, step.expect.status === 401, scenario.id);
      }
    }
  });

  it('tags every scenario with its family and profile, and mutating ones as such', () => {
    for (const scenario of scenarios) {
      assert.ok(scenario.tags.includes(`@${scenario.family}`), scenario.id);
      assert.equal(scenario.tags.includes('@mutating'), scenario.mutating, scenario.id);
      assert.ok(
        scenario.tags.every((t) => /^@[a-z0-9-]+$/.test(t)),
        scenario.id,
      );
    }
    assert.ok(scenarios.some((s) => s.tags.includes('@revocation') && s.mutating));
  });

  it('writes short, plain titles', () => {
    for (const { title } of scenarios) {
      assert.ok(title.length <= 80, title);
      assert.doesNotMatch(title, /should|cci_live_[A-Za-z0-9]{8}/, title);
    }
  });

  it('adds the scenarios of a new operation without touching a spec file', () => {
    const doc = parse(readFileSync(DEFAULT_CONTRACT_PATH, 'utf8'));
    doc.paths['/v1/courts'] = {
      get: {
        operationId: 'listCourts',
        summary: 'List courts',
        'x-cci-plans': ['professional', 'enterprise'],
        responses: {
          '200': { description: 'ok' },
          '401': { $ref: '#/components/responses/Unauthorized' },
        },
      },
    };
    const extended = generateScenarios(parseContract(stringify(doc), 'extended.yaml'), { seed: 7 });
    const added = extended.filter((s) => s.id.startsWith('listCourts.'));
    assert.ok(added.length >= PER_OPERATION.length);
    assert.ok(added.some((s) => s.id === 'listCourts.outside-starter'));
  });
});
