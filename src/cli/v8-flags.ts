/**
 * V8 flags for serving, set before the server's modules load (so every function they hold is
 * compiled under them) and for the whole process: V8's flags are one set per process, so the
 * relay worker threads run under them too. Set here rather than on a `node` command line so
 * that every way of starting applies them: the bins, `npm start`, Docker's entrypoint, systemd.
 *
 * --always-sparkplug: compile each function to baseline machine code on its first call
 * instead of interpreting it until it is hot; a fresh server's first calls ran some 15-20%
 * less CPU (bench/allocate-steps.ts), for a little more code memory.
 * --no-lazy-feedback-allocation: a function gets its feedback vector (its inline caches) on
 * its first call rather than its ninth; what the start-up warm-up cannot reach (the socket
 * side of a request) then runs fast from the first client: its first 10 clients' setups took
 * 30.6-32.7 ms of CPU against 36.5-43.2 with the other flag alone, in three runs.
 */
import v8 from 'node:v8';

export const SERVING_V8_FLAGS = ['--always-sparkplug', '--no-lazy-feedback-allocation'] as const;

export function setServingV8Flags(): void {
  v8.setFlagsFromString(SERVING_V8_FLAGS.join(' '));
}
