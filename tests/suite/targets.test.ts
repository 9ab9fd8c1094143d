import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertNoKeyInFull, FULL_KEY, runCli } from '../helpers/cli.js';
import { buildReference } from '../../reference/app.js';
import { ReferenceHarness } from '../helpers/reference.js';

const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'conformance.json'), 'utf8'));
const ref = new ReferenceHarness();
before(() => ref.start({ trustedProxies: ['127.0.0.9'] }));
after(() => ref.close());

describe('configuration errors', () => {
  const oneLine = (text: string) => {
    const lines = text
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('cci-conformance:'));
    assert.equal(lines.length, 1, text);
    assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
    return lines[0]!;
  };

  it('refuses an unknown option', async () => {
    const run = await runCli(['--bogus']);
    assert.equal(run.code, 2);
    assert.match(oneLine(run.stderr), /Unknown option '--bogus'/);
  });

  it('refuses an unreachable target before running anything', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const run = await runCli(['--base-url', `http://127.0.0.1:${port}`]);
    assert.equal(run.code, 2);
    assert.match(oneLine(run.stderr), /cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.doesNotMatch(run.stdout, /scenarios selected/);
  });

  it('refuses a management token the target refuses, without showing it', async () => {
    const token = `cci_admin_${'w'.repeat(30)}`;
    const run = await runCli(['--base-url', ref.server.url, '--management-token', token]);
    assert.equal(run.code, 2);
    assert.match(oneLine(run.stderr), /refused the management token \(401\)/);
    assert.ok(!run.output.includes(token));
  });

  it('refuses an unknown reporter, and a selection that matches nothing', async () => {
    assert.match(
      oneLine((await runCli(['--reporter', 'bogus'])).stderr),
      /unknown reporter "bogus"/,
    );
    const none = await runCli(['--grep', 'matches-no-scenario']);
    assert.equal(none.code, 2);
    assert.match(oneLine(none.stderr), /no scenario was selected/);
  });

  it('lists the scenarios per family without running or judging them', async () => {
    const run = await runCli(['--list']);
    assert.equal(run.code, 0, run.output.slice(-1000));
    const listed = (re: RegExp) => re.test(run.stdout);
    assert.ok(
      listed(/lifecycle\.spec\.ts:\d+:\d+ › getCase: revoked key is refused/),
      'listed by family',
    );
    assert.ok(listed(/Total: \d{3} tests in 6 files/), 'a total per file');
    assert.ok(!listed(/^(PASS|FAIL)/m), 'no verdict for a listing');
  });

  it('refuses a bad base URL, seed or keys file', async () => {
    assert.match(oneLine((await runCli(['--base-url', 'ftp://x'])).stderr), /http or https/);
    assert.match(oneLine((await runCli(['--seed', 'abc'])).stderr), /--seed must be an integer/);
    const missing = await runCli([
      '--base-url',
      ref.server.url,
      '--keys-file',
      '/nonexistent.json',
    ]);
    assert.equal(missing.code, 2);
    assert.match(oneLine(missing.stderr), /--keys-file .*ENOENT/);
  });
});

describe('other targets', () => {
  it('runs read-only with static keys, skipping with a reason what needs management', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cci-keys-'));
    const keysFile = join(dir, 'keys.json');
    const keys: Record<string, string> = {};
    for (const plan of ['starter', 'professional', 'enterprise'])
      keys[`valid.${plan}`] = (await ref.key(plan)).key;
    const revoked = await ref.key('enterprise');
    await ref.api.revoke(revoked.id);
    keys.revoked = revoked.key;
    writeFileSync(keysFile, JSON.stringify(keys));

    const run = await runCli(['--base-url', ref.server.url, '--keys-file', keysFile]);
    assert.equal(run.code, 0, run.output.slice(-2000));
    const verdict = report(run.reports);
    const byId = new Map(verdict.requirements.map((r: { id: string }) => [r.id, r]));
    const lifecycle = byId.get('LIFE-03') as { status: string; skipReasons: string[] };
    assert.equal(lifecycle.status, 'skipped');
    assert.match(lifecycle.skipReasons[0]!, /management token/);
    assert.equal(
      (byId.get('LIFE-01') as { status: string }).status,
      'passed',
      'the static revoked key is used',
    );
    assert.equal((byId.get('CRED-03') as { status: string }).status, 'passed');
    assert.equal((byId.get('IP-01') as { status: string }).status, 'skipped');
    assert.ok(verdict.counts.scenarios.skipped > 0);
    const lifecycleProfile = verdict.profiles.find((p: { id: string }) => p.id === 'lifecycle');
    assert.equal(
      lifecycleProfile.status,
      'not assessed',
      'never passed without creating and revoking keys',
    );
    assert.match(lifecycleProfile.reason, /management token/);
    // The management API's own credential check needs to know there is such an API.
    const credential = byId.get('MGMT-04') as { status: string; skipReasons: string[] };
    assert.equal(credential.status, 'skipped');
    assert.match(credential.skipReasons[0]!, /management API is not assessed/);
    assert.equal(verdict.counts.scenarios.failed, 0);
  });

  it('fails a target that echoes keys, with redacted evidence', async () => {
    const managementToken = `cci_admin_${'e'.repeat(30)}`;
    const { app } = await buildReference({ managementToken });
    // Break ERR-02 from outside the reference: 401 bodies quote the Authorization header.
    app.addHook('onSend', async (request, reply, payload) =>
      reply.statusCode === 401 && typeof payload === 'string'
        ? payload.replace('"message":"', `"message":"you sent ${request.headers.authorization} - `)
        : payload,
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    try {
      const run = await runCli([
        '--base-url',
        url,
        '--management-token',
        managementToken,
        '--grep',
        'getCase:',
      ]);
      assert.equal(run.code, 1, run.output.slice(-2000));
      assert.match(run.stdout, /^FAIL: /m);
      const verdict = report(run.reports);
      const leak = verdict.requirements.find((r: { id: string }) => r.id === 'ERR-02');
      assert.equal(leak.status, 'failed');
      const failed = verdict.scenarios.find((s: { id: string }) => s.id === 'getCase.unknown-key');
      assert.equal(failed.status, 'failed');
      assert.ok(failed.evidence, 'a failure carries its evidence');
      assert.match(JSON.stringify(failed.evidence), /cci_live_…/);
      assertNoKeyInFull(run.reports);
      assert.doesNotMatch(run.output, FULL_KEY);
    } finally {
      await app.close();
    }
  });
});
