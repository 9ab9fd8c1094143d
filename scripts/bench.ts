import {
  REFERENCE_DEFAULTS,
  benchReference,
  formatReferenceBench,
} from '../src/bench/reference.js';
import { SUITE_DEFAULTS, benchSuite, formatSuiteBench } from '../src/bench/suite.js';
import { benchArgs } from '../src/bench/options.js';

/**
 * Both benches in one run, then the three ratios side by side. Not a test: nothing here
 * passes or fails, the figures are for reading.
 */
benchArgs(
  'bench',
  `Usage: npm run bench

Runs bench:suite and bench:reference with their defaults, one after the other, and prints
both with the ratios side by side (about two and a half minutes). Options belong to those
two; see \`npm run bench:suite -- --help\` and \`npm run bench:reference -- --help\`.`,
  {},
);
const progress = (line: string) => process.stderr.write(`${line}\n`);
const suite = await benchSuite(SUITE_DEFAULTS, progress);
const reference = await benchReference(REFERENCE_DEFAULTS, progress);
const { ratios } = reference;

process.stdout.write(
  [
    formatSuiteBench(suite),
    '',
    formatReferenceBench(reference),
    '',
    "ratios (the reference's paired within rounds, median over processes):",
    `  conformance vs plain loop     ${suite.conformance.rate.toFixed(1)} vs ` +
      `${suite.plain.rate.toFixed(1)} scenarios/s = ${suite.ratio.toFixed(3)}`,
    `  valid key vs health           ${ratios.validOverHealth.median.toFixed(2)}`,
    `  invalid key vs valid key      unknown ${ratios.unknownOverValid.median.toFixed(2)}, ` +
      `missing ${ratios.missingOverValid.median.toFixed(2)}`,
    '',
  ].join('\n'),
);
