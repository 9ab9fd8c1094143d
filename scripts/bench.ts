import {
  REFERENCE_DEFAULTS,
  benchReference,
  formatReferenceBench,
} from '../src/bench/reference.js';
import { SUITE_DEFAULTS, benchSuite, formatSuiteBench } from '../src/bench/suite.js';

/**
 * Both benches in one run, then the three ratios side by side. Not a test: nothing here
 * passes or fails, the figures are for reading.
 */
const progress = (line: string) => process.stderr.write(`${line}\n`);
const suite = await benchSuite(SUITE_DEFAULTS, progress);
const reference = await benchReference(REFERENCE_DEFAULTS, progress);
const { paths, ratios } = reference;
const rate = (n: number) => `${n.toFixed(0)}/s`;

process.stdout.write(
  [
    formatSuiteBench(suite),
    '',
    formatReferenceBench(reference),
    '',
    'ratios:',
    `  conformance vs plain loop     ${suite.conformance.rate.toFixed(1)} vs ` +
      `${suite.plain.rate.toFixed(1)} scenarios/s = ${suite.ratio.toFixed(3)}`,
    `  valid key vs health           ${rate(paths.valid.rps)} vs ${rate(paths.health.rps)} ` +
      `= ${ratios.validOverHealth.toFixed(2)}`,
    `  invalid key vs valid key      unknown ${rate(paths.unknown.rps)} ` +
      `vs ${rate(paths.valid.rps)} ` +
      `= ${ratios.unknownOverValid.toFixed(2)}; missing ${rate(paths.missing.rps)} ` +
      `= ${ratios.missingOverValid.toFixed(2)}`,
    '',
  ].join('\n'),
);
