import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { argumentProblem, emptyOption } from '../src/cli/args.js';
import { loadContract } from '../src/contract/load.js';
import type { Contract } from '../src/contract/model.js';
import { ContractError } from '../src/contract/errors.js';
import { send } from '../src/http/client.js';
import { summaryLine, writeReport } from '../src/report/conformance-reporter.js';
import type { ConformanceReport } from '../src/report/build.js';
import { BLOB_DIR, clearReports, CONFORMANCE_JSON, unwritableReason } from '../src/report/files.js';
import { MergeError, mergeReports, readShardReports } from '../src/report/merge.js';
import { formatTable } from '../src/report/table.js';
import { ENV, parseSeed, profileList, readRunOptions } from '../src/run/options.js';
import { grepSelection, PASS_THROUGH, passThroughProblem } from '../src/run/playwright-options.js';
import { generateScenarios, inProfiles } from '../src/scenarios/generate.js';
import { redactSecrets } from '../src/secrets/redact.js';
import { ManagementApi } from '../src/target/management-api.js';
import { readStaticKeys } from '../src/target/provision.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/** Exit codes: the verdict, or why there is none. */
const EXIT = {
  pass: 0,
  fail: 1,
  unusable: 2,
  hungUp: 129,
  interrupted: 130,
  terminated: 143,
} as const;

/** The exit code of a run stopped by a signal: 128 and the signal's number, as shells do. */
const STOPPED_BY = { SIGHUP: 'hungUp', SIGINT: 'interrupted', SIGTERM: 'terminated' } as const;
type StopSignal = keyof typeof STOPPED_BY;

const USAGE = `Usage: cci-conformance [run] [options]
       cci-conformance scenarios [--format json] [--seed N] [--contract FILE]
                                 [--profile IDS] [--grep RE] [--grep-invert RE]
       cci-conformance merge [--output DIR] SHARD_REPORT_DIR...

Checks a server's API-key authentication against the CCI contract. With no --base-url,
starts the embedded reference server and checks it.

Target:
  --base-url URL          the server to check (default: $CCI_BASE_URL, else the embedded reference)
  --management-token T    credential of the contract's management API; prefer
                          $CCI_MANAGEMENT_TOKEN, which no process list, shell history or
                          npm log shows
  --keys-file FILE        JSON of role -> key for read-only runs ($CCI_KEYS_FILE); see the README
  --allow-mutations       create and revoke keys on a target that is not on loopback
  --trusted-proxy ADDR    with --base-url: an address of this machine the target trusts
                          as a proxy, for the X-Forwarded-For checks

Run:
  --seed N                seed of generated values (default 1); the same seed, the same scenarios
  --contract FILE         another version of the contract (default: the one shipped)
  --output DIR            where reports go (default ./reports)
  --strict                a skipped MUST requirement fails the run
  --profile IDS           only these requirement profiles, comma-separated
                          (core, ip-allowlist, lifecycle, management)
  -g, --grep RE           only scenarios whose title or tags match, e.g. --grep @revocation
  --grep-invert RE        leave out scenarios that match, e.g. --grep-invert @mutating
  -j, --workers N         Playwright workers (default 2)
  --shard I/N             run one shard of the scenarios
  --reporter NAMES        Playwright progress reporters, comma-separated (list, line, dot, …)
  --retries N, --max-failures N (-x for 1), --timeout MS, --list, --repeat-each N
                          passed to Playwright once checked

  -h, --help              this help
  --version               the suite's version

Exit codes: 0 every MUST requirement that could be checked passed; 1 the target failed;
2 the run could not be done (bad option, unreachable target, refused token); 130 stopped by
SIGINT (Ctrl-C), 143 by SIGTERM, 129 by SIGHUP: the keys the run made are revoked before it
exits.`;

class UsageError extends Error {}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'base-url': { type: 'string' },
      'management-token': { type: 'string' },
      'keys-file': { type: 'string' },
      'allow-mutations': { type: 'boolean' },
      'trusted-proxy': { type: 'string' },
      seed: { type: 'string' },
      contract: { type: 'string' },
      output: { type: 'string' },
      strict: { type: 'boolean' },
      profile: { type: 'string' },
      format: { type: 'string' },
      grep: { type: 'string', short: 'g' },
      'grep-invert': { type: 'string' },
      workers: { type: 'string', short: 'j' },
      shard: { type: 'string' },
      reporter: { type: 'string' },
      retries: { type: 'string' },
      'max-failures': { type: 'string' },
      x: { type: 'boolean', short: 'x' },
      timeout: { type: 'string' },
      list: { type: 'boolean' },
      'repeat-each': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
}

type Values = ReturnType<typeof parse>['values'];

function playwrightArgs(values: Values): string[] {
  const args: string[] = [];
  for (const name of PASS_THROUGH) {
    const value = values[name];
    if (value !== undefined) args.push(`--${name}=${value}`);
  }
  if (values.x && values['max-failures'] === undefined) args.push('--max-failures=1');
  if (values.list) args.push('--list');
  return args;
}

/** The environment the global setup and the reporter read (see src/run/options.ts). */
function runEnvironment(values: Values, runId: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CCI_RUN_ID: runId };
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) env[name] = value;
  };
  set(ENV.baseUrl, values['base-url']);
  set(ENV.managementToken, values['management-token']);
  set(ENV.keysFile, values['keys-file'] && resolve(values['keys-file']));
  set(ENV.allowMutations, values['allow-mutations'] ? '1' : undefined);
  set(ENV.trustedProxy, values['trusted-proxy']);
  set(ENV.seed, values.seed);
  set(ENV.contractFile, values.contract && resolve(values.contract));
  set(ENV.reportDir, resolve(values.output ?? 'reports'));
  set('CCI_STRICT', values.strict ? '1' : undefined);
  set(ENV.profiles, values.profile);
  set('CCI_REPORTERS', values.reporter);
  set('CCI_SHARD', values.shard);
  set('CCI_LIST_ONLY', values.list ? '1' : undefined);
  return env;
}

/**
 * Checks what the flags say on their own, naming the flag at fault. Values that arrive
 * through the environment instead are checked by readRunOptions, which names the variable.
 */
function checkFlags(values: Values): void {
  const empty = emptyOption(values);
  if (empty) throw new UsageError(empty);
  if (values.seed !== undefined) parseSeed(values.seed, '--seed');
  profileList(values.profile, '--profile');
  const problem = passThroughProblem(values);
  if (problem) throw new UsageError(problem);
  const proxy = values['trusted-proxy'];
  if (proxy !== undefined && isIP(proxy) === 0)
    throw new UsageError(`--trusted-proxy must be an IP address, not "${proxy}"`);
  if (!values['base-url'] && !process.env[ENV.baseUrl]) {
    for (const name of TARGET_OPTIONS) {
      if (values[name] !== undefined) {
        throw new UsageError(
          `--${name} applies to a --base-url target; ` +
            'the embedded reference makes its own keys, token and proxy',
        );
      }
    }
  }
}

/** Options that describe a target given by --base-url, and mean nothing for the embedded one. */
const TARGET_OPTIONS = [
  'management-token',
  'keys-file',
  'trusted-proxy',
  'allow-mutations',
] as const;

/** The profiles a --profile value names, each known to the contract. */
function checkedProfiles(contract: Contract, text: string | undefined): string[] {
  const known = contract.profiles.map((p) => p.id);
  let named;
  try {
    named = profileList(text, '--profile');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  for (const profile of named) {
    if (!known.includes(profile))
      throw new UsageError(`unknown profile "${profile}"; profiles are ${known.join(', ')}`);
  }
  return named;
}

/** The error of a selection that leaves no scenario, naming what made it. */
function nothingSelected(profiles: string[], values: Values): UsageError {
  const by = [
    profiles.length > 0 ? `--profile ${profiles.join(',')}` : '',
    values.grep !== undefined ? `--grep "${values.grep}"` : '',
    values['grep-invert'] !== undefined ? `--grep-invert "${values['grep-invert']}"` : '',
  ].filter(Boolean);
  return new UsageError(`no scenario was selected by ${by.join(' with ')}`);
}

/** Resolves when this machine can send from `address`, the way the X-Forwarded-For checks do. */
function canSendFrom(address: string): Promise<string | undefined> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    probe.listen(0, address, () => probe.close(() => done(undefined)));
  });
}

/** Playwright's built-in reporters; anything else must be a file that exists. */
const REPORTERS = ['list', 'line', 'dot', 'json', 'junit', 'html', 'github', 'null', 'blob'];

/** Checks the configuration before any scenario runs; throws a one-line reason. */
async function preflight(values: Values, env: NodeJS.ProcessEnv): Promise<void> {
  for (const name of (env.CCI_REPORTERS ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean)) {
    if (!REPORTERS.includes(name) && !existsSync(resolve(name))) {
      throw new UsageError(
        `unknown reporter "${name}"; use ${REPORTERS.join(', ')} or a reporter file`,
      );
    }
  }
  let options;
  try {
    options = readRunOptions(env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const contract = loadContract(options.contractFile);
  checkedProfiles(contract, env[ENV.profiles]);
  const inScope = generateScenarios(contract, { seed: options.seed }).filter(
    inProfiles(contract, options.profiles),
  );
  if (grepSelection(inScope, values.grep, values['grep-invert']).length === 0)
    throw nothingSelected(options.profiles, values);
  const keyVariables = Object.keys(env).filter((name) => name.startsWith('CCI_KEY_'));
  if (!options.baseUrl && (options.keysFile || keyVariables.length > 0)) {
    // The embedded reference does not know them, and would be failed for refusing them.
    throw new UsageError(
      `${keyVariables[0] ?? ENV.keysFile} is set, but static keys are for a --base-url target; ` +
        'unset it to check the embedded reference',
    );
  }
  if (options.keysFile || keyVariables.length > 0) readStaticKeys(contract, options.keysFile);
  if (existsSync(options.reportDir) && !statSync(options.reportDir).isDirectory())
    throw new UsageError(`--output ${options.reportDir} is a file, not a folder`);
  const unwritable = values.list ? undefined : unwritableReason(options.reportDir);
  if (unwritable) {
    throw new UsageError(
      `--output ${options.reportDir}: reports cannot be written there (${unwritable})`,
    );
  }
  const { baseUrl, trustedProxy } = options;
  if (options.allowMutations && !options.managementToken) {
    throw new UsageError(
      '--allow-mutations needs a management token (--management-token): ' +
        'without one no key can be made',
    );
  }
  if (!baseUrl) return;
  if (trustedProxy) {
    const why = await canSendFrom(trustedProxy);
    if (why) {
      throw new UsageError(
        `this machine cannot send from the trusted proxy address ${trustedProxy} (${why}); ` +
          'give one of its own addresses, such as a 127.x.y.z your server trusts',
      );
    }
  }
  try {
    await send({ url: `${baseUrl}/v1/health`, method: 'GET', timeoutMs: 5000 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`cannot reach ${baseUrl}: ${code}`);
  }
  const token = env[ENV.managementToken];
  if (token) {
    const refused = await new ManagementApi(baseUrl, token).tokenRefusal();
    if (refused) throw new UsageError(`${baseUrl} refused the management token (${refused})`);
  }
}

/** What `scenarios` takes: the options that decide which scenarios there are. */
const CORPUS_OPTIONS = new Set(['format', 'seed', 'contract', 'profile', 'grep', 'grep-invert']);

function printScenarios(values: Values): void {
  const other = Object.keys(values).find((name) => !CORPUS_OPTIONS.has(name));
  if (other !== undefined) {
    throw new UsageError(
      'scenarios takes --format, --seed, --contract, --profile, --grep and --grep-invert, ' +
        `not --${other}`,
    );
  }
  const format = values.format ?? 'json';
  if (format !== 'json') throw new UsageError(`--format must be json, not ${format}`);
  const seed = parseSeed(values.seed ?? '1', '--seed');
  const problem = passThroughProblem(values);
  if (problem) throw new UsageError(problem);
  const contract = loadContract(values.contract ? resolve(values.contract) : undefined);
  const profiles = checkedProfiles(contract, values.profile);
  const scenarios = grepSelection(
    generateScenarios(contract, { seed }).filter(inProfiles(contract, profiles)),
    values.grep,
    values['grep-invert'],
  );
  if (scenarios.length === 0) throw nothingSelected(profiles, values);
  const corpus = {
    suite: { name: 'cci-auth-conformance', version: VERSION },
    contract: { version: contract.version, sha256: contract.sha256 },
    seed,
    scenarios,
  };
  process.stdout.write(`${JSON.stringify(corpus, null, 2)}\n`);
}

async function run(values: Values): Promise<number> {
  const runId = randomBytes(4).toString('hex');
  checkFlags(values);
  const env = runEnvironment(values, runId);
  await preflight(values, env);
  const reportDir = env[ENV.reportDir]!;
  if (!values.list) clearReports(reportDir);

  const target = env[ENV.baseUrl] ?? 'the embedded reference server';
  process.stderr.write(
    values.list
      ? `cci-conformance ${VERSION}: listing the scenarios\n`
      : `cci-conformance ${VERSION}: checking ${target} (run ${runId})\n`,
  );

  // Playwright runs in a process group of its own, so that it hears a stop from this
  // process alone, once: a second SIGINT would make it quit without its teardown, which
  // revokes the run's keys, and SIGTERM would too.
  const child = spawn(
    process.execPath,
    [playwrightCli(), 'test', '-c', join(ROOT, 'playwright.config.ts'), ...playwrightArgs(values)],
    { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'], detached: !WINDOWS },
  );
  const stopped = stopOnSignals(child);
  const code = await new Promise<number>((done) => child.on('exit', (status) => done(status ?? 1)));

  if (values.list) return code === 0 ? EXIT.pass : EXIT.unusable;
  if (stopped.by) return EXIT[STOPPED_BY[stopped.by]];
  const reportFile = join(reportDir, CONFORMANCE_JSON);
  if (!existsSync(reportFile)) {
    process.stderr.write(
      'cci-conformance: the run ended without a verdict (see the messages above)\n',
    );
    return EXIT.unusable;
  }
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ConformanceReport;
  const ran = Object.values(report.counts.scenarios).reduce((a, b) => a + b, 0);
  if (ran === 0) {
    process.stderr.write(
      'cci-conformance: no scenario was selected (check --grep, --profile and --shard)\n',
    );
    return EXIT.unusable;
  }
  return exitCodeOf(report);
}

const WINDOWS = process.platform === 'win32';

/** A signal this soon after the last one is the same stop, delivered twice. */
const SAME_STOP_MS = 1000;

/**
 * Ctrl-C (SIGINT), SIGTERM as CI cancels a job, or SIGHUP as a terminal closes: Playwright
 * is asked to stop, once, with SIGINT, and ends the run with its teardown, which revokes
 * the keys the run made. A second stop says what is under way; a third stops it at once,
 * keys left as they are. Under `npm run` one Ctrl-C arrives twice, from the terminal and
 * forwarded by npm: signals within a second of each other count as one. On Windows the
 * console's Ctrl-C reaches Playwright itself, and a signal sent to it would end it at once,
 * teardown and all: it is sent nothing but the last resort.
 */
function stopOnSignals(child: ChildProcess): { by?: StopSignal } {
  const stopped: { by?: StopSignal } = {};
  let stops = 0;
  let lastAt = -Infinity;
  const stop = (signal: StopSignal) => {
    const now = performance.now();
    const repeated = now - lastAt < SAME_STOP_MS;
    lastAt = now;
    if (repeated) return;
    stops++;
    if (stops === 1) {
      stopped.by = signal;
      process.stderr.write(
        `\ncci-conformance: ${signal}: stopping the run and revoking the keys it made\n`,
      );
      if (!WINDOWS) child.kill('SIGINT');
    } else if (stops === 2) {
      process.stderr.write(
        'cci-conformance: still revoking the keys the run made; ' +
          'one more stop ends it at once and leaves them live\n',
      );
    } else if (WINDOWS || child.pid === undefined) {
      child.kill('SIGKILL');
    } else {
      process.kill(-child.pid, 'SIGKILL');
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => stop(signal));
  return stopped;
}

/** The exit code of a verdict; a run in which nothing could be checked says why. */
function exitCodeOf(report: ConformanceReport): number {
  if (report.verdict === 'pass') return EXIT.pass;
  if (report.verdict === 'fail') return EXIT.fail;
  process.stderr.write(
    report.runStatus === 'passed' || report.runStatus === 'failed'
      ? 'cci-conformance: nothing could be checked: every selected scenario was skipped ' +
          '(the reasons are in the table)\n'
      : `cci-conformance: the run did not finish (${report.runStatus}): no verdict\n`,
  );
  return EXIT.unusable;
}

/** Folds the reports of shards into one report and certificate, and one HTML and JUnit report. */
/** What `merge` takes; anything else would be silently ignored. */
const MERGE_OPTIONS = new Set(['output', 'contract', 'strict']);

async function merge(values: Values, dirs: string[]): Promise<number> {
  const other = Object.keys(values).find((name) => !MERGE_OPTIONS.has(name));
  if (other !== undefined)
    throw new UsageError(`merge takes --output, --contract and --strict, not --${other}`);
  const empty = emptyOption(values);
  if (empty) throw new UsageError(empty);
  const output = resolve(values.output ?? 'reports');
  const contract = loadContract(values.contract ? resolve(values.contract) : undefined);
  let report;
  try {
    report = mergeReports(
      contract,
      readShardReports(dirs.map((d) => resolve(d))),
      values.strict === true,
    );
  } catch (error) {
    if (error instanceof MergeError) throw new UsageError(error.message);
    throw error;
  }
  const written = writeReport(output, report);
  await mergeBlobs(
    dirs.map((d) => join(resolve(d), BLOB_DIR)),
    output,
  );
  process.stdout.write(
    `${formatTable(report, process.stdout.isTTY === true)}\n${summaryLine(report)}\n`,
  );
  process.stdout.write(`Reports: ${written.join(', ')}\n`);
  return exitCodeOf(report);
}

/** Playwright's own merge of the shards' blob reports into HTML and JUnit. */
async function mergeBlobs(blobDirs: string[], output: string): Promise<void> {
  const present = blobDirs.filter((dir) => existsSync(dir));
  if (present.length === 0) return;
  const all = mkdtempSync(join(tmpdir(), 'cci-blobs-'));
  for (const dir of present) {
    for (const file of readdirSync(dir)) copyFileSync(join(dir, file), join(all, file));
  }
  const child = spawn(
    process.execPath,
    [playwrightCli(), 'merge-reports', '--reporter', 'html,junit', all],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        PLAYWRIGHT_HTML_OUTPUT_DIR: join(output, 'html'),
        PLAYWRIGHT_HTML_OPEN: 'never',
        PLAYWRIGHT_JUNIT_OUTPUT_FILE: join(output, 'junit.xml'),
      },
    },
  );
  await new Promise((done) => child.on('exit', done));
  rmSync(all, { recursive: true, force: true });
}

function playwrightCli(): string {
  return join(
    dirname(createRequire(import.meta.url).resolve('@playwright/test/package.json')),
    'cli.js',
  );
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(`${argumentProblem(error)} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.pass;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.pass;
  }
  const [command = 'run', ...extra] = positionals;
  if (command === 'scenarios') {
    printScenarios(values);
    return EXIT.pass;
  }
  if (command === 'merge') return merge(values, extra);
  if (command !== 'run')
    throw new UsageError(`unknown command "${command}"; commands are run, scenarios and merge`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (see --help)`);
  return run(values);
}

/** Ends with `code` once standard output has drained: process.exit would cut a piped corpus. */
function finish(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2000).unref();
}

// A reader that stops early (`scenarios | head`) closes the pipe: that ends the output,
// it is not an error of this program.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

main(process.argv.slice(2)).then(finish, (error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`cci-conformance: ${redactSecrets(message)}\n`);
  finish(EXIT.unusable);
});
