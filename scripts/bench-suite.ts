import { benchSuite, formatSuiteBench, SUITE_DEFAULTS } from '../src/bench/suite.js';
import { benchArgs, wholeOption } from '../src/bench/options.js';

const USAGE = `Usage: npm run bench:suite -- [--runs N] [--rounds N] [--json]

Times the conformance CLI (scenarios per second, median of --runs runs) against a plain
undici loop that sends the same scenarios' requests to a reference it starts.`;

const values = benchArgs('bench:suite', USAGE, {
  runs: { type: 'string' },
  rounds: { type: 'string' },
  json: { type: 'boolean', default: false },
});
const options = {
  ...SUITE_DEFAULTS,
  runs: wholeOption('runs', values.runs, SUITE_DEFAULTS.runs, 1, 20),
  rounds: wholeOption('rounds', values.rounds, SUITE_DEFAULTS.rounds, 1, 50),
};
const bench = await benchSuite(options, (line) => process.stderr.write(`${line}\n`));
const text = values.json ? JSON.stringify(bench, null, 2) : formatSuiteBench(bench);
process.stdout.write(`${text}\n`);
