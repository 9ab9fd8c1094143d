import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Where the server and the load generator run, and how to undo it. */
export interface Pinning {
  /** For the report: the CPUs chosen, or why nothing was pinned. */
  description: string;
  /** Gives this process back every CPU it had; a no-op when nothing was pinned. */
  release(): void;
}

/** Nothing pinned, and why. */
export function unpinned(why: string): Pinning {
  return { description: `not pinned (${why})`, release: () => undefined };
}

/**
 * Puts the server on one CPU and this process, the load generator, on another, so that
 * the scheduler never runs both on one core while the other idles. Needs Linux, `taskset`
 * and two CPUs this process may use; otherwise nothing is pinned and the description says
 * why.
 */
export function pinApart(serverPid: number): Pinning {
  const allowed = allowedCpus();
  if (allowed === undefined) return unpinned('no CPU list in /proc');
  if (allowed.length < 2) return unpinned(`only CPU ${allowed.join('')} is available`);
  const client = allowed[0]!;
  const server = allowed.at(-1)!;
  try {
    setAffinity(serverPid, String(server));
    setAffinity(process.pid, String(client));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return unpinned('no taskset here');
    return unpinned(`taskset failed: ${(error as Error).message.split('\n')[0]}`);
  }
  return {
    description: `server on CPU ${server}, load generator on CPU ${client}`,
    release: () => setAffinity(process.pid, allowed.join(',')),
  };
}

/** Sets the CPUs of every thread of `pid`. */
function setAffinity(pid: number, cpus: string): void {
  execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', cpus, String(pid)], {
    stdio: 'ignore',
  });
}

/** The CPUs this process may run on, from `Cpus_allowed_list` ("0-3,8"). */
export function allowedCpus(status = readStatus()): number[] | undefined {
  const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(status ?? '')?.[1];
  if (list === undefined) return undefined;
  return list.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map(Number);
    return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i);
  });
}

function readStatus(): string | undefined {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
}
