import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type {
  FullConfig,
  FullResult,
  Reporter,
  Suite,
  TestCase,
  TestResult,
} from '@playwright/test/reporter';
import { loadContract } from '../contract/load.js';
import type { Check } from '../run/checks.js';
import { readRunOptions } from '../run/options.js';
import { redactSecrets } from '../secrets/redact.js';
import { peekRunState } from '../target/state.js';
import { CHECKS_ATTACHMENT, EVIDENCE_ATTACHMENT } from './attachments.js';
import { formatTable } from './table.js';
import { buildReport, coverageNote, type ConformanceReport } from './build.js';
import { toBadge, toMarkdown } from './certificate.js';
import { CONFORMANCE_JSON } from './files.js';
import type { ScenarioOutcome } from './verdict.js';

export { CONFORMANCE_JSON } from './files.js';

/**
 * Turns Playwright's test results into the conformance verdict: a table per requirement
 * on the console and `conformance.json` in the report folder.
 */
export default class ConformanceReporter implements Reporter {
  private readonly outcomes = new Map<string, ScenarioOutcome>();
  private total = 0;
  private shard: string | undefined;

  printsToStdio(): boolean {
    return true;
  }

  onBegin(config: FullConfig, suite: Suite): void {
    if (config.shard) this.shard = `${config.shard.current}/${config.shard.total}`;
    this.total = suite.allTests().length;
    // Playwright begins after the global setup: without a run state, the setup failed.
    if (process.env.CCI_LIST_ONLY !== '1' && peekRunState())
      process.stdout.write(`cci-conformance: ${this.total} scenarios selected\n`);
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const annotation = (type: string) => test.annotations.find((a) => a.type === type)?.description;
    const id = annotation('scenario');
    if (!id) return;
    const checks = readAttachment<Check[]>(result, CHECKS_ATTACHMENT) ?? [];
    const skip = [...(result.annotations ?? []), ...test.annotations].find(
      (a) => a.type === 'skip',
    );
    const status: ScenarioOutcome['status'] =
      result.status === 'skipped'
        ? 'skipped'
        : result.status === 'passed'
          ? 'passed'
          : checks.some((c) => !c.ok)
            ? 'failed'
            : 'errored';
    const outcome: ScenarioOutcome = {
      id,
      title: test.title,
      requirement: (annotation('requirement') ?? '').split(' ')[0]!,
      status,
      checks,
      ...(status === 'skipped' ? { skipReason: skip?.description ?? 'not run' } : {}),
      ...(status === 'errored'
        ? { error: plainText(redactSecrets(result.error?.message ?? result.status)).split('\n')[0] }
        : {}),
      ...(status === 'failed' || status === 'errored'
        ? { evidence: readAttachment(result, EVIDENCE_ATTACHMENT) }
        : {}),
    };
    // With retries, the last attempt decides.
    this.outcomes.set(id, outcome);
  }

  onEnd(result: FullResult): void {
    // `--list` shows the scenarios without running them: there is nothing to judge.
    if (process.env.CCI_LIST_ONLY === '1') return;
    const state = peekRunState();
    // Without a run state the global setup failed (its error is above): nothing ran.
    if (!state) {
      process.stdout.write(
        'cci-conformance: the run did not start (see the error above); no verdict\n',
      );
      return;
    }
    // A selection of nothing says nothing about the target: no certificate either way.
    if (this.total === 0) {
      process.stdout.write(
        'cci-conformance: no scenario was selected (check --grep, --profile and --shard); ' +
          'no verdict\n',
      );
      return;
    }
    const options = readRunOptions();
    const contract = loadContract(options.contractFile);
    const report = buildReport(
      contract,
      {
        baseUrl: state.baseUrl,
        embedded: !options.baseUrl,
        seed: options.seed,
        startedAt: new Date(state.startedAt).toISOString(),
        finishedAt: new Date().toISOString(),
        runStatus: result.status,
        profiles: options.profiles,
        ...(this.shard ? { shard: this.shard } : {}),
      },
      [...this.outcomes.values()],
      options.strict,
    );
    const written = writeReport(options.reportDir, report);
    process.stdout.write(`\n${formatTable(report, process.stdout.isTTY === true)}\n`);
    process.stdout.write(`${summaryLine(report)}\nReports: ${written.join(', ')}\n`);
  }
}

/** Writes conformance.json, conformance.md and badge.svg; returns what it wrote. */
export function writeReport(dir: string, report: ConformanceReport): string[] {
  mkdirSync(dir, { recursive: true });
  const files: Array<[string, string]> = [
    [CONFORMANCE_JSON, `${JSON.stringify(report, null, 2)}\n`],
    ['conformance.md', toMarkdown(report)],
    ['badge.svg', toBadge(report)],
  ];
  for (const [name, text] of files) writeFileSync(join(dir, name), redactSecrets(text));
  return [...files.map(([name]) => join(dir, name)), join(dir, 'junit.xml'), join(dir, 'html')];
}

/** The last line of a run: the verdict, the target and the contract. */
export function summaryLine(report: ConformanceReport): string {
  const coverage = coverageNote(report);
  return (
    `${report.verdict.toUpperCase()}: target ${report.target.baseUrl} against contract ` +
    `${report.contract.version} (sha256 ${report.contract.sha256.slice(0, 12)})` +
    (coverage ? `; ${coverage}, the others skipped or not assessed (see the table)` : '')
  );
}

/** Playwright colours its error messages for a terminal; reports hold the text alone. */
function plainText(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
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
