import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { CheckOptions, CheckResult, LoadTarget } from '../src/load/check.js';
import { runChecks } from '../src/load/run.js';
import { openTarget } from '../src/load/target.js';
import { startLaggingReference, type LaggingReference } from './load/lagging-reference.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Short runs: these prove the checks' logic, not the server's speed. */
const SHORT: CheckOptions = {
  durationMs: 2500,
  connections: 8,
  maxRequests: 20_000,
  progress: () => undefined,
};

/** Timing claims depend on the machine; the tests judge everything else. */
function failedClaims(results: CheckResult[]): string[] {
  return results.flatMap((r) =>
    r.criteria.filter((c) => !c.ok && !c.timing).map((c) => `${r.check}: ${c.name}: ${c.detail}`),
  );
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = join(ROOT, 'scripts', 'load.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('load checks against the reference', () => {
  let target: LoadTarget;
  before(async () => {
    target = await openTarget({ workers: 1 });
  });
  after(() => target.close());

  test('rotation, revocation and flood pass', async () => {
    const results = await runChecks(target, ['rotation', 'revocation', 'flood'], SHORT);
    assert.deepEqual(failedClaims(results), []);
    const revocation = results.find((r) => r.check === 'revocation')!;
    assert.ok(revocation.criteria.some((c) => c.name === 'no success after revocation' && c.ok));
  });
});

describe('load checks against two reference workers', () => {
  let target: LoadTarget;
  before(async () => {
    target = await openTarget({ workers: 2 });
  });
  after(() => target.close());

  test('revocation is immediate on every worker', async () => {
    const results = await runChecks(target, ['revocation'], SHORT);
    assert.deepEqual(failedClaims(results), []);
    const workers = results[0]!.criteria.find((c) => c.name === 'every worker checked');
    assert.ok(workers?.ok, 'both workers answered after the revocation');
  });
});

describe('load checks against a reference whose revocation lags', () => {
  let lagging: LaggingReference;
  before(async () => {
    // Longer than a check runs: every request sent after the revoke is accepted, and the
    // check must say so. Only a stall outlasting the rest of the check leaves none to catch.
    lagging = await startLaggingReference(5_000);
  });
  after(() => lagging.close());

  test('the immediate-revocation check fails and says why', async () => {
    const target: LoadTarget = {
      baseUrl: lagging.url,
      managementToken: lagging.managementToken,
      label: 'lagging reference',
      workers: 1,
      close: async () => undefined,
    };
    const [result] = await runChecks(target, ['revocation'], SHORT);
    assert.equal(result!.ok, false);
    const claim = result!.criteria.find((c) => c.name === 'no success after revocation')!;
    assert.equal(claim.ok, false);
    assert.match(claim.detail, /accepted.*revocation is not immediate/);
  });

  test('the CLI exits 1 and prints the failure, without the keys', async () => {
    const { code, stdout, stderr } = await runCli([
      '--base-url',
      lagging.url,
      '--management-token',
      lagging.managementToken,
      '--checks',
      'revocation',
      '--duration',
      '1.2',
      '--connections',
      '8',
    ]);
    assert.equal(code, 1, stderr);
    assert.match(stdout, /^FAIL revocation$/m);
    assert.match(stdout, /FAIL no success after revocation: \d+ of \d+ requests/);
    assert.ok(!`${stdout}${stderr}`.includes(lagging.managementToken));
  });
});

describe('the load CLI refuses what it cannot run', () => {
  test('a bad option exits 2', async () => {
    const { code, stderr } = await runCli(['--checks', 'nonsense']);
    assert.equal(code, 2);
    assert.match(stderr, /--checks takes rotation, revocation, flood/);
  });

  test('an empty value, or a token without a target, exits 2 naming it', async () => {
    const empty = await runCli(['--base-url', '']);
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /--base-url is empty/);
    const token = await runCli(['--management-token', 'x'.repeat(20)]);
    assert.equal(token.code, 2);
    assert.match(token.stderr, /--management-token applies to a --base-url target/);
  });

  test('a target off loopback exits 2 without sending anything', async () => {
    const { code, stderr } = await runCli([
      '--base-url',
      'http://192.0.2.1:8080',
      '--management-token',
      'x'.repeat(20),
    ]);
    assert.equal(code, 2);
    assert.match(stderr, /loopback/);
  });
});
