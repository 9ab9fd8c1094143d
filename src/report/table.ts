import type { ConformanceReport } from './build.js';
import type { Outcome } from './verdict.js';

const COLOURS: Record<Outcome, string> = {
  passed: '\u001b[32m',
  failed: '\u001b[31m',
  errored: '\u001b[31m',
  skipped: '\u001b[33m',
  'not assessed': '\u001b[90m',
};
const RESET = '\u001b[0m';

/** The widest note the table shows; conformance.md has every failure in full. */
const NOTE_WIDTH = 90;

type Failure = NonNullable<ConformanceReport['requirements'][number]['failures']>[number];

/**
 * A failure in one cell: what was expected and what came back matter most, so when the
 * note is too wide the scenario's title is shortened first, and only then the detail,
 * from its end.
 */
export function failureNote(failure: Failure): string {
  const { title, what, expected, actual } = failure;
  const detail =
    expected === undefined ? `${what}: ${actual}` : `${what} expected ${expected}, got ${actual}`;
  if (title.length + 2 + detail.length <= NOTE_WIDTH) return `${title}: ${detail}`;
  const room = NOTE_WIDTH - 2 - detail.length;
  if (room >= 16) return `${title.slice(0, room - 1)}…: ${detail}`;
  const head = `${title.slice(0, 15)}…: `;
  return `${head}${detail.slice(0, NOTE_WIDTH - head.length - 1)}…`;
}

/** The verdict as a plain table, one row per requirement; colours only on a terminal. */
export function formatTable(report: ConformanceReport, colour: boolean): string {
  const rows = report.requirements.map((r) => {
    const s = r.scenarios;
    const counts = `${s.passed}/${s.failed + s.errored}/${s.skipped}`;
    const failure = r.failures?.[0];
    const note = failure
      ? failureNote(failure)
      : r.skipReasons?.length
        ? `skipped: ${r.skipReasons[0]}`
        : '';
    return [r.id, r.level, r.status, counts, note];
  });
  const header = ['requirement', 'level', 'status', 'pass/fail/skip', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  widths[4] = Math.min(widths[4]!, NOTE_WIDTH);
  const line = (cells: string[], status?: Outcome) =>
    cells
      .map((cell, i) => {
        const text =
          i === 4 && cell.length > NOTE_WIDTH
            ? `${cell.slice(0, NOTE_WIDTH - 1)}…`
            : cell.padEnd(widths[i]!);
        return i === 2 && colour && status ? `${COLOURS[status]}${text}${RESET}` : text;
      })
      .join('  ')
      .trimEnd();
  const c = report.counts.scenarios;
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((row, i) => line(row, report.requirements[i]!.status)),
    '',
    `scenarios: ${c.passed} passed, ${c.failed} failed, ${c.errored} errored, ${c.skipped} skipped`,
  ].join('\n');
}
