import { readFileSync } from 'node:fs';

/** Linux reports process times in clock ticks, 100 a second on every mainstream kernel. */
const TICK_MS = 10;

/** CPU time (user + system) `pid` has used so far, in ms; undefined where /proc is absent. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces, start at "state" (field 3).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}
