import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactSecrets } from '../../src/secrets/redact.js';
import { TRUSTED_PROXY } from './serve.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'scripts', 'conformance.ts');

/** The parts of conformance.json the matrix reads. */
export interface ConformanceReport {
  verdict: string;
  counts: { scenarios: Record<string, number> };
  requirements: Array<{
    id: string;
    status: string;
    failures?: Array<{ scenario: string }>;
  }>;
  scenarios: Array<{ id: string; requirement: string; status: string; skipReason?: string }>;
}

export interface SuiteRun {
  /** The CLI's exit code: 0 pass, 1 fail, 2 unusable; null when it was killed. */
  exitCode: number | null;
  /** Undefined when the run wrote no conformance.json. */
  report?: ConformanceReport;
  dir: string;
}

export interface SuiteOptions {
  url: string;
  managementToken: string;
  /** The report folder; emptied first. */
  dir: string;
  workers: number;
  /** Playwright's --max-failures: the run stops after this many failed scenarios. */
  maxFailures?: number;
  /** Playwright's --grep: only scenarios whose title or tags match. */
  grep?: string;
  timeoutMs: number;
}

/**
 * Runs the conformance CLI against a target, as a user would, and reads its verdict.
 * Its console output goes, redacted, to `<dir>/run.log`.
 */
export async function runSuite(options: SuiteOptions): Promise<SuiteRun> {
  const { dir } = options;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The CCI_* variables of this process (a keys file, a seed) must not reach the run.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('CCI_')),
  );
  const args = [
    '--import',
    'tsx',
    CLI,
    '--base-url',
    options.url,
    '--management-token',
    options.managementToken,
    '--trusted-proxy',
    TRUSTED_PROXY,
    '--output',
    dir,
    '--workers',
    String(options.workers),
    '--reporter',
    'dot',
    ...(options.maxFailures ? ['--max-failures', String(options.maxFailures)] : []),
    ...(options.grep ? ['--grep', options.grep] : []),
  ];
  const stdio = ['ignore', 'pipe', 'pipe'] as const;
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: [...stdio] });
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
  const exitCode = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => done(code));
  }).finally(() => clearTimeout(timer));
  writeFileSync(join(dir, 'run.log'), redactSecrets(Buffer.concat(output).toString('utf8')));
  // Traces of single tests: the HTML report and conformance.json keep what matters.
  rmSync(join(dir, 'test-results'), { recursive: true, force: true, maxRetries: 3 });
  const file = join(dir, 'conformance.json');
  const report = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as ConformanceReport)
    : undefined;
  return { exitCode, dir, ...(report ? { report } : {}) };
}

/** The status of `requirement` in a run, or undefined when the run has no report. */
export const statusOf = (run: SuiteRun, requirement: string): string | undefined =>
  run.report?.requirements.find((r) => r.id === requirement)?.status;

/** How many scenarios ended in the run (passed, failed, errored or skipped). */
export const scenariosRun = (run: SuiteRun): number =>
  Object.values(run.report?.counts.scenarios ?? {}).reduce((a, b) => a + b, 0);
