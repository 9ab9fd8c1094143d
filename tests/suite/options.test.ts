import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadContract } from '../../src/contract/load.js';
import { readRunOptions } from '../../src/run/options.js';
import { grepSelection, passThroughProblem } from '../../src/run/playwright-options.js';
import { generateScenarios } from '../../src/scenarios/generate.js';
import { runScript } from '../helpers/cli.js';

describe('Playwright options', () => {
  it('accepts what Playwright accepts', () => {
    for (const values of [
      { workers: '2' },
      { workers: '50%' },
      { shard: '1/3' },
      { shard: '3/3' },
      { retries: '0' },
      { timeout: '0' },
      { 'max-failures': '0' },
      { 'repeat-each': '1' },
      { grep: '@revocation|@rotation' },
      { grep: '/getCase/i' },
    ]) {
      assert.equal(passThroughProblem(values), undefined, JSON.stringify(values));
    }
  });

  it('names the first option that is wrong', () => {
    assert.match(passThroughProblem({ workers: '2', timeout: '5s' })!, /^--timeout must be/);
    assert.match(passThroughProblem({ shard: '0/3' })!, /^--shard must be/);
    assert.match(passThroughProblem({ 'repeat-each': '-1' })!, /^--repeat-each must be/);
  });

  it('selects by --grep exactly the scenarios Playwright runs', async () => {
    const scenarios = generateScenarios(loadContract(), { seed: 1 });
    // File name, title and tags, case-insensitive, and a /re/ literal as written.
    // Anchored ones too: what the text starts with is Playwright's business, and it is not
    // the file name (an empty title comes first).
    const patterns = [
      '@revocation',
      'ip.spec getcase',
      '^credentials',
      '^ credentials\\.spec',
      '/^ +ip\\.spec\\.ts getCase/',
    ];
    const listed = await Promise.all(
      patterns.map((grep) =>
        runScript('node_modules/@playwright/test/cli.js', [
          'test',
          '--list',
          '-c',
          'playwright.config.ts',
          '--grep',
          grep,
        ]),
      ),
    );
    patterns.forEach((grep, i) => {
      const total = /Total: (\d+) tests?/.exec(listed[i]!.stdout);
      const expected = total ? Number(total[1]) : 0;
      assert.equal(grepSelection(scenarios, grep, undefined).length, expected, grep);
    });
    for (const grep of ['@revocation', '^ credentials\\.spec']) {
      assert.ok(grepSelection(scenarios, grep, undefined).length > 0, `${grep} selects some`);
    }
    assert.deepEqual(
      grepSelection(scenarios, 'getCase', 'getCase'),
      [],
      '--grep-invert takes away what --grep chose',
    );
  });
});

describe('run options from the environment', () => {
  it('reads yes/no variables one way, and refuses what is neither', () => {
    assert.equal(readRunOptions({ CCI_STRICT: 'yes' }).strict, true);
    assert.equal(readRunOptions({ CCI_STRICT: 'False' }).strict, false);
    assert.equal(readRunOptions({ CCI_ALLOW_MUTATIONS: 'true' }).allowMutations, true);
    assert.equal(readRunOptions({}).allowMutations, false);
    assert.throws(() => readRunOptions({ CCI_ALLOW_MUTATIONS: 'sure' }), /CCI_ALLOW_MUTATIONS/);
  });

  it('refuses a seed that is not a decimal integer', () => {
    assert.equal(readRunOptions({ CCI_SEED: '-7' }).seed, -7);
    for (const seed of ['0x10', '1e3', '1.5', 'abc'])
      assert.throws(() => readRunOptions({ CCI_SEED: seed }), /CCI_SEED must be an integer/);
  });
});
