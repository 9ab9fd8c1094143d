import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The machine-readable report the CLI reads its exit code from. */
export const CONFORMANCE_JSON = 'conformance.json';

/** Where each shard's Playwright blob report goes, for `cci-conformance merge`. */
export const BLOB_DIR = 'blob';

/** The reports a run writes into its folder, besides the blob report of a shard. */
const REPORT_FILES = [CONFORMANCE_JSON, 'conformance.md', 'badge.svg', 'junit.xml'];

/**
 * Removes the reports of an earlier run from `dir`, before a run starts: a run that stops
 * before it writes its own (Ctrl-C, a setup that fails) must leave no earlier verdict
 * behind to be published as its own. Only what a run writes goes: the named files, and
 * `html/` when it holds a Playwright report; anything else in the folder stays.
 */
export function clearReports(dir: string): void {
  for (const name of REPORT_FILES) rmSync(join(dir, name), { force: true });
  if (existsSync(join(dir, 'html', 'index.html'))) {
    rmSync(join(dir, 'html'), { recursive: true, force: true, maxRetries: 3 });
  }
}

/**
 * Undefined when reports can be written to `dir` (made if missing), else why not: checked
 * before a run makes any key, so that an unwritable folder costs nothing.
 */
export function unwritableReason(dir: string): string | undefined {
  try {
    makeFolder(dir);
    const probe = join(dir, `.cci-write-check-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
    return undefined;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    return code ?? message;
  }
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir never returns for a path under
 * /proc, where mkdir fails with ENOENT although the parent exists.
 */
function makeFolder(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) makeFolder(parent);
  try {
    mkdirSync(dir);
  } catch (error) {
    // Another run (a shard started beside this one) made it in the meantime.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(dir).isDirectory())
      throw error;
  }
}
