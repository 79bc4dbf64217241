/**
 * `daemon` (-o), for init scripts that expect the command to return once the server runs:
 * the command starts itself again, detached from the terminal, and returns 0 when that copy
 * serves, or the copy's exit status when it cannot start (a port taken, a bad certificate).
 * Under systemd or Docker leave it off: they want the server in the foreground.
 */
import { spawn } from 'node:child_process';
import { standardError, standardOutput } from '../log/standard-streams.js';

/** Marks the detached copy, which must serve rather than start yet another. */
const CHILD_MARK = 'TURNPIKE_DAEMON_CHILD';
const READY = 'turnpike-daemon-ready';

export function isDaemonChild(): boolean {
  return process.env[CHILD_MARK] === '1';
}

/** Runs this command again, detached, and waits until it serves or exits. */
export function startDaemon(): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    env: { ...process.env, [CHILD_MARK]: '1' },
  });
  return new Promise((resolve) => {
    child.once('message', (message) => {
      if (message !== READY) return;
      standardOutput.write(`turnpike: serving in the background, pid ${child.pid}\n`);
      child.disconnect();
      child.unref();
      resolve(0);
    });
    child.once('exit', (code, signal) => {
      standardError.write(`turnpike: the background server stopped before serving (${signal ?? `exit ${code}`}); see its log\n`);
      resolve(code ?? 1);
    });
    child.once('error', (error) => {
      standardError.write(`turnpike: cannot start the background server: ${error.message}\n`);
      resolve(1);
    });
  });
}

/** In the detached copy: tell the waiting command that the server serves, and let it go. */
export function reportDaemonReady(): void {
  if (!isDaemonChild() || !process.send) return;
  process.send(READY, () => process.disconnect());
}
