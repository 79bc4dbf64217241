// What a process holds, as Linux reports it: resident memory from /proc, and the open-files
// limit that bounds how many sockets (one per allocation, on both sides) a run may open.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export interface ResidentMemory {
  /** VmRSS: all its threads included (they share one address space), in bytes. */
  readonly total: number;
  /** RssAnon: heaps and stacks, what the process itself allocated. */
  readonly anon: number;
  /** RssFile: pages of its executable and libraries (shared with other processes running them). */
  readonly file: number;
}

export function residentMemory(pid: number): ResidentMemory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kB = (name: string): number => Number(statusField(status, name, pid).replace(/ kB$/, '')) * 1024;
  return { total: kB('VmRSS'), anon: kB('RssAnon'), file: kB('RssFile') };
}

/** Threads of a process (coturn's relay threads show here). */
export function threadCount(pid: number): number {
  return Number(statusField(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), 'Threads', pid));
}

function statusField(status: string, name: string, pid: number): string {
  const m = status.match(new RegExp(`^${name}:\\s+(.+)$`, 'm'));
  if (!m) throw new Error(`no ${name} for process ${pid}`);
  return m[1]!;
}

/** File descriptors a process has open: its sockets among them (a relay socket per allocation). */
export function openFileCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** The soft and hard "Max open files" of a process. */
export function openFilesLimit(pid: number | 'self'): { soft: number; hard: number } {
  const m = fs.readFileSync(`/proc/${pid}/limits`, 'utf8').match(/^Max open files\s+(\S+)\s+(\S+)/m);
  if (!m) throw new Error(`no open-files limit for process ${pid}`);
  const value = (s: string): number => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: value(m[1]!), hard: value(m[2]!) };
}

/**
 * Raises this process's soft open-files limit to `needed` (with prlimit; Node has no
 * setrlimit) so that it, and the servers it starts afterwards, which inherit it, can open
 * that many sockets. Throws when the hard limit is lower.
 */
export function ensureOpenFiles(needed: number): void {
  const { soft, hard } = openFilesLimit('self');
  if (soft >= needed) return;
  if (hard < needed) throw new Error(`the open-files hard limit ${hard} is below the ${needed} this run needs`);
  execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${needed}:${hard}`]);
}
