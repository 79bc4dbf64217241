// The bench's sampled user/kernel split (bench/cpu-mode-samples.ts, BENCH_CPU_SPLIT=perf), on
// real processes whose split is known: a shell busy loop runs user code only, and `dd` copying
// one byte at a time spends nearly all its time in read/write system calls.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { startCpuModeSampler } from '../../bench/cpu-mode-samples.js';
import { startProcess, stopAllProcesses } from '../support/processes.js';

const SAMPLE_MS = 1000;
const perfWorks = spawnSync('perf', ['record', '-q', '-e', 'cpu-clock', '-o', '/dev/null', 'true']).status === 0;

async function sample(cmd: string, args: string[]) {
  const proc = startProcess(cmd, args);
  const sampler = startCpuModeSampler(proc.pid);
  expect(sampler).toBeDefined();
  await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
  const shares = await sampler!.stop();
  await proc.stop();
  return shares;
}

describe.skipIf(!perfWorks)('bench CPU split sampled by perf', () => {
  afterEach(stopAllProcesses);

  it('puts a busy loop in user code', async () => {
    const shares = await sample('sh', ['-c', 'while :; do :; done']);
    expect(shares!.samples).toBeGreaterThan(50);
    expect(shares!.user).toBeGreaterThan(0.9);
  });

  it('puts one-byte copies through system calls in the kernel', async () => {
    const shares = await sample('dd', ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=100000000']);
    expect(shares!.samples).toBeGreaterThan(50);
    expect(shares!.kernel).toBeGreaterThan(0.5);
  });
});
