// tcpdump on loopback, for what the kernel really puts on the wire (IP header flags).
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess } from './processes.js';

export interface Capture {
  /**
   * Stops tcpdump (by its PID) and returns one header line per captured packet. With
   * `atLeast`, first waits (up to 3 s) until that many packets have been printed, so a
   * packet still on its way through tcpdump's pipe is not cut off by the stop.
   */
  stop(atLeast?: number): Promise<string[]>;
}

const SETTLE_LIMIT_MS = 3000;

/** Captures on `lo` with a tcpdump filter expression; resolves once tcpdump is listening. */
export async function captureOnLoopback(filter: string): Promise<Capture> {
  // -l: line-buffered into the pipe; -n: no name lookups; -v: the IP header flags;
  // --immediate-mode: each packet is handed over at once, not held in a kernel ring block
  // for up to a second (the stop would lose those).
  const proc = startProcess('tcpdump', ['-i', 'lo', '-l', '-n', '-v', '--immediate-mode', filter]);
  await proc.waitForOutput(/listening on lo/, 5000);
  const packetLines = (): string[] =>
    proc.stdout.split('\n').filter((line) => / IP6? \(/.test(line) || /^\S+ IP6? /.test(line));
  return {
    async stop(atLeast = 0) {
      const deadline = Date.now() + SETTLE_LIMIT_MS;
      while (packetLines().length < atLeast && Date.now() < deadline) await sleep(50);
      await proc.stop();
      return packetLines();
    },
  };
}
