import { defineConfig, type ReporterDescription } from '@playwright/test';
import { BLOB_DIR } from './src/report/files.js';
import { readRunOptions } from './src/run/options.js';

/** The run options; a wrong variable ends the run with one line naming it, not a stack trace. */
function runOptions() {
  try {
    return readRunOptions();
  } catch (error) {
    process.stderr.write(`cci-conformance: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

const options = runOptions();
const reports = options.reportDir;

/**
 * Reporters: a progress reporter (yours with --reporter, else list on a terminal and dot
 * elsewhere), then always the HTML report, JUnit XML and the conformance verdict.
 */
function reporters(): ReporterDescription[] {
  const chosen = (process.env.CCI_REPORTERS ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const progress: ReporterDescription[] =
    chosen.length > 0
      ? chosen.map((name) => [name] as ReporterDescription)
      : [[process.stdout.isTTY ? 'list' : 'dot']];
  // A listing runs nothing: there is no report to write.
  if (process.env.CCI_LIST_ONLY === '1') return progress;
  return [
    ...progress,
    ['html', { open: 'never', outputFolder: `${reports}/html` }],
    ['junit', { outputFile: `${reports}/junit.xml` }],
    ['./src/report/conformance-reporter.ts'],
    // A shard also keeps a blob report, which `cci-conformance merge` folds into one.
    ...(process.env.CCI_SHARD
      ? [
          [
            'blob',
            {
              outputDir: `${reports}/${BLOB_DIR}`,
              fileName: `report-${process.env.CCI_SHARD.replace('/', '-of-')}.zip`,
            },
          ] as ReporterDescription,
        ]
      : []),
  ];
}

export default defineConfig({
  testDir: './specs',
  outputDir: `${reports}/test-results`,
  globalSetup: './src/run/global-setup.ts',
  globalTeardown: './src/run/global-teardown.ts',
  fullyParallel: true,
  // API scenarios are I/O bound: two workers keep a 2-core machine busy without a browser.
  workers: 2,
  timeout: 15_000,
  retries: 0,
  reporter: reporters(),
  use: {
    trace: 'off',
  },
});
