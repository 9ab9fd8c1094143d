import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { send } from '../../src/http/client.js';

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
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, stderr);
  assert.match(stderr, /SIGTERM received, closing/);
  await assert.rejects(
    send({ url: `${url}/v1/health`, method: 'GET', timeoutMs: 1000 }),
    /ECONNREFUSED/,
  );
});

test('npm run reference refuses bad options with one line', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'reference/main.ts', '--port', 'abc'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.equal(stderr.trim(), 'reference: --port must be 0 to 65535, not abc');
});
