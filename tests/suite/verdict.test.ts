import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Requirement } from '../../src/contract/model.js';
import { failureNote } from '../../src/report/table.js';
import { decide, type ScenarioOutcome } from '../../src/report/verdict.js';

const req = (id: string, level: 'MUST' | 'SHOULD' = 'MUST'): Requirement => ({
  id,
  level,
  profile: 'core',
  text: id,
  source: 's',
});
const catalogue = [req('A-01'), req('A-02'), req('B-01', 'SHOULD'), req('C-01')];

function outcome(
  id: string,
  requirement: string,
  checks: Array<[string, boolean]>,
  status?: ScenarioOutcome['status'],
): ScenarioOutcome {
  const failed = checks.some(([, ok]) => !ok);
  return {
    id,
    title: id,
    requirement,
    status: status ?? (failed ? 'failed' : 'passed'),
    checks: checks.map(([requirement, ok]) => ({ requirement, ok, what: 'x' })),
  };
}

describe('verdict', () => {
  it('passes when every MUST that was checked passed, and says what was not assessed', () => {
    const v = decide(catalogue, [
      outcome('s1', 'A-01', [
        ['A-01', true],
        ['A-02', true],
      ]),
    ]);
    assert.equal(v.result, 'pass');
    assert.deepEqual(
      v.requirements.map((r) => r.status),
      ['passed', 'passed', 'not assessed', 'not assessed'],
    );
  });

  it('fails the requirement a failed check belongs to, not the scenario', () => {
    const v = decide(catalogue, [
      outcome('s1', 'A-01', [
        ['A-01', true],
        ['A-02', false],
      ]),
    ]);
    assert.equal(v.result, 'fail');
    assert.equal(v.requirements[0]!.status, 'passed');
    assert.equal(v.requirements[1]!.status, 'failed');
    assert.equal(v.requirements[1]!.failures[0]!.scenario, 's1');
  });

  it('does not fail the run for a SHOULD', () => {
    const v = decide(catalogue, [
      outcome('s1', 'A-01', [['A-01', true]]),
      outcome('s2', 'B-01', [['B-01', false]]),
    ]);
    assert.equal(v.result, 'pass');
    assert.equal(v.requirements[2]!.status, 'failed');
  });

  it('reports skips with reasons, and fails them only when strict', () => {
    const skipped = { ...outcome('s2', 'C-01', [], 'skipped'), skipReason: 'no management token' };
    const outcomes = [outcome('s1', 'A-01', [['A-01', true]]), skipped];
    const v = decide(catalogue, outcomes);
    assert.equal(v.result, 'pass');
    assert.equal(v.requirements[3]!.status, 'skipped');
    assert.deepEqual(v.requirements[3]!.skipReasons, ['no management token']);
    assert.equal(decide(catalogue, outcomes, true).result, 'fail');
  });

  it('fails a run in which nothing was checked, and counts errored scenarios', () => {
    assert.equal(decide(catalogue, []).result, 'fail');
    const v = decide(catalogue, [outcome('s1', 'A-01', [], 'errored')]);
    assert.equal(v.requirements[0]!.status, 'errored');
    assert.equal(v.result, 'fail');
    assert.equal(v.counts.errored, 1);
  });
});

describe('the console table', () => {
  const failure = (title: string, actual: string) => ({
    scenario: 'x',
    title,
    what: 'status',
    expected: '200',
    actual,
  });

  it('shows a short failure whole', () => {
    assert.equal(
      failureNote(failure('getCase: valid key', '403')),
      'getCase: valid key: status expected 200, got 403',
    );
  });

  it('shortens a long title, never what the failure got', () => {
    const title = `listDocketEntries: ${'a key allowlisted to this address '.repeat(3)}`;
    const note = failureNote(failure(title, '403'));
    assert.equal(note.length, 90, note);
    assert.match(note, /^listDocketEntries: a key [^…]+…: status expected 200, got 403$/);
  });

  it('cuts a long detail at the end, keeping the start of the title', () => {
    const note = failureNote(failure('getCase: valid key', `403 ${'x'.repeat(200)}`));
    assert.equal(note.length, 90);
    assert.match(note, /^getCase: valid …: status expected 200, got 403 x+…$/);
  });
});
