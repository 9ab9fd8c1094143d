import type { Matrix } from './classify.js';

/** The matrix as a plain-text table, one row per variant, and a summary. */
export function formatMatrix(matrix: Matrix): string {
  const header = [
    'variant',
    'breaks',
    'applied',
    'result',
    'failing requirements',
    'e.g. failing scenarios',
  ];
  const cells = matrix.rows.map((r) => [
    r.id,
    r.breaks ?? '(correct)',
    r.applied,
    `${r.outcome} (${r.runs.map((run) => run.scope).join(', ') || 'no run'})`,
    r.failing.join(' ') || '-',
    r.examples.join(', ') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const broken = matrix.rows.filter((r) => r.breaks !== null);
  const correct = matrix.rows.filter((r) => r.breaks === null);
  const seconds = Math.round(matrix.durationMs / 1000);
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    '',
    `runs: focused = the scenarios of the broken requirement; whole = the whole suite, ` +
      `stopped at ${failureLimit(matrix.maxFailures)}; complete = the whole suite to its end`,
    ...matrix.rows.filter((r) => !r.ok).map((r) => `NOT OK ${r.id}: ${r.problem}`),
    `broken variants killed on their requirement: ` +
      `${broken.filter((r) => r.ok).length}/${broken.length}`,
    `correct variants passed: ${correct.filter((r) => r.ok).length}/${correct.length}`,
    `${matrix.rows.length} variants in ${Math.floor(seconds / 60)}m ${seconds % 60}s ` +
      `(${matrix.concurrency} at a time, ${matrix.workersPerRun} worker each, ` +
      `runs stop at ${failureLimit(matrix.maxFailures)}): ${matrix.ok ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}

/** Where a run stops, in words: `the first failure`, `3 failures`. */
export const failureLimit = (n: number): string =>
  n === 1 ? 'the first failure' : `${n} failures`;
