import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { loadContract } from '../src/contract/load.js';
import { assertNoKeyInFull } from './helpers/cli.js';
import { VARIANTS } from './variants/index.js';
import { formatMatrix, runMatrix, type Matrix, type MatrixRow } from './variants/matrix.js';

/**
 * The kill matrix: the conformance suite runs against every variant of the reference in
 * tests/variants/. A broken variant must fail, on the requirement it breaks; a correct
 * one must pass every scenario. See scripts/kill-matrix.ts to run it by hand.
 */

const requirements = new Set(loadContract().requirements.map((r) => r.id));
let matrix: Matrix;

const where = (row: MatrixRow) => row.runs.map((r) => r.reportDir).join(', ') || 'no report';

describe('kill matrix', () => {
  before(async () => {
    matrix = await runMatrix(VARIANTS);
    process.stdout.write(`${formatMatrix(matrix)}\n`);
  });

  it('has at least 22 broken and 6 correct variants, each breaking a known requirement', () => {
    const broken = VARIANTS.filter((v) => v.breaks !== null);
    assert.ok(broken.length >= 22, `only ${broken.length} broken variants`);
    assert.ok(VARIANTS.length - broken.length >= 6, 'fewer than 6 correct variants');
    for (const v of broken) {
      assert.ok(requirements.has(v.breaks!), `${v.id}: the contract has no ${v.breaks}`);
    }
  });

  it('no report of any variant holds a key in full, however the variant echoed it', () => {
    const dirs = matrix.rows.flatMap((row) => row.runs.map((r) => r.reportDir));
    assert.ok(dirs.length >= VARIANTS.length, `only ${dirs.length} report folders`);
    for (const dir of dirs) assertNoKeyInFull(dir);
  });

  for (const variant of VARIANTS) {
    const title =
      variant.breaks === null
        ? `${variant.id} (correct) passes every scenario`
        : `${variant.id} is killed on ${variant.breaks}`;
    it(title, () => {
      const row = matrix.rows.find((r) => r.id === variant.id);
      assert.ok(row, `${variant.id} was not run`);
      assert.notEqual(row.outcome, 'unusable', `${variant.id}: ${row.problem} (${where(row)})`);
      if (variant.breaks === null) {
        assert.deepEqual(
          row.failing,
          [],
          `false failure: the correct variant ${variant.id} (${variant.description}) failed ` +
            `${row.failing.join(', ')}, e.g. ${row.examples.join(', ')} (${where(row)})`,
        );
        assert.equal(row.outcome, 'passed', `${variant.id}: ${row.problem}`);
        return;
      }
      assert.notEqual(
        row.outcome,
        'survived',
        `${variant.id} survived: the whole suite passed a server that ${variant.description}, ` +
          `so ${variant.breaks} is not proven (${where(row)})`,
      );
      assert.ok(
        row.failing.includes(variant.breaks),
        `${variant.id} breaks ${variant.breaks}, but the suite failed it only on ` +
          `${row.failing.join(', ')} (${where(row)})`,
      );
      assert.equal(row.outcome, 'killed', `${variant.id}: ${row.problem}`);
    });
  }
});
