import { CLIENTS, type ClientName } from '../src/bench/clients.js';
import { benchArgs, wholeOption } from '../src/bench/options.js';
import {
  benchReference,
  formatReferenceBench,
  REFERENCE_DEFAULTS,
} from '../src/bench/reference.js';

const USAGE = `Usage: npm run bench:reference -- [options]

  --processes N     fresh server processes, measured one after another (default 3)
  --rounds N        timed rounds per process (default 7)
  --round-ms MS     length of each path's burst in a round (default 1000)
  --connections N   keep-alive connections (default 32)
  --valid-keys N    valid keys the valid path takes turns with (default 1; unknown keys
                    are always 256 in turn)
  --client NAME     load generator: raw (default) or undici
  --no-pin          leave CPU placement to the scheduler (default: the server on one CPU,
                    this process on another, where Linux and taskset allow)
  --json            print the figures as JSON
  -h, --help        this help

Starts the reference in a child process and measures, over loopback, a valid key, an
unknown key, no key, and the health route without and with a key's header. Prints
medians, and ratios taken within each round, per process and their median. Client and
server take turns, so the rate follows the sum of their costs per request: the raw client
prepares its requests as bytes and costs less than the server, and the same on every
path; undici is what a Node application would use, and costs more than the server.`;

const values = benchArgs('bench:reference', USAGE, {
  processes: { type: 'string' },
  rounds: { type: 'string' },
  'round-ms': { type: 'string' },
  connections: { type: 'string' },
  'valid-keys': { type: 'string' },
  client: { type: 'string' },
  'no-pin': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
});
const d = REFERENCE_DEFAULTS;
const client = values.client ?? d.client;
if (!(CLIENTS as readonly string[]).includes(client)) {
  process.stderr.write(`--client must be one of ${CLIENTS.join(', ')}, not ${client}\n`);
  process.exit(2);
}
const options = {
  ...d,
  processes: wholeOption('processes', values.processes, d.processes, 1, 20),
  rounds: wholeOption('rounds', values.rounds, d.rounds, 1, 50),
  roundMs: wholeOption('round-ms', values['round-ms'], d.roundMs, 100, 60_000),
  connections: wholeOption('connections', values.connections, d.connections, 1, 512),
  validKeys: wholeOption('valid-keys', values['valid-keys'], d.validKeys, 1, 1000),
  client: client as ClientName,
  pin: !values['no-pin'],
};
const bench = await benchReference(options, (line) => process.stderr.write(`${line}\n`));
const text = values.json ? JSON.stringify(bench, null, 2) : formatReferenceBench(bench);
process.stdout.write(`${text}\n`);
