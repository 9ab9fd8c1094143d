import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadContract } from '../../src/contract/load.js';
import { jsonSchemaValidator } from '../../src/contract/schemas.js';
import { generateScenarios } from '../../src/scenarios/generate.js';
import { runCli } from '../helpers/cli.js';

const ajv = jsonSchemaValidator({ allErrors: true, strict: true });
const schema = (name: string) =>
  ajv.compile(JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8')));
const reportSchema = schema('conformance-report.schema.json');
const corpusSchema = schema('scenario-corpus.schema.json');

const read = (dir: string) => JSON.parse(readFileSync(join(dir, 'conformance.json'), 'utf8'));

function valid(validate: ReturnType<typeof schema>, value: unknown, what: string) {
  assert.ok(validate(value), `${what}: ${ajv.errorsText(validate.errors)}`);
}

/** What must be equal between an unsplit run and merged shards: everything but time and ports. */
function essence(report: any) {
  return {
    verdict: report.verdict,
    contract: report.contract,
    suite: report.suite,
    counts: report.counts,
    profiles: report.profiles,
    requirements: report.requirements,
    scenarios: report.scenarios.map((s: any) => [s.id, s.status, s.checked]).sort(),
  };
}

describe('the certificate', () => {
  it('merged shards certify exactly what an unsplit run does', async () => {
    const [whole, first, second] = await Promise.all([
      runCli(['--workers', '1']),
      runCli(['--shard', '1/2', '--workers', '1']),
      runCli(['--shard', '2/2', '--workers', '1']),
    ]);
    for (const run of [whole, first, second]) assert.equal(run.code, 0, run.output.slice(-2000));
    assert.ok(existsSync(join(first.reports, 'blob')));
    assert.ok(
      read(first.reports).counts.scenarios.passed < read(whole.reports).counts.scenarios.passed,
    );

    const merged = await runCli(['merge', first.reports, second.reports]);
    assert.equal(merged.code, 0, merged.output.slice(-2000));
    assert.match(merged.stdout, /^PASS: /m);
    for (const run of [whole, first, second, merged])
      valid(reportSchema, read(run.reports), run.reports);
    assert.deepEqual(essence(read(merged.reports)), essence(read(whole.reports)));
    assert.ok(existsSync(join(merged.reports, 'html', 'index.html')), 'merged HTML report');
    assert.match(readFileSync(join(merged.reports, 'junit.xml'), 'utf8'), /<testsuites/);

    // A shard given twice would count its scenarios twice: refused, naming both folders.
    const twice = await runCli(['merge', first.reports, second.reports, first.reports]);
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /shard 1\/2 is given twice: .*conformance\.json and /);
    assert.ok(!existsSync(join(twice.reports, 'conformance.json')), 'nothing written');
    // One shard alone (its sibling died, say) is not the suite.
    const partial = await runCli(['merge', first.reports]);
    assert.equal(partial.code, 2);
    assert.match(partial.stderr, /shard 2\/2 is missing: a merge of some shards would certify/);
    const unsplit = await runCli(['merge', whole.reports, first.reports]);
    assert.match(unsplit.stderr, /is not the report of a shard \(run with --shard I\/N\)/);
  });

  it('is written as Markdown and an SVG badge naming suite, contract, target, date', async () => {
    const run = await runCli(['--grep', '@plans']);
    assert.equal(run.code, 0, run.output.slice(-2000));
    const report = read(run.reports);
    valid(reportSchema, report, 'report');
    const markdown = readFileSync(join(run.reports, 'conformance.md'), 'utf8');
    for (const text of [
      report.suite.version,
      report.contract.sha256,
      report.target.baseUrl,
      report.startedAt,
      'PLAN-01',
    ]) {
      assert.ok(markdown.includes(text), `the Markdown names ${text}`);
    }
    assert.match(markdown, /\| PLAN-01 \| MUST \| ✅ passed \|/);
    const badge = readFileSync(join(run.reports, 'badge.svg'), 'utf8');
    assert.match(badge, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    // A pass over part of the contract says so: on the console, the certificate and the badge.
    const version = loadContract().version.replace(/\./g, '\\.');
    assert.match(badge, new RegExp(`pass · \\d+/\\d+ MUST · contract ${version}<`));
    assert.match(markdown, /\| Coverage \| \d+ of \d+ MUST requirements checked \|/);
    assert.match(
      run.stdout,
      /^PASS: .*; \d+ of \d+ MUST requirements checked, the others skipped/m,
    );
    assert.ok(badge.includes(report.suite.version));
  });

  it('refuses to merge what is not a shard report', async () => {
    const run = await runCli(['merge', '/nonexistent-shard']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /conformance\.json does not exist/);
    const dir = mkdtempSync(join(tmpdir(), 'cci-not-a-report-'));
    writeFileSync(join(dir, 'conformance.json'), '{}');
    const empty = await runCli(['merge', dir]);
    assert.equal(empty.code, 2);
    const why = "is not a conformance report: at /, must have required property 'reportVersion'";
    assert.ok(empty.stderr.includes(`conformance.json ${why}`), empty.stderr);
    assert.doesNotMatch(empty.stderr, /TypeError|\n\s+at /);
  });
});

describe('profiles', () => {
  it('--profile runs only the chosen profiles and reports the others not assessed', async () => {
    const run = await runCli(['--profile', 'lifecycle']);
    assert.equal(run.code, 0, run.output.slice(-2000));
    const report = read(run.reports);
    const profile = (id: string) => report.profiles.find((p: { id: string }) => p.id === id);
    assert.equal(profile('lifecycle').status, 'passed');
    assert.equal(profile('core').status, 'not assessed');
    assert.equal(profile('ip-allowlist').status, 'not assessed');
    const lifecycle = report.requirements.filter(
      (r: { profile: string }) => r.profile === 'lifecycle',
    );
    assert.ok(lifecycle.every((r: { status: string }) => r.status === 'passed'));
    assert.deepEqual(report.selectedProfiles, ['lifecycle']);
    assert.ok(
      report.scenarios.every((s: { requirement: string }) => s.requirement.startsWith('LIFE-')),
    );
  });

  it('refuses an unknown profile', async () => {
    const run = await runCli(['--profile', 'gold']);
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /unknown profile "gold"; profiles are core, ip-allowlist, lifecycle, management/,
    );
  });
});

describe('the scenario corpus', () => {
  it('is exported as JSON valid against its schema, the same for the same seed', async () => {
    const first = await runCli(['scenarios', '--format', 'json', '--seed', '3']);
    const second = await runCli(['scenarios', '--format', 'json', '--seed', '3']);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(first.stdout === second.stdout, 'the same seed gives the same corpus');
    const corpus = JSON.parse(first.stdout);
    valid(corpusSchema, corpus, 'corpus');
    assert.equal(corpus.contract.sha256, loadContract().sha256);
    assert.equal(corpus.scenarios.length, generateScenarios(loadContract(), { seed: 3 }).length);
    assert.match(
      first.stdout,
      /\{\{key:valid\.starter\}\}/,
      'real keys are placeholders, filled at run time',
    );
  });

  it('selects by --profile and --grep as a run does, and takes no option of a run', async () => {
    const chosen = await runCli(['scenarios', '--profile', 'lifecycle', '--grep', '@revocation']);
    assert.equal(chosen.code, 0, chosen.stderr);
    const { scenarios } = JSON.parse(chosen.stdout) as { scenarios: Array<{ tags: string[] }> };
    assert.ok(scenarios.length > 0);
    assert.ok(scenarios.every((s) => s.tags.includes('@revocation')));
    const all = generateScenarios(loadContract(), { seed: 1 });
    assert.ok(scenarios.length < all.length);
    const refused = await runCli(['scenarios', '--base-url', 'http://127.0.0.1:1']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /scenarios takes --format, .*, not --base-url/);
    // A selection of nothing is refused as a run refuses it, not written as an empty corpus.
    const [none, noProfile] = await Promise.all([
      runCli(['scenarios', '--profile', 'core', '--grep', 'matches-nothing']),
      runCli(['scenarios', '--profile', ' , ']),
    ]);
    assert.equal(none.code, 2);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /no scenario was selected by --profile core with --grep "matches-no/);
    assert.equal(noProfile.code, 2);
    assert.match(noProfile.stderr, /--profile names no profile: " , "/);
  });

  it('ends quietly when its reader stops early, as `scenarios | head` does', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/conformance.ts', 'scenarios'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Read the first piece of the corpus, then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
  });

  it('refuses a format it does not write', async () => {
    const run = await runCli(['scenarios', '--format', 'yaml']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--format must be json/);
  });
});
