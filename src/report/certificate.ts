import { coverageNote, mustCoverage, type ConformanceReport } from './build.js';

const MARK: Record<string, string> = {
  passed: '✅ passed',
  failed: '❌ failed',
  errored: '❌ errored',
  skipped: '⏭️ skipped',
  'not assessed': '➖ not assessed',
};

/** Escapes text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** One Markdown table row. */
const row = (...cells: Array<string | number>) => `| ${cells.join(' | ')} |`;

/** The human-readable certificate: what was checked, against what, and each result. */
export function toMarkdown(report: ConformanceReport): string {
  const c = report.counts.scenarios;
  const { target, contract } = report;
  const lines = [
    `# CCI authentication conformance: ${report.verdict.toUpperCase()}`,
    '',
    row('', ''),
    row('---', '---'),
    row('Target', `${target.baseUrl ?? 'n/a'}${target.embedded ? ' (embedded reference)' : ''}`),
    row('Date', report.startedAt),
    row('Suite', `${report.suite.name} ${report.suite.version}`),
    row('Contract', `${cell(contract.title)} ${contract.version}, sha256 \`${contract.sha256}\``),
    row(
      'Scenarios',
      `${c.passed} passed, ${c.failed} failed, ${c.errored} errored, ${c.skipped} skipped`,
    ),
    row('Coverage', coverageNote(report) || 'every MUST requirement checked'),
    row('Seed', `${report.seed}${report.shard ? `, shards ${report.shard}` : ''}`),
    '',
    '## Profiles',
    '',
    row('profile', 'result', 'note'),
    row('---', '---', '---'),
    ...report.profiles.map((p) =>
      row(`${cell(p.title)} (\`${p.id}\`)`, MARK[p.status]!, cell(p.reason ?? '')),
    ),
    '',
    '## Requirements',
    '',
    row('id', 'level', 'result', 'scenarios passed/failed/skipped', 'requirement'),
    row('---', '---', '---', '---', '---'),
    ...report.requirements.map((r) => {
      const s = r.scenarios;
      const counts = `${s.passed}/${s.failed + s.errored}/${s.skipped}`;
      return row(r.id, r.level, MARK[r.status]!, counts, cell(r.text));
    }),
  ];
  const failing = report.requirements.filter((r) => r.failures?.length || r.skipReasons?.length);
  if (failing.length > 0) {
    lines.push('', '## Evidence', '');
    for (const r of failing) {
      lines.push(`### ${r.id}`, '');
      for (const f of r.failures ?? []) {
        const seen =
          f.expected === undefined
            ? `\`${cell(f.actual ?? '')}\``
            : `expected ${cell(f.expected)}, got \`${cell(f.actual ?? '')}\``;
        lines.push(`- **${cell(f.title)}** — ${cell(f.what)}: ${seen}`);
      }
      for (const reason of r.skipReasons ?? []) lines.push(`- skipped: ${cell(reason)}`);
      lines.push('');
    }
  }
  lines.push('', 'Keys in this report are redacted to their prefix and last four characters.', '');
  return lines.join('\n');
}

/**
 * A flat SVG badge: "CCI auth", the verdict with the contract version, and how many MUST
 * requirements it covers when that is not all of them.
 */
export function toBadge(report: ConformanceReport): string {
  const label = 'CCI auth';
  const { checked, total } = mustCoverage(report);
  const partial = checked === total ? '' : ` · ${checked}/${total} MUST`;
  const value = `${report.verdict}${partial} · contract ${report.contract.version}`;
  const colour =
    report.verdict === 'pass' ? '#2e7d32' : report.verdict === 'fail' ? '#c62828' : '#9e9e9e';
  const width = (text: string) => Math.round(text.length * 6.5) + 12;
  const [left, right] = [width(label), width(value)];
  const date = report.startedAt.slice(0, 10);
  const title = `${label}: ${value} (suite ${report.suite.version}, ${date})`;
  const svg = `xmlns="http://www.w3.org/2000/svg" width="${left + right}" height="20"`;
  return `<svg ${svg} role="img" aria-label="${label}: ${value}">
  <title>${title}</title>
  <rect width="${left}" height="20" fill="#555"/>
  <rect x="${left}" width="${right}" height="20" fill="${colour}"/>
  <g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">
    <text x="${left / 2}" y="14">${label}</text>
    <text x="${left + right / 2}" y="14">${value}</text>
  </g>
</svg>
`;
}
