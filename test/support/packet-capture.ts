// tcpdump on loopback, for what the kernel really puts on the wire (IP header flags).
import { startProcess } from './processes.js';

export interface Capture {
  /** Stops tcpdump (by its PID) and returns one header line per captured packet. */
  stop(): Promise<string[]>;
}

/** Captures on `lo` with a tcpdump filter expression; resolves once tcpdump is listening. */
export async function captureOnLoopback(filter: string): Promise<Capture> {
  // -l: line-buffered into the pipe; -n: no name lookups; -v: the IP header flags.
  const proc = startProcess('tcpdump', ['-i', 'lo', '-l', '-n', '-v', filter]);
  await proc.waitForOutput(/listening on lo/, 5000);
  return {
    async stop() {
      await proc.stop();
      return proc.stdout.split('\n').filter((line) => / IP6? \(/.test(line) || /^\S+ IP6? /.test(line));
    },
  };
}
