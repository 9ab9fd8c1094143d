import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { loadContract } from '../contract/load.js';
import type { Check } from '../run/checks.js';
import { readRunOptions } from '../run/options.js';
import { redactSecrets } from '../secrets/redact.js';
import type { RunState } from '../target/state.js';
import { CHECKS_ATTACHMENT, EVIDENCE_ATTACHMENT } from './attachments.js';
import { formatTable } from './table.js';
import { decide, type ScenarioOutcome } from './verdict.js';

/** The report file the CLI reads its exit code from. */
export const CONFORMANCE_JSON = 'conformance.json';

const SUITE_VERSION = (JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string }).version;

/**
 * Turns Playwright's test results into the conformance verdict: a table per requirement
 * on the console and `conformance.json` in the report folder.
 */
export default class ConformanceReporter implements Reporter {
  private readonly outcomes = new Map<string, ScenarioOutcome>();
  private startedAt = new Date();
  private total = 0;

  printsToStdio(): boolean {
    return true;
  }

  onBegin(_config: unknown, suite: Suite): void {
    this.startedAt = new Date();
    this.total = suite.allTests().length;
    process.stdout.write(`cci-conformance: ${this.total} scenarios selected\n`);
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const annotation = (type: string) => test.annotations.find((a) => a.type === type)?.description;
    const id = annotation('scenario');
    if (!id) return;
    const checks = readAttachment<Check[]>(result, CHECKS_ATTACHMENT) ?? [];
    const skip = [...(result.annotations ?? []), ...test.annotations].find((a) => a.type === 'skip');
    const status: ScenarioOutcome['status'] = result.status === 'skipped'
      ? 'skipped'
      : result.status === 'passed'
        ? 'passed'
        : checks.some((c) => !c.ok) ? 'failed' : 'errored';
    const outcome: ScenarioOutcome = {
      id,
      title: test.title,
      requirement: (annotation('requirement') ?? '').split(' ')[0]!,
      status,
      checks,
      ...(status === 'skipped' ? { skipReason: skip?.description ?? 'not run' } : {}),
      ...(status === 'errored' ? { error: redactSecrets(result.error?.message ?? result.status).split('\n')[0] } : {}),
      ...(status === 'failed' || status === 'errored'
        ? { evidence: readAttachment(result, EVIDENCE_ATTACHMENT) }
        : {}),
    };
    // With retries, the last attempt decides.
    this.outcomes.set(id, outcome);
  }

  onEnd(result: FullResult): void {
    const options = readRunOptions();
    const contract = loadContract(options.contractFile);
    const state = readState();
    const outcomes = [...this.outcomes.values()];
    const verdict = decide(contract.requirements, outcomes, process.env.CCI_STRICT === '1');
    const finishedAt = new Date();
    const report = {
      suite: { name: 'cci-auth-conformance', version: SUITE_VERSION },
      contract: { title: contract.document.info.title, version: contract.version, sha256: contract.sha256 },
      target: { baseUrl: state?.baseUrl ?? options.baseUrl ?? null, embedded: !options.baseUrl },
      seed: options.seed,
      startedAt: (state?.startedAt ? new Date(state.startedAt) : this.startedAt).toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - this.startedAt.getTime(),
      runStatus: result.status,
      // An interrupted or timed-out run has no verdict on what it did not reach.
      verdict: result.status === 'interrupted' || result.status === 'timedout' ? 'incomplete' : verdict.result,
      counts: {
        scenarios: verdict.counts,
        requirements: countBy(verdict.requirements.map((r) => r.status)),
      },
      requirements: verdict.requirements.map((r) => ({
        id: r.id,
        level: r.level,
        profile: r.profile,
        text: r.text,
        source: r.source,
        status: r.status,
        scenarios: r.scenarios,
        ...(r.skipReasons.length ? { skipReasons: r.skipReasons } : {}),
        ...(r.failures.length ? { failures: r.failures.slice(0, 20) } : {}),
      })),
      scenarios: outcomes.map(({ checks, ...rest }) => ({
        ...rest,
        checks: checks.length,
        ...(checks.some((c) => !c.ok) ? { failedChecks: checks.filter((c) => !c.ok) } : {}),
      })),
    };
    mkdirSync(options.reportDir, { recursive: true });
    writeFileSync(join(options.reportDir, CONFORMANCE_JSON), `${redactSecrets(JSON.stringify(report, null, 2))}\n`);
    process.stdout.write(`\n${formatTable(verdict, process.stdout.isTTY === true)}\n`);
    process.stdout.write(
      `${report.verdict.toUpperCase()}: target ${report.target.baseUrl} ` +
        `against contract ${contract.version} (sha256 ${contract.sha256.slice(0, 12)})\n` +
        `Reports: ${join(options.reportDir, CONFORMANCE_JSON)}, ${join(options.reportDir, 'junit.xml')}, ` +
        `${join(options.reportDir, 'html')}\n`,
    );
  }
}

function readAttachment<T>(result: TestResult, name: string): T | undefined {
  const found = result.attachments.find((a) => a.name === name);
  if (!found?.body) return undefined;
  try {
    return JSON.parse(found.body.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

function readState(): RunState | undefined {
  const text = process.env.CCI_RUN_STATE;
  return text ? (JSON.parse(text) as RunState) : undefined;
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
