import cluster from 'node:cluster';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { argumentProblem } from '../src/cli/args.js';
import { ContractError } from '../src/contract/errors.js';
import { runWorker, startCluster } from './cluster.js';
import { startReference } from './server.js';

const USAGE = `Usage: npm run reference -- [options]

Starts the CCI reference server of the authentication contract.

Options:
  --host ADDRESS          address to listen on (default 127.0.0.1; also [::1] when it is)
  --port N                port (default 8080; 0 picks a free one)
  --db PATH               SQLite file for keys (default: in memory, lost on exit; with
                          --workers, a temporary file removed on exit)
  --workers N             processes serving the same port and SQLite file (default 1)
  --management-token T    the management credential (default: $CCI_MANAGEMENT_TOKEN or generated)
  --trusted-proxy ADDR    an address or CIDR range whose X-Forwarded-For is believed (repeatable)
  --seed N                seed of the generated court data (default 1)
  --log-level LEVEL       trace, debug, info, warn, error or silent (default info);
                          logs go to stderr
  -h, --help              show this help`;

function fail(message: string): never {
  process.stderr.write(`reference: ${message}\n`);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8080' },
        db: { type: 'string' },
        'management-token': { type: 'string' },
        'trusted-proxy': { type: 'string', multiple: true, default: [] },
        seed: { type: 'string', default: '1' },
        workers: { type: 'string', default: '1' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return fail(`${argumentProblem(error)}\n\n${USAGE}`);
  }
}

/** A whole number written in decimal digits; undefined for anything else ('', 0x50, 1e3). */
function whole(text: string): number | undefined {
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

/** The key database must be a file, or a new one in a folder that exists. */
function checkDatabasePath(path: string): void {
  if (path.trim() === '') fail('--db needs a file name');
  if (existsSync(path) && statSync(path).isDirectory())
    fail(`--db must name a file, and ${path} is a directory`);
  const folder = dirname(resolve(path));
  if (!existsSync(folder)) fail(`--db ${path}: the folder ${folder} does not exist`);
}

const keptWhere = (workers: number) =>
  workers > 1 ? 'in a temporary file removed on exit' : 'in memory and lost on exit';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

async function main() {
  const args = parse();
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  // An empty host would listen on every interface, which nobody asks for by leaving it blank.
  if (args.host.trim() === '')
    fail('--host needs an address, such as 127.0.0.1 (or :: for every interface)');
  const port = whole(args.port);
  if (port === undefined || port > 65535) fail(`--port must be 0 to 65535, not "${args.port}"`);
  const seed = /^-?\d+$/.test(args.seed) ? Number(args.seed) : Number.NaN;
  if (!Number.isSafeInteger(seed)) fail(`--seed must be an integer, not "${args.seed}"`);
  if (!LEVELS.includes(args['log-level'])) fail(`--log-level must be one of ${LEVELS.join(', ')}`);
  const workers = whole(args.workers);
  if (workers === undefined || workers < 1 || workers > 64) {
    fail(`--workers must be 1 to 64, not "${args.workers}"`);
  }
  if (args.db !== undefined) checkDatabasePath(args.db);

  const token = args['management-token'] ?? process.env.CCI_MANAGEMENT_TOKEN;
  if (token !== undefined && token.length < 16)
    fail('the management token must be at least 16 characters');

  const common = {
    host: args.host,
    port,
    seed,
    trustedProxies: args['trusted-proxy'],
    logLevel: args['log-level'],
    ...(args.db ? { db: args.db } : {}),
    ...(token ? { managementToken: token } : {}),
  };
  let server;
  try {
    server =
      workers > 1
        ? await startCluster({ ...common, workers })
        : await startReference({ ...common, logStream: pino.destination(2) });
  } catch (error) {
    if (error instanceof ContractError) fail(`the contract cannot be used: ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      fail(`port ${port} is in use; pick another with --port, or --port 0`);
    if (code === 'EADDRNOTAVAIL') fail(`cannot listen on ${args.host}: no such local address`);
    if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_NOTADB')
      fail(`cannot use ${args.db} as the key database (${code}): ${(error as Error).message}`);
    fail((error as Error).message);
  }

  const givenBy = args['management-token'] ? '--management-token' : 'CCI_MANAGEMENT_TOKEN';
  process.stdout.write(
    [
      `CCI reference server listening on ${server.url}`,
      ...(server.ipv6Url ? [`                             and on ${server.ipv6Url}`] : []),
      // A generated token is printed, as its operator has no other way to learn it; one
      // the operator chose is known to them already, and is not shown again.
      token === undefined
        ? `Management token: ${server.managementToken}`
        : `Management token: as given by ${givenBy} (ending …${token.slice(-4)})`,
      ...(workers > 1 ? [`Served by ${workers} worker processes sharing one SQLite file.`] : []),
      `Keys are kept ${args.db ? `in ${args.db}` : keptWhere(workers)}. Stop with Ctrl-C.`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`reference: ${signal} received, closing\n`);
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

if (cluster.isWorker) runWorker();
else void main();
