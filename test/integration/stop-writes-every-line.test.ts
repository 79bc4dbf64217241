// A SIGTERM'd Turnpike writes every allocation's `ended` line (its users' accounting) to stdout
// before it exits, however slowly the pipe is read: journald, `docker logs` and supervisors
// read it when they get a CPU. Node writes into a pipe asynchronously and process.exit() used
// to drop what the pipe could not take yet (a bench once counted 78 of 400 lines missing).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readLog, waitForLine } from '../support/log-lines.js';
import { freePortRange, freeUdpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { UdpTestClient } from '../support/turn-client.js';
import { startTurnpike, type TurnpikeHandle } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
// A long user name makes each `ended` line about 600 B, so that these allocations' lines
// (some 300 KB) outgrow what the pipe (64 KiB) and our paused reader's buffer hold.
const USER = `u${'x'.repeat(399)}`;
const ALLOCATIONS = 500;
const ENDED_AT_STOP = /allocation \d+ ended \(server stopping\)/g;

const dirs: string[] = [];
const afterEachClose: UdpTestClient[] = [];
afterEach(async () => {
  await stopAllProcesses();
  await Promise.all(afterEachClose.splice(0).map((c) => c.close()));
});
afterAll(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** `count` allocations, each from its own client (kept open: a closed one's port may come back to the next). */
async function allocate(server: { address: string; port: number }, count: number): Promise<UdpTestClient[]> {
  const clients: UdpTestClient[] = [];
  for (let done = 0; done < count; done += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, count - done) }, () => UdpTestClient.open(server, { username: USER, password: 'secret' })));
    clients.push(...batch);
    await Promise.all(batch.map((c) => c.allocateRelay()));
  }
  return clients;
}

/** A server with ALLOCATIONS allocations, logging to stdout and to a file (written synchronously: says when it has stopped). */
async function serverWithAllocations(threads: number): Promise<{ server: TurnpikeHandle; log: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turnpike-stop-lines-'));
  dirs.push(dir);
  const log = path.join(dir, 'turn.log');
  const port = await freeUdpPort(HOST);
  const minPort = await freePortRange(HOST, ALLOCATIONS + 50);
  const server = await startTurnpike([
    '-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
    '--min-port', String(minPort), '--max-port', String(minPort + ALLOCATIONS + 49), '--relay-threads', String(threads),
    '--lt-cred-mech', '--user', `${USER}:secret`, '--realm', 'stop.example', '--no-tcp', '--no-tls', '--no-dtls',
    '--log-file', log, '--simple-log',
  ], HOST, port);
  if (threads > 1) await server.proc.waitForOutput(/relaying with \d+ worker threads/, 10_000);
  afterEachClose.push(...(await allocate({ address: HOST, port }, ALLOCATIONS)));
  return { server, log };
}

describe.each([1, 2])('SIGTERM with relay-threads %i', (threads) => {
  it(`writes all ${ALLOCATIONS} ended lines and "stopped" to a slowly read stdout before it exits`, async () => {
    const { server, log } = await serverWithAllocations(threads);

    // A reader that reads nothing while the server stops, then everything.
    server.proc.child.stdout!.pause();
    process.kill(server.pid, 'SIGTERM');
    await waitForLine(log, /\bstopped\n/);
    server.proc.child.stdout!.resume();
    const exit = await server.proc.exited;

    expect(exit).toEqual({ code: 0, signal: null });
    expect(readLog(log).match(ENDED_AT_STOP)).toHaveLength(ALLOCATIONS);
    expect(server.proc.stdout.match(ENDED_AT_STOP)?.length ?? 0).toBe(ALLOCATIONS);
    expect(server.proc.stdout).toMatch(/\bstopped\n$/);
  });
});

describe('SIGTERM, then the reader of stdout goes away', () => {
  it('exits 0 instead of waiting for it, its log file complete', async () => {
    const { server, log } = await serverWithAllocations(1);
    server.proc.child.stdout!.pause();
    process.kill(server.pid, 'SIGTERM');
    await waitForLine(log, /\bstopped\n/);
    // The ended lines outgrow the pipe: the exit is waiting for the reader...
    expect(server.proc.exitInfo).toBeNull();
    // ...which leaves instead: what waits fails with EPIPE, and nothing is left to wait for.
    server.proc.child.stdout!.destroy();
    expect(await server.proc.exited).toEqual({ code: 0, signal: null });
    expect(readLog(log).match(ENDED_AT_STOP)).toHaveLength(ALLOCATIONS);
  });
});
