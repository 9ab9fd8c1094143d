import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Runs the suite's own tests with Node's test runner. Node 20 does not expand globs,
 * so the files are found here: every `*.test.ts` under tests/, or the paths given.
 */
function find(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const given = process.argv.slice(2);
const roots = given.length > 0 ? given : ['tests'];
const files = roots
  .flatMap((path) => (statSync(path).isDirectory() ? find(path) : [path]))
  .map((f) => relative(process.cwd(), f))
  .sort();
if (files.length === 0) {
  process.stderr.write('unit-tests: no *.test.ts files found\n');
  process.exit(2);
}
// Each file runs in a process of its own, and the limit applies to each file as a whole:
// a file that hangs (a child that never closes, a server that never answers) fails after
// 20 minutes, naming itself, instead of holding the run until CI gives up on it. The
// longest file, the kill matrix, takes under 5 minutes here.
const FILE_TIMEOUT_MS = 20 * 60 * 1000;
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-timeout=${FILE_TIMEOUT_MS}`,
    ...files,
  ],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
