import cluster, { type Worker } from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { randomBase62 } from '../src/secrets/keys.js';
import { buildReference } from './app.js';
import type { RunningReference } from './server.js';
import { KeyStore } from './store.js';

/** How the primary starts its workers; they share the port and one SQLite file. */
export interface ClusterOptions {
  workers: number;
  host: string;
  port: number;
  /** SQLite file; a temporary one, removed on close, when absent. */
  db?: string;
  managementToken?: string;
  trustedProxies: string[];
  seed: number;
  logLevel: string;
}

/** What every worker is told: the same file and the same management token. */
interface WorkerConfig {
  host: string;
  port: number;
  db: string;
  managementToken: string;
  trustedProxies: string[];
  seed: number;
  logLevel: string;
}

type FromWorker =
  | { type: 'ready' }
  | { type: 'listening'; url: string; ipv6Url?: string }
  | { type: 'failed'; message: string; code?: string };

/** Names the worker that answered, so load checks can tell that every worker was reached. */
export const WORKER_HEADER = 'x-cci-worker';

const STOP_GRACE_MS = 5000;

/**
 * Starts `workers` processes serving one port. Resolves once all listen; rejects (after
 * stopping those that started) with the first worker's error, its `code` kept.
 */
export async function startCluster(options: ClusterOptions): Promise<RunningReference> {
  const temporaryDir = options.db ? undefined : mkdtempSync(join(tmpdir(), 'cci-reference-'));
  const db = options.db ?? join(temporaryDir!, 'keys.db');
  const removeTemporary = () => {
    if (temporaryDir) rmSync(temporaryDir, { recursive: true, force: true });
  };
  process.once('exit', removeTemporary);
  // One process sets WAL mode and the schema, so that workers never race to do it.
  new KeyStore(db).close();

  const config: WorkerConfig = {
    host: options.host,
    port: options.port,
    db,
    managementToken: options.managementToken ?? `cci_admin_${randomBase62(40)}`,
    trustedProxies: options.trustedProxies,
    seed: options.seed,
    logLevel: options.logLevel,
  };
  const workers = Array.from({ length: options.workers }, () => cluster.fork());
  const stop = async () => {
    await stopWorkers(workers);
    removeTemporary();
  };
  const release = stopOnSignalWhileStarting(stop);
  let first: Extract<FromWorker, { type: 'listening' }>;
  try {
    first = (await Promise.all(workers.map((worker) => startWorker(worker, config))))[0]!;
  } catch (error) {
    await stop();
    throw error;
  } finally {
    release();
  }
  return {
    url: first.url,
    ...(first.ipv6Url ? { ipv6Url: first.ipv6Url } : {}),
    managementToken: config.managementToken,
    close: watchWorkers(workers, stop),
  };
}

/** Until the caller installs its own handlers, a signal stops the workers that are starting. */
function stopOnSignalWhileStarting(stop: () => Promise<void>): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    void stop().then(() => process.exit(128 + constants.signals[signal]));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Sends the configuration and waits for the worker to listen or fail. */
function startWorker(worker: Worker, config: WorkerConfig) {
  return new Promise<Extract<FromWorker, { type: 'listening' }>>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`worker ${worker.id} exited with ${code ?? 'a signal'} before listening`));
    worker.once('exit', onExit);
    const onMessage = (message: FromWorker) => {
      if (message.type === 'ready') return void worker.send(config);
      worker.off('exit', onExit);
      worker.off('message', onMessage);
      if (message.type === 'listening') return resolve(message);
      reject(Object.assign(new Error(message.message), message.code ? { code: message.code } : {}));
    };
    worker.on('message', onMessage);
  });
}

/** A worker that dies while the others serve leaves a half-capacity server: stop them all. */
function watchWorkers(workers: Worker[], stop: () => Promise<void>): () => Promise<void> {
  let closing = false;
  for (const worker of workers) {
    worker.once('exit', (code, signal) => {
      if (closing) return;
      closing = true;
      process.stderr.write(`reference: worker ${worker.id} exited (${signal ?? code}); stopping\n`);
      void stop().then(() => process.exit(1));
    });
  }
  return async () => {
    closing = true;
    await stop();
  };
}

/** SIGTERM to each worker still running, SIGKILL to any that outlives the grace period. */
async function stopWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          const timer = setTimeout(() => worker.process.kill('SIGKILL'), STOP_GRACE_MS);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          worker.process.kill('SIGTERM');
        }),
    ),
  );
}

const urlOf = (a: AddressInfo) =>
  a.family === 'IPv6' ? `http://[${a.address}]:${a.port}` : `http://${a.address}:${a.port}`;

/** The worker side: asks for its configuration, listens, reports back. */
export function runWorker(): void {
  // A primary that died mid-start breaks the channel; the disconnect then ends this worker.
  cluster.worker!.on('error', () => undefined);
  process.once('message', (config: WorkerConfig) => {
    serve(config).then(
      (message) => process.send!(message),
      (error: NodeJS.ErrnoException) => {
        const failed: FromWorker = { type: 'failed', message: error.message };
        process.send!(error.code ? { ...failed, code: error.code } : failed, () => process.exit(2));
      },
    );
  });
  process.send!({ type: 'ready' } satisfies FromWorker);
}

async function serve(config: WorkerConfig): Promise<FromWorker> {
  const { app } = await buildReference({
    db: config.db,
    managementToken: config.managementToken,
    trustedProxies: config.trustedProxies,
    seed: config.seed,
    logStream: pino.destination(2),
    logLevel: config.logLevel,
  });
  const id = String(cluster.worker!.id);
  app.addHook('onRequest', async (_request, reply) => {
    reply.header(WORKER_HEADER, id);
  });
  await app.listen({
    host: config.host,
    port: config.port,
    listenTextResolver: (address) => `listening on ${address}`,
  });
  const primary = app.server.address() as AddressInfo;
  const twin =
    config.host === '127.0.0.1' ? await listenTwin(app.routing.bind(app), primary.port) : undefined;
  stopOnSignal(async () => {
    if (twin) await new Promise((resolve) => twin.close(resolve));
    await app.close();
  });
  return {
    type: 'listening',
    url: urlOf(primary),
    ...(twin ? { ipv6Url: urlOf(twin.address() as AddressInfo) } : {}),
  };
}

/** The worker's own [::1] listener, as the single-process reference has. */
function listenTwin(handler: RequestListener, port: number) {
  const server = createServer(handler);
  return new Promise<Server | undefined>((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen({ host: '::1', port, ipv6Only: true }, () => resolve(server));
  });
}

/** Ctrl-C reaches every process of the group; SIGTERM comes from the primary. */
function stopOnSignal(close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), STOP_GRACE_MS - 1000).unref();
    void close().finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
