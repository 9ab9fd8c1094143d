import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { ContractError } from '../../src/contract/errors.js';
import { DEFAULT_CONTRACT_PATH, loadContract, parseContract } from '../../src/contract/load.js';
import { SchemaValidator } from '../../src/contract/schemas.js';

const source = readFileSync(DEFAULT_CONTRACT_PATH, 'utf8');

/** The shipped contract with one change applied, as text. */
function changed(edit: (doc: any) => void): string {
  const doc = parse(source);
  edit(doc);
  return stringify(doc);
}

function rejects(text: string, code: string, where: RegExp, problem: RegExp) {
  assert.throws(
    () => parseContract(text, 'contract.yaml'),
    (error: unknown) => {
      assert.ok(error instanceof ContractError, String(error));
      assert.equal(error.code, code);
      assert.match(error.where, where);
      assert.match(error.message, problem);
      return true;
    },
  );
}

describe('contract loader', () => {
  it('reads the shipped contract', () => {
    const contract = loadContract();
    assert.deepEqual(contract.plans, ['starter', 'professional', 'enterprise']);
    assert.ok(contract.requirements.length >= 25);
    assert.equal(contract.errorCodes.get('revoked_api_key'), 401);
    assert.equal(contract.errorCodes.get('plan_restricted'), 403);
    assert.match(contract.sha256, /^[0-9a-f]{64}$/);
    const secured = contract.operations.filter((op) => op.security === 'apiKey');
    assert.ok(secured.length >= 5);
    const cheapest = secured.filter((op) => !op.plans.includes('starter'));
    assert.ok(cheapest.length >= 1, 'an operation outside the cheapest plan');
    assert.ok(
      secured.some((op) => op.plans.length === 1 && op.plans[0] === 'enterprise'),
      'a top-plan-only operation',
    );
  });

  it('names the file and line of a YAML error', () => {
    rejects(
      'openapi: 3.1.0\npaths: [\n',
      'contract_not_yaml',
      /^contract\.yaml:\d+:\d+$/,
      /contract\.yaml:\d+:\d+: /,
    );
  });

  it('names the file when it cannot be read', () => {
    assert.throws(
      () => loadContract('/nonexistent/contract.yaml'),
      /\/nonexistent\/contract\.yaml: cannot read the contract \(ENOENT\)/,
    );
  });

  it('refuses a document that is not OpenAPI 3.1', () => {
    rejects(
      changed((d) => (d.openapi = '3.0.3')),
      'contract_invalid',
      /#\/openapi$/,
      /OpenAPI 3\.1/,
    );
  });

  it('points at an operation in an unknown plan', () => {
    const text = changed((d) => (d.paths['/v1/cases'].get['x-cci-plans'] = ['starter', 'gold']));
    rejects(
      text,
      'contract_invalid',
      /#\/paths\/~1v1~1cases\/get\/x-cci-plans\/1$/,
      /unknown plan gold/,
    );
  });

  it('points at a secured operation without plans', () => {
    const text = changed((d) => delete d.paths['/v1/whoami'].get['x-cci-plans']);
    rejects(
      text,
      'contract_invalid',
      /#\/paths\/~1v1~1whoami\/get\/x-cci-plans$/,
      /expected an array, found nothing/,
    );
  });

  it('points at an error code without a status', () => {
    const text = changed(
      (d) => delete d.components.schemas.ErrorCode['x-cci-status'].plan_restricted,
    );
    rejects(text, 'contract_invalid', /x-cci-status\/plan_restricted$/, /needs its status/);
  });

  it('points at a duplicated requirement id', () => {
    const text = changed((d) => (d['x-cci-requirements'][1].id = d['x-cci-requirements'][0].id));
    rejects(text, 'contract_invalid', /#\/x-cci-requirements\/1\/id$/, /listed twice/);
  });

  it('points at a requirement with a level other than MUST or SHOULD', () => {
    const text = changed((d) => (d['x-cci-requirements'][0].level = 'MAY'));
    rejects(text, 'contract_invalid', /#\/x-cci-requirements\/0\/level$/, /MUST or SHOULD/);
  });

  it('points at a path parameter without an example', () => {
    const text = changed((d) => delete d.components.parameters.CaseId.example);
    rejects(
      text,
      'contract_invalid',
      /#\/components\/parameters\/CaseId\/example$/,
      /string example/,
    );
  });

  it('validates error bodies against the contract schema', () => {
    const validator = new SchemaValidator(loadContract());
    assert.deepEqual(
      validator.check('Error', {
        error: { code: 'revoked_api_key', message: 'gone', extra: true },
      }),
      [],
    );
    const problems = validator.check('Error', { error: { code: 'revoked', message: '' } });
    assert.deepEqual(problems.map((p) => p.pointer).sort(), ['/error/code', '/error/message']);
    assert.match(problems.find((p) => p.pointer === '/error/code')!.problem, /revoked_api_key/);
    assert.deepEqual(
      validator.check('Error', { code: 'x' }).map((p) => p.pointer),
      ['/'],
    );
  });
});
