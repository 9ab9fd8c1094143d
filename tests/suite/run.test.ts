import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadContract } from '../../src/contract/load.js';
import { assertNoKeyInFull, filesUnder, FULL_KEY, runCli } from '../helpers/cli.js';

const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'conformance.json'), 'utf8'));

describe('a full run against the embedded reference', () => {
  it('passes every scenario and writes verdict, JUnit and HTML with no key in them', async () => {
    const run = await runCli([]);
    assert.equal(run.code, 0, run.output.slice(-3000));
    assert.match(
      run.stdout,
      /^PASS: target http:\/\/127\.0\.0\.1:\d+ against contract \S+ \(sha256 [0-9a-f]{12}\)$/m,
      'a pass over every MUST requirement needs no coverage note',
    );
    assert.match(run.stdout, /requirement\s+level\s+status/);

    const verdict = report(run.reports);
    assert.equal(verdict.verdict, 'pass');
    assert.equal(verdict.suite.name, 'cci-auth-conformance');
    assert.match(verdict.suite.version, /^\d+\.\d+\.\d+/);
    assert.equal(verdict.contract.sha256, loadContract().sha256);
    assert.match(verdict.target.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(!Number.isNaN(Date.parse(verdict.startedAt)));
    assert.ok(verdict.counts.scenarios.passed >= 150, JSON.stringify(verdict.counts));
    assert.equal(verdict.counts.scenarios.failed + verdict.counts.scenarios.skipped, 0);
    const ids = verdict.requirements.map((r: { id: string }) => r.id);
    assert.deepEqual(
      ids,
      loadContract().requirements.map((r) => r.id),
    );
    for (const r of verdict.requirements) assert.equal(r.status, 'passed', r.id);

    assert.ok(existsSync(join(run.reports, 'junit.xml')));
    assert.ok(existsSync(join(run.reports, 'html', 'index.html')));
    assert.ok(filesUnder(run.reports).length >= 3);
    assertNoKeyInFull(run.reports);
    assert.doesNotMatch(run.output, FULL_KEY);
  });

  it('selects a family by tag', async () => {
    const run = await runCli(['--grep', '@revocation', '--reporter', 'line']);
    assert.equal(run.code, 0, run.output.slice(-2000));
    const verdict = report(run.reports);
    const byId = new Map(
      verdict.requirements.map((r: { id: string; status: string }) => [r.id, r.status]),
    );
    assert.equal(byId.get('LIFE-02'), 'passed');
    assert.equal(byId.get('PLAN-01'), 'not assessed');
    assert.ok(verdict.counts.scenarios.passed < 20);
  });
});
