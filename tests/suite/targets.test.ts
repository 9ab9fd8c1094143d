import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertNoKeyInFull, FULL_KEY, runCli, runScript } from '../helpers/cli.js';
import { buildReference } from '../../reference/app.js';
import { ReferenceHarness } from '../helpers/reference.js';

/** A loopback port nothing listens on. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

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
    const port = await freePort();
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
    assert.match(oneLine(none.stderr), /no scenario was selected by --grep "matches-no-scenario"/);
    assert.doesNotMatch(none.stdout, /scenarios selected/, 'refused before Playwright starts');
    assert.ok(!existsSync(join(none.reports, 'conformance.json')), 'no certificate of nothing');
    const across = await runCli(['--profile', 'core', '--grep', '@rotation']);
    assert.match(oneLine(across.stderr), /by --profile core with --grep "@rotation"/);
  });

  it('refuses empty values, and options that only a --base-url target takes', async () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [
        ['--management-token', ''],
        {},
        /--management-token is empty \(is the variable it came from set\?\)/,
      ],
      [['--base-url', ' '], {}, /--base-url is empty/],
      [['--keys-file', 'keys.json'], {}, /--keys-file applies to a --base-url target/],
      [['--management-token', 'x'.repeat(20)], {}, /--management-token applies to a --base-url/],
      [
        [],
        { CCI_KEY_VALID_STARTER: `cci_live_${'s'.repeat(40)}` },
        /CCI_KEY_VALID_STARTER is set, but static keys are for a --base-url target/,
      ],
      [
        ['--base-url', ref.server.url],
        { CCI_KEY_VALID_STARTR: 'x' },
        /unknown key variables: CCI_KEY_VALID_STARTR; known: CCI_KEY_VALID_STARTER/,
      ],
      [
        ['--retries', '-1'],
        {},
        /--retries needs a value; for one that starts with "-", write --retries=VALUE/,
      ],
      [['--output', '/dev/null'], {}, /--output \/dev\/null is a file, not a folder/],
      // A list of no profile is no choice of every profile.
      [['--profile', ','], {}, /--profile names no profile: ","/],
      [[], { CCI_PROFILES: ', ' }, /CCI_PROFILES names no profile: ","/],
      // Checked before any key is made: a folder under a file, and one under /proc, where
      // Node's own recursive mkdir would never return.
      [
        ['--base-url', ref.server.url, '--output', '/dev/null/reports'],
        {},
        /--output \/dev\/null\/reports: reports cannot be written there \(ENOTDIR\)/,
      ],
      [
        ['--base-url', ref.server.url, '--output', '/proc/cci-reports'],
        {},
        /--output \/proc\/cci-reports: reports cannot be written there \(ENOENT\)/,
      ],
      // An unset CI secret arrives as an empty variable: that is no run of what was meant.
      [
        ['--base-url', ref.server.url],
        { CCI_MANAGEMENT_TOKEN: '' },
        /CCI_MANAGEMENT_TOKEN is set but empty/,
      ],
      [
        ['--base-url', ref.server.url],
        { CCI_KEY_REVOKED: ' ' },
        /CCI_KEY_REVOKED is set but empty/,
      ],
      [
        ['--base-url', ref.server.url, '--allow-mutations'],
        {},
        /--allow-mutations needs a management token/,
      ],
      [
        ['merge', '--grep', '@ip', '/tmp'],
        {},
        /merge takes --output, --contract and --strict, not --grep/,
      ],
      [['merge', '--output', '', '/tmp'], {}, /--output is empty/],
    ];
    const runs = await Promise.all(cases.map(([args, env]) => runCli(args, env)));
    runs.forEach((run, i) => {
      const [args, , message] = cases[i]!;
      assert.equal(run.code, 2, args.join(' '));
      assert.match(oneLine(run.stderr), message, args.join(' '));
    });
  });

  it('checks Playwright options before starting anything, naming the option', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--timeout', 'abc'], /--timeout must be a whole number of milliseconds/],
      [['--retries', 'two'], /--retries must be a whole number/],
      [['--max-failures', '1.5'], /--max-failures must be a whole number/],
      [['--repeat-each', '0'], /--repeat-each must be a whole number, 1 or more, not "0"/],
      [['--workers', '0'], /--workers must be a positive whole number or a percentage/],
      [['--workers', '150%'], /--workers must be/],
      [['--shard', '3/2'], /--shard must be I\/N with 1 ≤ I ≤ N/],
      [['--shard', 'x'], /--shard must be/],
      [['--grep', '('], /--grep "\(" is not a regular expression/],
      [['--grep-invert', '[a'], /--grep-invert "\[a" is not a regular expression/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args)));
    runs.forEach((run, i) => {
      const [args, message] = cases[i]!;
      assert.equal(run.code, 2, args.join(' '));
      assert.match(oneLine(run.stderr), message, args.join(' '));
      assert.doesNotMatch(run.stdout, /scenarios selected/, args.join(' '));
    });
  });

  it('checks --trusted-proxy: an address of this machine, for a --base-url target', async () => {
    const target = ['--base-url', ref.server.url, '--management-token', ref.server.managementToken];
    const [word, embedded, foreign] = await Promise.all([
      runCli([...target, '--trusted-proxy', 'banana']),
      runCli(['--trusted-proxy', '127.0.0.9']),
      // 192.0.2.0/24 is a documentation range; should this machine hold 192.0.2.250, it
      // would also be a fine proxy address, and this case would have to pick another.
      runCli([...target, '--trusted-proxy', '192.0.2.250']),
    ]);
    assert.match(oneLine(word.stderr), /--trusted-proxy must be an IP address, not "banana"/);
    assert.match(oneLine(embedded.stderr), /--trusted-proxy applies to a --base-url target/);
    assert.match(
      oneLine(foreign.stderr),
      /cannot send from the trusted proxy address 192\.0\.2\.250 \(EADDRNOTAVAIL\)/,
    );
    for (const run of [word, embedded, foreign]) assert.equal(run.code, 2);
    assert.equal(
      (await ref.api.list()).keys.filter((k) => k.name.startsWith('cci-conformance')).length,
      0,
      'refused before any key was provisioned',
    );
  });

  it('names the variable, not the flag, when the environment is wrong', async () => {
    const [seed, strict, proxy] = await Promise.all([
      runCli([], { CCI_SEED: 'abc' }),
      runCli([], { CCI_STRICT: 'maybe' }),
      runCli(['--base-url', ref.server.url], { CCI_TRUSTED_PROXY: 'proxy.local' }),
    ]);
    assert.match(oneLine(seed.stderr), /CCI_SEED must be an integer, not "abc"/);
    assert.match(oneLine(strict.stderr), /CCI_STRICT must be 1 or 0 \(or true\/false, yes\/no\)/);
    assert.match(oneLine(proxy.stderr), /CCI_TRUSTED_PROXY must be an IP address/);
    for (const run of [seed, strict, proxy]) assert.equal(run.code, 2);
    // The same variables read by `npx playwright test`: one line from the config, exit 2.
    const direct = await runScript(
      'node_modules/@playwright/test/cli.js',
      ['test', '--list', '-c', 'playwright.config.ts'],
      { CCI_SEED: '1e3' },
    );
    assert.equal(direct.code, 2);
    assert.match(oneLine(direct.stderr), /CCI_SEED must be an integer, not "1e3"/);
    // An unreachable target under Playwright's own CLI: its setup error, and no certificate,
    // not even an earlier run's left in the folder.
    const STALE = 'conformance: PASS (an earlier run)';
    for (const name of ['conformance.md', 'badge.svg', 'junit.xml']) {
      writeFileSync(join(seed.reports, name), STALE);
    }
    const port = await freePort();
    const unreachable = await runScript(
      'node_modules/@playwright/test/cli.js',
      ['test', '-c', 'playwright.config.ts', '--grep', '@plans'],
      { CCI_BASE_URL: `http://127.0.0.1:${port}`, CCI_REPORT_DIR: seed.reports },
    );
    assert.notEqual(unreachable.code, 0);
    assert.match(unreachable.output, /cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.match(unreachable.stdout, /the run did not start \(see the error above\); no verdict/);
    assert.ok(!existsSync(join(seed.reports, 'conformance.json')), 'no certificate');
    for (const name of ['conformance.md', 'badge.svg', 'junit.xml']) {
      const path = join(seed.reports, name);
      assert.ok(!existsSync(path) || !readFileSync(path, 'utf8').includes(STALE), name);
    }
    // A refused management token: the message alone, no stack, and no key made.
    const refused = await runScript(
      'node_modules/@playwright/test/cli.js',
      ['test', '-c', 'playwright.config.ts', '--grep', '@plans'],
      {
        CCI_BASE_URL: ref.server.url,
        CCI_MANAGEMENT_TOKEN: `cci_admin_${'w'.repeat(30)}`,
        CCI_REPORT_DIR: seed.reports,
      },
    );
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.output,
      /Error: http:\/\/127\.0\.0\.1:\d+ refused the management token \(401\)/,
    );
    assert.doesNotMatch(refused.output, /\n\s+at |management-api\.ts/, 'no stack, no code frame');
    assert.equal(
      (await ref.api.list()).keys.filter((k) => k.name.startsWith('cci-conformance')).length,
      0,
      'no key made',
    );
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
    assert.deepEqual(readdirSync(run.reports), [], 'and no report of a run that did not run');
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

    // A key of the wrong shape is a mistake in the file, not a failing target.
    const dir = mkdtempSync(join(tmpdir(), 'cci-keys-'));
    const keysFile = join(dir, 'keys.json');
    const pasted = `Bearer cci_live_${'Q'.repeat(28)}Wxyz`;
    writeFileSync(keysFile, JSON.stringify({ 'valid.starter': pasted }));
    const shape = await runCli(['--base-url', ref.server.url, '--keys-file', keysFile]);
    assert.equal(shape.code, 2);
    assert.match(
      oneLine(shape.stderr),
      new RegExp(
        String.raw`--keys-file .*keys\.json: the key for valid\.starter is not a live key ` +
          String.raw`of the contract's shape \(cci_live_ and .* it has 48 characters, ending …Wxyz`,
      ),
    );
    assert.ok(!shape.output.includes(pasted.slice(7, 24)), 'the key is not shown');
    const variable = await runCli(['--base-url', ref.server.url], {
      CCI_KEY_REVOKED: 'cci_test_short',
    });
    assert.match(
      oneLine(variable.stderr),
      /CCI_KEY_REVOKED: the key for revoked is not a live key/,
    );
  });
});

describe('other targets', () => {
  it('gives no verdict when every selected scenario had to be skipped', async () => {
    const run = await runCli(['--base-url', ref.server.url, '--grep', '@plans']);
    assert.equal(run.code, 2, run.output.slice(-1500));
    assert.match(run.stderr, /nothing could be checked: every selected scenario was skipped/);
    assert.match(run.stdout, /^INCOMPLETE: .*; 0 of \d+ MUST requirements checked/m);
    assert.equal(report(run.reports).verdict, 'incomplete');
  });

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

  it('does not start with a static valid key the target refuses, and blames no one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cci-keys-'));
    const keysFile = join(dir, 'keys.json');
    const revoked = await ref.key('starter');
    await ref.api.revoke(revoked.id);
    const stale = `cci_live_${'k'.repeat(36)}St4L`;
    for (const [key, code] of [
      [stale, 'invalid_api_key'],
      [revoked.key, 'revoked_api_key'],
    ] as const) {
      writeFileSync(keysFile, JSON.stringify({ 'valid.starter': key }));
      const run = await runCli(['--base-url', ref.server.url, '--keys-file', keysFile]);
      assert.equal(run.code, 2, run.output.slice(-1500));
      assert.match(
        run.output,
        new RegExp(
          `refuses the valid\\.starter key given for this run ` +
            `\\(cci_live_…${key.slice(-4)}\\): 401 ${code}`,
        ),
      );
      assert.ok(!run.output.includes(key), 'the key is never shown whole');
      assert.ok(!existsSync(join(run.reports, 'conformance.json')), 'no verdict on the target');
    }
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
