/**
 * How every command ends: with its exit status, once what it wrote has left the process.
 * Into a pipe (systemd's journal, `docker logs`, a supervisor, `| less`) Node writes stdout
 * and stderr asynchronously: what the pipe cannot take yet waits in the process, and
 * process.exit() drops it. A stopping server's last lines are exactly those, each allocation's
 * `ended` line among them: its users' accounting. So the exit waits for them, as coturn's
 * blocking writes do, however slowly the reader reads (a reader that has gone makes the write
 * fail with EPIPE at once: the stream is dropped and nothing is waited for then).
 */
import { standardError, standardOutput } from '../log/standard-streams.js';

export async function exitWhenWritten(code: number): Promise<never> {
  await Promise.all([standardOutput.written(), standardError.written()]);
  process.exit(code);
}

/** Runs a command to its exit status; a throw is printed (as `command: stack`) and exits 1. */
export function runToExit(command: string, run: Promise<number>): void {
  run.then(exitWhenWritten, (error: unknown) => {
    standardError.write(`${command}: ${error instanceof Error ? error.stack : String(error)}\n`);
    return exitWhenWritten(1);
  });
}
