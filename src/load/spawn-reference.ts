import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STARTUP_MS = 30_000;
const STOP_MS = 5_000;

/** A reference server in a process group of its own, from `reference/main.ts`. */
export interface SpawnedReference {
  /** The process that serves (with one worker) or supervises (with several). */
  pid: number;
  url: string;
  /** The same server on [::1], when it listens there too. */
  ipv6Url?: string;
  managementToken: string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  workers?: number;
  logLevel?: string;
  trustedProxies?: string[];
}

/**
 * Starts `node --import tsx reference/main.ts --port 0` detached, reads its URL and token
 * from stdout, and kills the whole group on stop or when this process exits.
 */
export async function spawnReference(options: SpawnOptions = {}): Promise<SpawnedReference> {
  const args = [
    '--import',
    'tsx',
    join(ROOT, 'reference', 'main.ts'),
    '--port',
    '0',
    '--log-level',
    options.logLevel ?? 'warn',
    '--workers',
    String(options.workers ?? 1),
    ...(options.trustedProxies ?? []).flatMap((proxy) => ['--trusted-proxy', proxy]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killGroup = (signal: NodeJS.Signals) => signalGroup(child, signal);
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  const stop = async () => {
    await stopGroup(child);
    process.off('exit', onExit);
  };
  try {
    const found = await readBanner(child);
    return { ...found, pid: child.pid!, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The URL and management token from the banner; rejects with stderr when it never comes. */
type Banner = Omit<SpawnedReference, 'stop' | 'pid'>;

function readBanner(child: ChildProcess): Promise<Banner> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(`no banner within ${STARTUP_MS / 1000} s`), STARTUP_MS);
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`the reference did not start: ${why}${err ? `\n${err.slice(-2000)}` : ''}`));
    };
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code, signal) => fail(`it exited with ${signal ?? code}`));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const managementToken = /Management token: (\S+)/.exec(out)?.[1];
      if (!url || !managementToken || !/Stop with/.test(out)) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      const ipv6Url = /and on (http:\/\/\[\S+)/.exec(out)?.[1];
      resolve({ url, managementToken, ...(ipv6Url ? { ipv6Url } : {}) });
    });
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-child.pid!, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the group, then SIGKILL to whatever of it is left after the grace period. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  signalGroup(child, 'SIGTERM');
  const deadline = performance.now() + STOP_MS;
  while (signalGroup(child, 0) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  signalGroup(child, 'SIGKILL');
  child.stdout?.destroy();
  child.stderr?.destroy();
}
