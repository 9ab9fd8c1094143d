import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  output: string;
}

/** Runs the conformance CLI as a user would, with reports in a fresh folder. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult & { reports: string }> {
  const reports = mkdtempSync(join(tmpdir(), 'cci-reports-'));
  // Reports go to a fresh folder, except where the command takes none (scenarios).
  const hasOutput = args.includes('--output') || args[0] === 'scenarios';
  const output = hasOutput ? [] : ['--output', reports];
  return { ...(await runScript('scripts/conformance.ts', [...args, ...output], env)), reports };
}

/** Runs one of the project's scripts as `npm run` would, and collects what it wrote. */
export function runScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { ...process.env, CI: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // 'close', not 'exit': only then has all of the child's output been read.
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout, stderr, output: stdout + stderr }),
    );
  });
}

/** Every file under `dir`, with its text. */
export function filesUnder(dir: string): Array<{ path: string; text: string }> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory()
      ? filesUnder(path)
      : [{ path, text: readFileSync(path, 'latin1') }];
  });
}

/** Anything shaped like a CCI credential with more than its last four characters visible. */
export const FULL_KEY = /cci_(live|test|admin)_[A-Za-z0-9]{5,}/;

/** Fails when any file under `dir` holds a credential in full; names the file, not the key. */
export function assertNoKeyInFull(dir: string): void {
  for (const file of filesUnder(dir)) {
    const match = FULL_KEY.exec(file.text);
    assert.equal(match, null, `${file.path} holds a key: ${match?.[0].slice(0, 14)}…`);
  }
}
