// Issue 14, item 3: the start-up warm-up is only worth its time if the code V8 optimised during
// it is still there for the server's first clients. V8's own trace says what it throws away:
// a child process warms up as the server does, then traces deoptimisations while it builds
// the server's node (as with one relay thread, and as a relay worker) and serves a health
// check's bare Binding and five call setups (test/support/first-clients-deopts.mjs).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { ROOT } from '../support/turnpike-process.js';

const CHILD = path.join(ROOT, 'test/support/first-clients-deopts.mjs');

/**
 * Functions of the request path V8 threw away at the first clients before the warm-up ran
 * like the server (their names as V8 prints them): the native batch handler (it had seen the
 * warm-up node's closures only), the key lookup (the warm-up user's shape), the answer's
 * signing (a request without FINGERPRINT), the relay port pool (a worker's slice),
 * authentication with a worker's keys (copies, another hidden class), and the reply budget
 * (every warm-up client came from 127.0.0.1: one source, never a new one).
 */
const REQUEST_PATH = ['onBatch', 'keysFor', 'lookupOf', 'seal', 'inSlice', 'fits', 'isFree', 'take', 'portAt', 'decide', 'computeIntegrity', 'hmacKey', 'earn', 'slotOf'];

/**
 * The trace's lines that name one of `names`: an eager bailout, or code marked for
 * deoptimisation because a field's type changed. Not a prototype chain that changed: that
 * marked `earn` in 2 of 6 runs, from something else in the process than the warm-up.
 */
function thrownAway(trace: string, names: readonly string[]): string[] {
  const named = new RegExp(`<(?:JSFunction|SharedFunctionInfo) (${names.join('|')})[ >]`);
  const thrown = (line: string) => line.includes('bailout (kind') || (line.includes('marking dependent code') && line.includes('field type'));
  return trace.split('\n').filter((line) => thrown(line) && named.test(line));
}

async function firstClients(mode: 'main' | 'worker'): Promise<string> {
  const port = await freeUdpTcpPort('127.0.0.1');
  const minPort = await freePortRange('127.0.0.1', 64);
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD, mode, String(port), String(minPort), String(minPort + 63)], { cwd: ROOT, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

describe('the warm-up leaves the request path optimised for the first clients', () => {
  it.each(['main', 'worker'] as const)('as the %s node: none of it is deoptimised, and every request succeeds', async (mode) => {
    const trace = await firstClients(mode);
    // One Binding; five calls of Allocate, CreatePermission, ChannelBind and Refresh.
    expect(trace).toContain('answered 1 20');
    expect(thrownAway(trace, REQUEST_PATH)).toEqual([]);
  }, 90_000);
});
