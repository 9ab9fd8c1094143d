import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

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

/**
 * Fails when any file under `dir` holds a credential in full; names the file, not the key.
 * What a reader or a scanner would decode is read too: the files zipped into Playwright's
 * HTML report, and Basic credentials.
 */
export function assertNoKeyInFull(dir: string): void {
  for (const file of filesUnder(dir)) {
    for (const { where, text } of readable(file.path, file.text)) {
      const match = FULL_KEY.exec(text);
      assert.equal(match, null, `${where} holds a key: ${match?.[0].slice(0, 14)}…`);
    }
  }
}

/** A file's text, the files zipped into it (an HTML report), and its Basic credentials decoded. */
function readable(path: string, text: string): Array<{ where: string; text: string }> {
  const zipped = /data:application\/zip;base64,([A-Za-z0-9+/=]+)/.exec(text);
  const inner = zipped
    ? unzip(Buffer.from(zipped[1]!, 'base64')).map((entry) => ({
        where: `${path} (${entry.name})`,
        text: entry.text,
      }))
    : [];
  return [{ where: path, text }, ...inner].flatMap((part) => [
    part,
    ...[...part.text.matchAll(/Basic\s+([A-Za-z0-9+/]{16,}={0,2})/gi)].map((m) => ({
      where: `${part.where} (a Basic credential)`,
      text: Buffer.from(m[1]!, 'base64').toString('latin1'),
    })),
  ]);
}

/** The entries of a zip archive, read through its central directory (stored or deflated). */
export function unzip(zip: Buffer): Array<{ name: string; text: string }> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'a zip archive has an end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: Array<{ name: string; text: string }> = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, 'a central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    entries.push({ name, text: (method === 8 ? inflateRawSync(data) : data).toString('latin1') });
    at += 46 + skip;
  }
  return entries;
}
