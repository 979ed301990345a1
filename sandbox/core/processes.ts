/**
 * Questions about other processes, for locks and leftovers: is the process that recorded this
 * still running, and what is its command line. A pid alone can be reused by a new process, so a
 * record also keeps the process's start time where /proc tells it.
 */
import { readFileSync } from 'node:fs';

/**
 * Whether process `pid` runs, and is the same process that recorded `startTicks` (when given and
 * /proc can tell). A zombie has ended.
 */
export function isProcessAlive(pid: number, startTicks?: number): boolean {
  const proc = procStat(pid);
  if (proc === 'gone') return false;
  if (proc !== undefined) return startTicks === undefined || proc.startTicks === startTicks;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), where known. */
export function processStartTicks(pid: number): number | undefined {
  const proc = procStat(pid);
  return typeof proc === 'object' ? proc.startTicks : undefined;
}

/** A process's command line, its arguments joined by spaces; undefined where it cannot be read. */
export function commandLine(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '');
    return text ? text.split('\0').join(' ') : undefined;
  } catch {
    return undefined;
  }
}

/** 'gone' when the process no longer runs (none, or a zombie); undefined where there is no /proc. */
function procStat(pid: number): { startTicks: number } | 'gone' | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return hasProc() ? 'gone' : undefined;
  }
  // The fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z') return 'gone';
  return { startTicks: Number(fields[19]) };
}

function hasProc(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}
