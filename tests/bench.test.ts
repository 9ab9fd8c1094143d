import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { openClient, type LoadClient } from '../src/bench/clients.js';
import { burst, type Burst } from '../src/bench/closed-loop.js';
import { allowedCpus } from '../src/bench/pin.js';
import { runScript } from './helpers/cli.js';
import {
  formatReferenceBench,
  pairedRatio,
  REFERENCE_DEFAULTS,
  summarize,
  type PathName,
} from '../src/bench/reference.js';

// The benchmark's figures are only as good as its load generator: both clients must read
// every answer's status, count what they did not expect, and survive a server that
// answers in pieces or hangs up.

let server: Server;
let url: string;
const seen: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.url} ${req.headers.authorization ?? '-'}`);
    if (req.url === '/split') {
      // Head and body in separate writes, the body in two pieces.
      res.writeHead(200, { 'content-length': '10' });
      res.write('hello');
      setTimeout(() => res.end('world'), 5);
      return;
    }
    if (req.url === '/chunked') {
      res.writeHead(200);
      res.end('no length');
      return;
    }
    if (req.url === '/capitalised') {
      res.writeHead(201, { 'Content-Length': '2' });
      res.end('ok');
      return;
    }
    if (req.url === '/stall') return;
    if (req.url === '/hang-up') {
      req.socket.destroy();
      return;
    }
    const status = req.headers.authorization === 'Bearer good' ? 200 : 401;
    const body = JSON.stringify({ status });
    res.writeHead(status, { 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

for (const name of ['raw', 'undici'] as const) {
  describe(`the ${name} load client`, () => {
    let client: LoadClient;
    before(async () => {
      client = await openClient(name, url, 2);
    });
    after(() => client.close());

    test('reads each status and sends the Authorization header it is given', async () => {
      const [send] = client.senders;
      seen.length = 0;
      assert.equal(await send!('/ok', 'Bearer good'), 200);
      assert.equal(await send!('/ok', undefined), 401);
      assert.equal(await send!('/split', undefined), 200);
      assert.equal(await send!('/capitalised', undefined), 201);
      assert.equal(await send!('/ok', 'Bearer good'), 200, 'the connection is reusable');
      assert.deepEqual(seen, [
        '/ok Bearer good',
        '/ok -',
        '/split -',
        '/capitalised -',
        '/ok Bearer good',
      ]);
    });

    test('a burst counts expected answers and unexpected ones apart', async () => {
      let n = 0;
      const spec = {
        path: '/ok',
        authorization: () => (n++ % 2 === 0 ? 'Bearer good' : 'Bearer bad'),
        expectStatus: 200,
      };
      const result = await burst(client, spec, 10_000, 40);
      assert.equal(result.requests, 40);
      assert.ok(result.unexpected >= 18 && result.unexpected <= 22, `${result.unexpected}`);
      assert.ok(result.rps > 0 && result.p50Ms > 0 && result.clientCpuUs > 0);
    });

    test('counts a request that is never answered, and does not hang', async () => {
      const impatient = await openClient(name, url, 1, 300);
      const [send] = impatient.senders;
      const started = performance.now();
      assert.equal(await send!('/stall', undefined), 0);
      assert.ok(performance.now() - started < 5000);
      await impatient.close();
    });
  });
}

test('the raw client gives up on an answer without a length, or a server hanging up', async () => {
  for (const path of ['/chunked', '/hang-up']) {
    const client = await openClient('raw', url, 1);
    const [send] = client.senders;
    assert.equal(await send!(path, undefined), 0, path);
    assert.equal(await send!('/ok', 'Bearer good'), 0, `${path}: the connection is not reused`);
    await client.close();
  }
});

describe('the reference bench summary', () => {
  // A burst with only a throughput and a server cost worth checking.
  const b = (rps: number, serverCpuUs?: number): Burst => ({
    requests: rps,
    rps,
    p50Ms: 1000 / rps,
    p99Ms: 2000 / rps,
    unexpected: 0,
    clientCpuUs: 5,
    ...(serverCpuUs === undefined ? {} : { serverCpuUs }),
  });
  const round = (valid: number, health: number): Record<PathName, Burst> => ({
    valid: b(valid, 30),
    unknown: b(valid * 1.1),
    missing: b(valid * 1.2),
    health: b(health, 20),
    'health+key': b(health * 0.9),
  });
  // A fast process and a slow one: pooled, the fast one's health and the slow one's valid
  // rounds would be set against each other; paired, each round is its own comparison.
  const fast = [round(45, 50), round(46, 50), round(44, 50)];
  const slow = [round(27, 30), round(24, 30), round(28, 30)];

  test('ratios are taken within rounds, then the median per process, then over processes', () => {
    const ratio = pairedRatio([fast, slow], 'valid', 'health');
    assert.deepEqual(
      ratio.perProcess.map((r) => r.toFixed(3)),
      ['0.900', '0.900'],
    );
    assert.equal(ratio.median.toFixed(3), '0.900');
    const keyed = pairedRatio([fast], 'health+key', 'health');
    assert.equal(keyed.median.toFixed(3), '0.900');
  });

  test('the summary keeps every process and pools the medians of the bursts', () => {
    const bench = summarize({ ...REFERENCE_DEFAULTS, processes: 2, rounds: 3 }, [fast, slow]);
    assert.equal(bench.processes.length, 2);
    // Lower median of 45, 46, 44, 27, 24, 28.
    assert.equal(bench.paths.valid.rps, 28);
    assert.equal(bench.paths.valid.serverCpuUs, 30);
    assert.equal(bench.paths.unknown.serverCpuUs, undefined);
    assert.equal(bench.ratios.unknownOverValid.median.toFixed(2), '1.10');
    const text = formatReferenceBench(bench);
    assert.match(
      text,
      /valid\/health\s+0\.90\s+\(per process: 0\.90, 0\.90\)\s+goal >= 0\.85: met/,
    );
    assert.match(text, /missing\/valid\s+1\.20 .*goal >= 1\.00: met/);
    assert.doesNotMatch(text, /NOT met/);
    const short = summarize(REFERENCE_DEFAULTS, [[round(40, 50)]]);
    assert.match(formatReferenceBench(short), /valid\/health\s+0\.80 .*goal >= 0\.85: NOT met/);
  });
});

test('bench scripts name a bad option and exit 2, and print their usage on --help', async () => {
  const scripts = ['bench', 'bench-suite', 'bench-reference'];
  await Promise.all(
    scripts.map(async (name) => {
      const script = `scripts/${name}.ts`;
      for (const args of [['--bogus'], ['extra'], ['--help']]) {
        const run = await runScript(script, args);
        const help = args[0] === '--help';
        assert.equal(run.code, help ? 0 : 2, `${name} ${args.join(' ')}: ${run.output}`);
        assert.doesNotMatch(run.output, /\n\s+at |node:internal/, `${name}: no stack trace`);
        if (help) assert.match(run.stdout, /^Usage: npm run bench/);
        else assert.match(run.stderr, new RegExp(`(--bogus|'extra').*\\(see --help\\)`));
      }
    }),
  );
  const bad = await runScript('scripts/bench-reference.ts', ['--processes', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--processes must be an integer from 1 to 20, not 0/);
  const none = await runScript('scripts/bench-reference.ts', ['--valid-keys', '0']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--valid-keys must be an integer from 1 to 1000, not 0/);
});

test('the CPUs a process may use are read from its status, ranges and lists alike', () => {
  assert.deepEqual(allowedCpus('Name:\tnode\nCpus_allowed_list:\t0-1\n'), [0, 1]);
  assert.deepEqual(allowedCpus('Cpus_allowed_list:\t2,4-6,9\n'), [2, 4, 5, 6, 9]);
  assert.deepEqual(allowedCpus('Cpus_allowed_list:\t3\n'), [3]);
  assert.equal(allowedCpus('Name:\tnode\n'), undefined);
});
