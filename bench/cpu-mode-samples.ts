// User/kernel split of a process's CPU by sampling its threads' own run time (`perf record -e
// cpu-clock`), for BENCH_CPU_SPLIT=perf. Why not /proc: without VIRT_CPU_ACCOUNTING the kernel
// splits utime/stime by which side each 250 Hz tick lands on, over the process's whole life,
// and scales that share to the exact run time. A window of short wake-ups gets few ticks (an
// idle CPU stops its tick) while the start-up got one per 4 ms and was mostly user code, so
// the window's printed user time comes out too high: at relay-threads 2, 59 % printed where
// perf sampled 41 % (docs/performance.md, "Relay threads"). The total stays exact.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CpuModeShares {
  /** Fractions of the samples taken in user code and in the kernel (system calls, faults). */
  readonly user: number;
  readonly kernel: number;
  readonly samples: number;
}

export interface CpuModeSampler {
  /** Stops sampling; undefined when perf failed or took no sample. */
  stop(): Promise<CpuModeShares | undefined>;
}

/** Kernel text is in the top half of the address space on x86-64 and arm64. */
const isKernelAddress = (ip: string) => ip.length === 16 && ip >= '8000000000000000';
const STOP_TIMEOUT_MS = 30_000;

/** Samples every thread of `pid` at 999 Hz until stop(); undefined when perf is not there. */
export function startCpuModeSampler(pid: number): CpuModeSampler | undefined {
  if (spawnSync('perf', ['--version']).status !== 0) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-perf-'));
  const file = path.join(dir, 'perf.data');
  const keep = process.env.BENCH_PERF_KEEP;
  const perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '999', ...(keep ? ['-g'] : []), '-p', String(pid), '-o', file], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => {
    perf.once('exit', () => resolve());
    perf.once('error', () => resolve());
  });
  return {
    async stop() {
      perf.kill('SIGINT');
      const timer = setTimeout(() => perf.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      try {
        const script = spawnSync('perf', ['script', '-i', file, '-F', 'ip'], { encoding: 'utf8', maxBuffer: 1 << 28 });
        const ips = script.stdout.split('\n').map((line) => line.trim().padStart(16, '0')).filter((ip) => ip !== '0'.repeat(16));
        const kernel = ips.filter(isKernelAddress).length;
        return ips.length === 0 ? undefined : { user: (ips.length - kernel) / ips.length, kernel: kernel / ips.length, samples: ips.length };
      } finally {
        if (keep) fs.copyFileSync(file, `${keep}.${pid}.data`);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
