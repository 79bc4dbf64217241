// The V8 flags Turnpike serves under (src/cli/v8-flags.ts) are set by the bins after Node has
// started: they must still hold for code compiled later, relay worker threads included
// (V8's flags are one set per process). Probed in a real Node process with a real worker.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/turnpike-process.js';

const FLAGS_MODULE = pathToFileURL(path.join(ROOT, 'dist/cli/v8-flags.js')).href;

/** Whether a function in a worker thread runs as Sparkplug code after its first call, with or without the serving flags. */
function workerSparkplug(withServingFlags: boolean): string {
  const script = `
    import { Worker } from 'node:worker_threads';
    if (${withServingFlags}) (await import(${JSON.stringify(FLAGS_MODULE)})).setServingV8Flags();
    const code = "const { parentPort } = process.getBuiltinModule('node:worker_threads'); function f(x) { return x + 1; } f(1); parentPort.postMessage(%ActiveTierIsSparkplug(f));";
    new Worker(code, { eval: true }).on('message', (tier) => { console.log(tier); process.exit(0); });`;
  return execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 }).trim();
}

describe('V8 flags for serving', () => {
  it('reach a worker thread started after they are set: its functions run as Sparkplug code from the first call', () => {
    expect(workerSparkplug(true)).toBe('true');
  });

  it('and without them a function called once is still interpreted (the probe tells the two apart)', () => {
    expect(workerSparkplug(false)).toBe('false');
  });
});
