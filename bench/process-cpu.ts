// On-CPU time of a running process, in nanoseconds, from the kernel's scheduler statistics:
// unlike a round trip's wall time on a shared machine, it does not count the time the process
// waited for a core, so it tells two builds' work apart when other work shares the cores.
import fs from 'node:fs';

/** On-CPU nanoseconds so far of every thread of `pid` (the main thread: `mainOnly`); 0 once it is gone. */
export function processCpuNs(pid: number, mainOnly = false): number {
  const tasks = mainOnly ? [String(pid)] : safe(() => fs.readdirSync(`/proc/${pid}/task`), []);
  let total = 0;
  for (const task of tasks) total += safe(() => Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]), 0);
  return total;
}

function safe<T>(read: () => T, otherwise: T): T {
  try {
    return read();
  } catch {
    return otherwise; // a thread that ended between the listing and the read
  }
}
