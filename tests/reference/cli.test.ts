import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { send } from '../../src/http/client.js';
import { runScript } from '../helpers/cli.js';

test('npm run reference prints its URL and token, serves, and stops on SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'reference/main.ts', '--port', '0', '--log-level', 'silent'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 20_000;
  while (!/Management token: \S+/.test(stdout) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));

  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
  const token = /Management token: (\S+)/.exec(stdout)?.[1];
  assert.ok(url && token, stdout + stderr);
  const created = await send({
    url: `${url}/v1/keys`,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'cli', plan: 'starter' }),
  });
  assert.equal(created.status, 201);
  const { key } = JSON.parse(created.body) as { key: string };
  assert.equal(
    (
      await send({
        url: `${url}/v1/cases`,
        method: 'GET',
        headers: { authorization: `Bearer ${key}` },
      })
    ).status,
    200,
  );

  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, stderr);
  assert.match(stderr, /SIGTERM received, closing/);
  await assert.rejects(
    send({ url: `${url}/v1/health`, method: 'GET', timeoutMs: 1000 }),
    /ECONNREFUSED/,
  );
});

test('npm run reference does not print a management token it was given', async () => {
  const token = `operator-chosen-${'t'.repeat(20)}Zq7w`;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'reference/main.ts', '--port', '0', '--log-level', 'silent'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CCI_MANAGEMENT_TOKEN: token } },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 20_000;
  while (!/Stop with/.test(output) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('close', resolve));
  assert.match(output, /Management token: as given by CCI_MANAGEMENT_TOKEN \(ending …Zq7w\)/);
  assert.ok(!output.includes(token.slice(0, 20)), 'the token is not shown');
});

test('npm run reference refuses bad options with one line', async () => {
  const notADatabase = join(mkdtempSync(join(tmpdir(), 'cci-db-')), 'notes.txt');
  writeFileSync(notADatabase, 'these are not keys\n');
  const cases: Array<[string[], string | RegExp]> = [
    [
      ['--host', ''],
      'reference: --host needs an address, such as 127.0.0.1 (or :: for every interface)',
    ],
    [['--port', 'abc'], 'reference: --port must be 0 to 65535, not "abc"'],
    [['--port', ''], 'reference: --port must be 0 to 65535, not ""'],
    [['--port', '0x50'], 'reference: --port must be 0 to 65535, not "0x50"'],
    [['--port', '1e3'], 'reference: --port must be 0 to 65535, not "1e3"'],
    [['--workers', '2x'], 'reference: --workers must be 1 to 64, not "2x"'],
    [['--seed', '1.5'], 'reference: --seed must be an integer, not "1.5"'],
    [['--db', tmpdir()], `reference: --db must name a file, and ${tmpdir()} is a directory`],
    [
      ['--db', '/nonexistent-folder/keys.db'],
      /^reference: --db .*the folder \/nonexistent-folder does not exist$/,
    ],
    [
      ['--port', '0', '--db', notADatabase],
      /^reference: cannot use .*notes\.txt as the key database \(SQLITE_NOTADB\)/,
    ],
  ];
  const runs = await Promise.all(
    cases.map(([args]) => runScript('reference/main.ts', [...args, '--log-level', 'silent'])),
  );
  runs.forEach((run, i) => {
    const [args, expected] = cases[i]!;
    assert.equal(run.code, 2, args.join(' '));
    const line = run.stderr.trim();
    if (typeof expected === 'string') assert.equal(line, expected);
    else assert.match(line, expected);
    assert.equal(readFileSync(notADatabase, 'utf8'), 'these are not keys\n', 'left as it was');
  });
});
