// Turnpike as users run it: the built CLI (`dist/cli/turnpike.js`) in its own process.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, waitForUdpStun, waitUntilReady, type ProcessHandle } from './processes.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TURNPIKE_CLI = path.join(ROOT, 'dist/cli/turnpike.js');

export interface TurnpikeHandle {
  pid: number;
  host: string;
  port: number;
  proc: ProcessHandle;
  stop(): Promise<unknown>;
}

/** Starts `turnpike serve ARGS` and waits until it answers STUN on host:port. */
export async function startTurnpike(args: string[], host: string, port: number): Promise<TurnpikeHandle> {
  if (!fs.existsSync(TURNPIKE_CLI)) throw new Error(`${TURNPIKE_CLI} not found (build Turnpike: npm run build)`);
  const proc = startProcess(process.execPath, [TURNPIKE_CLI, 'serve', ...args], { cwd: ROOT });
  await waitUntilReady(proc, waitForUdpStun(host, port, 10_000), 'turnpike');
  return { pid: proc.pid, host, port, proc, stop: () => proc.stop() };
}
