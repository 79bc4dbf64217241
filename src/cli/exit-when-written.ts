/**
 * How every command ends: with its exit status, once what it wrote has left the process.
 * Into a pipe (systemd's journal, `docker logs`, a supervisor, `| less`) Node writes stdout
 * and stderr asynchronously: what the pipe cannot take yet waits in the process, and
 * process.exit() drops it. A stopping server's last lines are exactly those, each allocation's
 * `ended` line among them: its users' accounting. So the exit waits for them, as coturn's
 * blocking writes do, however slowly the reader reads (a reader that has gone makes the write
 * fail with EPIPE at once: nothing is waited for then).
 */

/** Resolves once everything written to `stream` so far is written (or has failed). */
function written(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  // Writes complete in order: an empty one's callback runs once those queued before it have.
  return new Promise((resolve) => stream.write('', () => resolve()));
}

export async function exitWhenWritten(code: number): Promise<never> {
  await Promise.all([written(process.stdout), written(process.stderr)]);
  process.exit(code);
}

/** Runs a command to its exit status; a throw is printed (as `command: stack`) and exits 1. */
export function runToExit(command: string, run: Promise<number>): void {
  run.then(exitWhenWritten, (error: unknown) => {
    process.stderr.write(`${command}: ${error instanceof Error ? error.stack : String(error)}\n`);
    return exitWhenWritten(1);
  });
}
