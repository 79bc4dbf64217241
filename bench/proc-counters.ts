// What one server process spent, from /proc: user and system CPU apart, and its read-class and
// write-class system calls (/proc/PID/io syscr, syscw: read/readv and write/writev on its TCP
// sockets, not UDP's recvmsg/sendmsg), so a bench can say where the CPU per packet goes.
import fs from 'node:fs';
import { cpuSplitSeconds } from '../test/support/coturn-tools.js';

export interface ProcCounters {
  readonly user: number;
  readonly system: number;
  readonly readCalls: number;
  readonly writeCalls: number;
}

export function readProcCounters(pid: number): ProcCounters {
  const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? NaN);
  return { ...cpuSplitSeconds(pid), readCalls: field('syscr'), writeCalls: field('syscw') };
}

export function countersSince(before: ProcCounters, after: ProcCounters): ProcCounters {
  return {
    user: after.user - before.user,
    system: after.system - before.system,
    readCalls: after.readCalls - before.readCalls,
    writeCalls: after.writeCalls - before.writeCalls,
  };
}
