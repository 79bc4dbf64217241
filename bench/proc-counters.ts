// What one server process spent, from /proc: user and system CPU apart, and its read-class and
// write-class system calls (/proc/PID/io syscr, syscw: read/readv and write/writev on its TCP
// sockets, not UDP's recvmsg/sendmsg), and its threads' context switches, so a bench can say
// where the CPU per packet goes: a voluntary switch is a thread going to sleep (one wake-up
// later), an involuntary one a thread preempted for another with work.
import fs from 'node:fs';
import { cpuSplitSeconds } from '../test/support/coturn-tools.js';

export interface ProcCounters {
  readonly user: number;
  readonly system: number;
  readonly readCalls: number;
  readonly writeCalls: number;
  /** Summed over the threads alive at the reading (/proc/PID/task/TID/status). */
  readonly voluntarySwitches: number;
  readonly involuntarySwitches: number;
}

export function readProcCounters(pid: number): ProcCounters {
  const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN);
  return { ...cpuSplitSeconds(pid), readCalls: field('syscr'), writeCalls: field('syscw'), ...contextSwitches(pid) };
}

function contextSwitches(pid: number): { voluntarySwitches: number; involuntarySwitches: number } {
  let voluntarySwitches = 0;
  let involuntarySwitches = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    voluntarySwitches += Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1] ?? 0);
    involuntarySwitches += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1] ?? 0);
  }
  return { voluntarySwitches, involuntarySwitches };
}

export function countersSince(before: ProcCounters, after: ProcCounters): ProcCounters {
  return {
    user: after.user - before.user,
    system: after.system - before.system,
    readCalls: after.readCalls - before.readCalls,
    writeCalls: after.writeCalls - before.writeCalls,
    voluntarySwitches: after.voluntarySwitches - before.voluntarySwitches,
    involuntarySwitches: after.involuntarySwitches - before.involuntarySwitches,
  };
}
