import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildReference } from '../../reference/app.js';
import { ManagementApi } from '../../src/target/management-api.js';
import { assertNoKeyInFull, runCli } from '../helpers/cli.js';
import { ReferenceHarness } from '../helpers/reference.js';
import { VARIANTS } from '../variants/index.js';
import { startVariant } from '../variants/serve.js';

// Keys the run creates are revoked when it ends: after a pass, and after Ctrl-C.

const ref = new ReferenceHarness();
before(() => ref.start({ trustedProxies: ['127.0.0.9'] }));
after(() => ref.close());

async function activeRunKeys(): Promise<string[]> {
  const { keys } = await ref.api.list();
  return keys
    .filter((k) => k.revokedAt === null && k.name.startsWith('cci-conformance'))
    .map((k) => k.name);
}

/** The CLI against a target, in a process group of its own as a terminal would start it. */
function startRun(url: string, managementToken: string, reports: string) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/conformance.ts',
      '--base-url',
      url,
      '--management-token',
      managementToken,
      '--workers',
      '1',
      '--output',
      reports,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, output: () => text };
}

describe('keys created by a run', () => {
  it('are all revoked when the run ends', async () => {
    const target = ['--base-url', ref.server.url, '--management-token', ref.server.managementToken];
    const run = await runCli([...target, '--trusted-proxy', '127.0.0.9']);
    assert.equal(run.code, 0, run.output.slice(-2000));
    const { keys } = await ref.api.list();
    assert.ok(
      keys.filter((k) => k.name.startsWith('cci-conformance')).length >= 20,
      'the run made keys',
    );
    assert.deepEqual(await activeRunKeys(), []);
  });

  // Ctrl-C in a terminal signals the whole foreground process group; under `npm run` the
  // CLI hears it twice, from the terminal and from npm; CI cancelling a job, `docker stop`
  // or `timeout` signal the CLI alone; a closing terminal sends SIGHUP.
  const stops = [
    { how: 'Ctrl-C in a terminal', signal: 'SIGINT', group: true, times: 1, code: 130 },
    { how: 'Ctrl-C under npm run', signal: 'SIGINT', group: false, times: 2, code: 130 },
    { how: 'SIGTERM to the CLI alone', signal: 'SIGTERM', group: false, times: 1, code: 143 },
    { how: 'a closing terminal', signal: 'SIGHUP', group: false, times: 1, code: 129 },
  ] as const;
  for (const stop of stops) {
    it(`are all revoked when ${stop.how} stops the run, and no old verdict stays`, async () => {
      const reports = mkdtempSync(join(tmpdir(), 'cci-int-'));
      // The reports of an earlier run in the same folder.
      const STALE = 'conformance: PASS (an earlier run)';
      writeFileSync(join(reports, 'conformance.md'), STALE);
      mkdirSync(join(reports, 'html'));
      writeFileSync(join(reports, 'html', 'index.html'), STALE);
      const { child, output } = startRun(ref.server.url, ref.server.managementToken, reports);
      const deadline = Date.now() + 30_000;
      while (!/·{5}/.test(output()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.ok((await activeRunKeys()).length > 0, 'keys exist while the run is under way');

      // Listened for first: a stopped run may end before the repeated signal is sent.
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      for (let i = 0; i < stop.times; i++) {
        try {
          process.kill(stop.group ? -child.pid! : child.pid!, stop.signal);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // ended already
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const code = await closed;
      assert.equal(code, stop.code, output().slice(-1500));
      assert.deepEqual(await activeRunKeys(), []);
      const verdict = JSON.parse(readFileSync(join(reports, 'conformance.json'), 'utf8'));
      assert.equal(verdict.verdict, 'incomplete');
      for (const file of ['conformance.md', join('html', 'index.html')]) {
        const path = join(reports, file);
        assert.ok(!existsSync(path) || !readFileSync(path, 'utf8').includes(STALE), file);
      }
      assert.match(output(), new RegExp(`${stop.signal}: stopping the run and revoking the keys`));
      assert.doesNotMatch(output(), /still revoking/, 'one stop, however often it was delivered');
    });
  }
});

describe('keys made while a run is still setting up', () => {
  it('are revoked when a stop comes before the setup has ended', async () => {
    const { app, managementToken } = await buildReference({ trustedProxies: ['127.0.0.9'] });
    // The revoked keys take seconds to make: the stop comes while the setup waits for them,
    // the other keys made already.
    app.addHook('preHandler', async (request) => {
      const name = (request.body as { name?: unknown } | undefined)?.name;
      if (typeof name === 'string' && / revoked/.test(name))
        await new Promise((r) => setTimeout(r, 4000));
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const api = new ManagementApi(url, managementToken);
    const live = async () =>
      (await api.list()).keys.filter(
        (k) => k.revokedAt === null && k.name.startsWith('cci-conformance'),
      ).length;
    try {
      const reports = mkdtempSync(join(tmpdir(), 'cci-setup-int-'));
      const { child, output } = startRun(url, managementToken, reports);
      const deadline = Date.now() + 20_000;
      while ((await live()) === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.ok((await live()) > 0, 'the setup made keys');
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 130, output().slice(-1500));
      assert.equal(await live(), 0, 'every key the setup made, also after the stop, is revoked');
    } finally {
      await app.close();
    }
  });
});

describe('a key a broken target makes when it should have refused', () => {
  it('is revoked when the run ends all the same', async () => {
    // This variant answers a creation without a plan 201, with a key, instead of 400.
    const variant = VARIANTS.find((v) => v.id === 'plan-defaults-cheapest')!;
    const target = await startVariant(variant);
    try {
      const run = await runCli([
        '--base-url',
        target.url,
        '--management-token',
        target.managementToken,
        '--grep',
        'key without a plan is refused',
      ]);
      assert.equal(run.code, 1, run.output.slice(-2000));
      assert.match(run.stdout, /MGMT-02 +MUST +failed/);
      assertNoKeyInFull(run.reports);
      const { keys } = await new ManagementApi(target.url, target.managementToken).list();
      // Named after the run, as its own keys are, for the sweep of an interrupted run.
      const runId = /\(run ([0-9a-f]+)\)/.exec(run.output)?.[1];
      assert.ok(runId, run.output.slice(0, 500));
      const made = keys.filter((k) => k.name === `cci-conformance ${runId} bad no plan`);
      assert.equal(made.length, 1, 'the variant made the key, named after the run');
      assert.deepEqual(
        made.filter((k) => k.revokedAt === null).map((k) => k.id),
        [],
        'and the run revoked it',
      );
    } finally {
      await target.close();
    }
  });
});
