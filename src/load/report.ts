import { redactSecrets } from '../secrets/redact.js';
import type { CheckResult } from './check.js';
import type { StatsSummary } from './stats.js';

/** The summary of one check, as text; redacted, though no key should ever reach it. */
export function formatResult(check: CheckResult): string {
  const lines = [
    `${check.ok ? 'PASS' : 'FAIL'} ${check.check}`,
    `  ${statsLine(check.stats)}`,
    ...answers(check.stats).map((line) => `  ${line}`),
    ...check.criteria.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`),
    ...check.notes.map((note) => `  ${note}`),
  ];
  return redactSecrets(lines.join('\n'));
}

export function statsLine(s: StatsSummary): string {
  return (
    `${s.requests} requests, ${s.rate.toFixed(0)}/s, ` +
    `p50 ${s.p50Ms.toFixed(2)} ms, p99 ${s.p99Ms.toFixed(2)} ms, ${s.succeeded} succeeded`
  );
}

/** Non-2xx answers by status and error.code, then transport errors by code. */
function answers(s: StatsSummary): string[] {
  const by = Object.entries(s.byStatus).map(([label, n]) => `${label}: ${n}`);
  const errors = Object.entries(s.errors).map(([code, n]) => `${code}: ${n}`);
  return [
    ...(by.length > 0 ? [`refused: ${by.join(', ')}`] : []),
    ...(errors.length > 0 ? [`errors: ${errors.join(', ')}`] : []),
  ];
}

export function formatJson(plan: Record<string, unknown>, results: CheckResult[]): string {
  const ok = results.every((r) => r.ok);
  return redactSecrets(JSON.stringify({ plan, ok, checks: results }, null, 2));
}
