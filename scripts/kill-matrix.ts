import { parseArgs } from 'node:util';
import { redactSecrets } from '../src/secrets/redact.js';
import { VARIANTS } from '../tests/variants/index.js';
import { formatMatrix, runMatrix } from '../tests/variants/matrix.js';
import { startVariant, TRUSTED_PROXY } from '../tests/variants/serve.js';

const USAGE = `Usage: node --import tsx scripts/kill-matrix.ts [options]

Runs the conformance suite (scripts/conformance.ts) against every variant of the
reference server in tests/variants/ and prints the kill matrix: each broken variant must
fail on the requirement it breaks, each correct variant must pass every scenario.

A correct variant runs the whole suite. A broken one runs the scenarios of the
requirement it breaks, then, if they do not fail it, the whole suite. Runs stop at the
N-th failed scenario (each failure costs Playwright a new worker process); a failure in
part of the suite is a failure of the whole, and a variant counts as surviving only
after the whole suite ran to its end. Reports go to <output>/variants/<id>/<run>/ and
the matrix to <output>/kill-matrix.json.

Options:
  -c, --concurrency N   variants run at once (default 3)
  -j, --workers N       Playwright workers per run (default 1)
  -x, --max-failures N  a run stops at N failed scenarios (default 1)
  --only LIST           only these variants: ids or requirement ids, comma-separated
  --output DIR          report folder (default ./reports)
  --serve ID            only start variant ID and print its URLs, until Ctrl-C
  -h, --help            this help

Exit codes: 0 every broken variant killed on its requirement and every correct one passed;
1 otherwise; 2 bad options.`;

function fail(message: string): never {
  process.stderr.write(`kill-matrix: ${message}\n`);
  process.exit(2);
}

function count(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100) fail(`--${name} must be 1 to 100, not ${value}`);
  return n;
}

let values;
try {
  values = parseArgs({
    options: {
      concurrency: { type: 'string', short: 'c' },
      workers: { type: 'string', short: 'j' },
      'max-failures': { type: 'string', short: 'x' },
      only: { type: 'string' },
      output: { type: 'string' },
      serve: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

if (values.serve !== undefined) {
  const variant = VARIANTS.find((v) => v.id === values.serve) ?? fail(`no variant ${values.serve}`);
  const running = await startVariant(variant);
  process.stdout.write(
    [
      `${variant.id} (${variant.breaks ?? 'correct'}): ${variant.description}`,
      `  ${running.url}${running.ipv6Url ? ` and ${running.ipv6Url}` : ''}`,
      `  management token: ${running.managementToken}`,
      `  check it: node --import tsx scripts/conformance.ts --base-url ${running.url} \\`,
      `    --management-token ${running.managementToken} --trusted-proxy ${TRUSTED_PROXY}`,
      '',
    ].join('\n'),
  );
  const stop = () => void running.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await new Promise(() => {});
}

const only = values.only
  ?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const variants = only
  ? VARIANTS.filter((v) => only.includes(v.id) || (v.breaks !== null && only.includes(v.breaks)))
  : VARIANTS;
if (variants.length === 0) fail(`no variant matches --only ${values.only}`);

process.stderr.write(`kill-matrix: ${variants.length} variants\n`);
const matrix = await runMatrix(variants, {
  concurrency: count('concurrency', values.concurrency, 3),
  workers: count('workers', values.workers, 1),
  maxFailures: count('max-failures', values['max-failures'], 1),
  ...(values.output ? { reportDir: values.output } : {}),
  onRow: (row, done, total) => {
    const seconds = (row.durationMs / 1000).toFixed(1);
    process.stderr.write(`  [${done}/${total}] ${row.id}: ${row.outcome} (${seconds}s)\n`);
  },
}).catch((error: unknown) => fail(redactSecrets((error as Error).message ?? String(error))));
process.stdout.write(`\n${formatMatrix(matrix)}\n`);
process.exit(matrix.ok ? 0 : 1);
