// How long a process's threads waited for a CPU while runnable (/proc/PID/task/*/schedstat,
// second field: run-queue wait), summed over its threads: on a shared machine a relay that
// stalls for tens of ms with little work to do (its event loop mostly idle) is waiting here.
import fs from 'node:fs';

/** Seconds the process's live threads have waited on a run queue, and been scheduled (slices). */
export function runQueueWait(pid: number): { seconds: number; slices: number } {
  let ns = 0;
  let slices = 0;
  let tasks: string[] = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return { seconds: 0, slices: 0 };
  }
  for (const task of tasks) {
    try {
      const [, wait, count] = fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').trim().split(' ').map(Number);
      ns += wait!;
      slices += count!;
    } catch {
      // the thread ended while we looked
    }
  }
  return { seconds: ns / 1e9, slices };
}
