// The main thread's handle on a relay worker, with a real thread running a small script in
// place of a relay worker: what main does when a worker crashes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerStart } from '../../../src/workers/messages.js';
import { WorkerHandle } from '../../../src/workers/worker-handle.js';
import { recordingLogger } from '../../support/recording-logger.js';

/** Listens, then throws (uncaught) when asked for its allocations. */
const CRASHING_WORKER = `
import { parentPort } from 'node:worker_threads';
parentPort.postMessage({ type: 'listening', ports: [], udpAddresses: [], streamAddresses: [] });
parentPort.on('message', (message) => {
  if (message.type === 'count-allocations') throw new Error('boom in the worker');
});
`;

const folders: string[] = [];
afterEach(() => folders.splice(0).forEach((f) => rmSync(f, { recursive: true, force: true })));

function script(text: string): URL {
  const folder = mkdtempSync(join(tmpdir(), 'worker-handle-'));
  folders.push(folder);
  writeFileSync(join(folder, 'worker.mjs'), text);
  return pathToFileURL(join(folder, 'worker.mjs'));
}

describe('a relay worker that crashes', () => {
  it('is logged with its error and its exit, and counts as holding no allocation', async () => {
    const { logger, lines } = recordingLogger();
    const handle = new WorkerHandle(3, {} as WorkerStart, logger, script(CRASHING_WORKER));
    await handle.started;
    expect(await handle.countAllocations()).toBe(0);
    await handle.exited;
    expect(lines.some((l) => l.startsWith('error relay worker 3 failed: Error: boom in the worker'))).toBe(true);
    expect(lines).toContain('error relay worker 3 exited (code 1); the clients it served lost their allocations');
    expect(await handle.countAllocations()).toBe(0);
    await handle.close(); // nothing left to stop
  });
});
