import { parseArgs } from 'node:util';
import { argumentProblem, emptyOption, emptyVariable } from '../src/cli/args.js';
import { CHECKS, type CheckName, type LoadTarget } from '../src/load/check.js';
import { formatJson, formatResult } from '../src/load/report.js';
import { runChecks } from '../src/load/run.js';
import { openTarget, UnusableError } from '../src/load/target.js';
import { redactSecrets } from '../src/secrets/redact.js';

const USAGE = `Usage: npm run load -- [options]

Load checks of API-key authentication: rotation under load, immediate revocation under
load, and a flood of bad credentials mixed with valid traffic. Traffic goes to loopback only.

  --base-url URL          target on loopback (default: $CCI_BASE_URL, else the embedded reference)
  --management-token T    its management token (default: $CCI_MANAGEMENT_TOKEN)
  --workers N             reference worker processes when embedded (default 1: in-process)
  --checks LIST           comma-separated subset of ${CHECKS.join(', ')} (default: all)
  --duration S            seconds per check, at most (default 5)
  --requests N            requests per check, at most (default 100000)
  --connections N         concurrent keep-alive connections (default 16)
  --json                  print the results as JSON on stdout
  -h, --help              this help

Exit codes: 0 every check passed; 1 a check failed; 2 the run could not be done.`;

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      'base-url': { type: 'string' },
      'management-token': { type: 'string' },
      workers: { type: 'string', default: '1' },
      checks: { type: 'string', default: CHECKS.join(',') },
      duration: { type: 'string', default: '5' },
      requests: { type: 'string', default: '100000' },
      connections: { type: 'string', default: '16' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;
}

type Values = ReturnType<typeof parse>;

type Numeric = 'workers' | 'duration' | 'requests' | 'connections';

function number(values: Values, name: Numeric, min: number, max: number): number {
  const value = Number(values[name]);
  const whole = name !== 'duration';
  const inRange = Number.isFinite(value) && value >= min && value <= max;
  if (!inRange || (whole && !Number.isInteger(value))) {
    const kind = whole ? 'an integer ' : '';
    throw new UnusableError(`--${name} must be ${kind}from ${min} to ${max}, not ${values[name]}`);
  }
  return value;
}

function settings(values: Values) {
  // The same rules as the conformance CLI.
  const empty =
    emptyOption(values) ??
    emptyVariable(process.env, (name) => ['CCI_BASE_URL', 'CCI_MANAGEMENT_TOKEN'].includes(name));
  if (empty) throw new UnusableError(empty);
  const checks = values.checks
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const unknown = checks.filter((c) => !(CHECKS as readonly string[]).includes(c));
  if (unknown.length > 0 || checks.length === 0) {
    const not = unknown.join(', ') || 'nothing';
    throw new UnusableError(`--checks takes ${CHECKS.join(', ')}; not ${not}`);
  }
  const connections = number(values, 'connections', 1, 256);
  const baseUrl = values['base-url'] ?? process.env.CCI_BASE_URL;
  const workers = number(values, 'workers', 1, 16);
  if (baseUrl && workers > 1) {
    throw new UnusableError('--workers applies to the embedded reference, not to --base-url');
  }
  if (!baseUrl && values['management-token'] !== undefined) {
    throw new UnusableError(
      '--management-token applies to a --base-url target; the embedded reference makes its own',
    );
  }
  return {
    checks: checks as CheckName[],
    workers,
    durationMs: number(values, 'duration', 0.5, 600) * 1000,
    connections,
    maxRequests: number(values, 'requests', connections * 20, 10_000_000),
    baseUrl,
    managementToken: values['management-token'] ?? process.env.CCI_MANAGEMENT_TOKEN,
  };
}

async function main(argv: string[]): Promise<number> {
  let values: Values;
  try {
    values = parse(argv);
  } catch (error) {
    throw new UnusableError(`${argumentProblem(error)} (see --help)`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const run = settings(values);
  const target = await openTarget(run);
  stopOnSignal(target);
  try {
    const plan = {
      target: target.baseUrl,
      label: target.label,
      checks: run.checks,
      durationS: run.durationMs / 1000,
      maxRequests: run.maxRequests,
      connections: run.connections,
    };
    const line =
      `load: ${run.checks.join(', ')} against ${target.label} at ${target.baseUrl}; ` +
      `each for up to ${plan.durationS} s and ${run.maxRequests} requests ` +
      `over ${run.connections} connections`;
    (values.json ? process.stderr : process.stdout).write(`${line}\n`);
    const progress = (text: string) => process.stderr.write(`${redactSecrets(text)}\n`);
    const results = await runChecks(target, run.checks, { ...run, progress });
    const out = values.json ? formatJson(plan, results) : results.map(formatResult).join('\n\n');
    process.stdout.write(`${out}\n`);
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    await target.close();
  }
}

function stopOnSignal(target: LoadTarget): void {
  const stop = (signal: NodeJS.Signals) => {
    process.stderr.write(`load: ${signal}, stopping\n`);
    void target.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`load: ${redactSecrets(message)}\n`);
    process.exit(2);
  },
);
