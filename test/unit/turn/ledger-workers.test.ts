// The allocation ledger across relay workers: real worker threads reserve through a
// LedgerClient on a MessagePort; the one LedgerServer in this (main) thread must keep
// user-quota, total-quota and bps-capacity exact whatever the workers ask at once, and give
// back a dead worker's leases.
import { MessageChannel, Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { LeaseRequest, LedgerAnswer } from '../../../src/turn/ledger.js';
import { LedgerClient, LedgerServer } from '../../../src/turn/ledger-port.js';
import { cleanupAfterEach } from '../../support/cleanups.js';

const cleanups = cleanupAfterEach();
const WORKER_SCRIPT = new URL('../../support/ledger-worker.mjs', import.meta.url);

const request = (overrides: Partial<LeaseRequest> = {}): LeaseRequest => ({
  user: 'alice',
  realm: 'test.example',
  bytesPerSecond: 0,
  userQuota: 0,
  totalQuota: 0,
  bpsCapacity: 0,
  ...overrides,
});

interface LedgerWorker {
  readonly thread: Worker;
  /** Attaches its port to the server now (for a worker started with attach: false). */
  attach(): void;
  reserve(requests: LeaseRequest[]): Promise<LedgerAnswer[]>;
  release(): Promise<void>;
}

/**
 * A worker thread attached to `server` as `workerId`, ready to reserve. `grantsItself`: it
 * grants unlimited reservations itself, as relay workers do. `attach: false`: its messages wait
 * in its port until attach(), as if still on their way.
 */
async function startWorker(server: LedgerServer, workerId: number, { grantsItself = false, attach = true } = {}): Promise<LedgerWorker> {
  const { port1, port2 } = new MessageChannel();
  if (attach) server.attach(workerId, port1);
  const unrecorded = grantsItself ? { memory: server.memory, slot: workerId } : undefined;
  const thread = new Worker(WORKER_SCRIPT, { workerData: { port: port2, unrecorded }, transferList: [port2] });
  cleanups.push(async () => {
    port1.close();
    await thread.terminate();
  });
  const next = async (type: string): Promise<{ answers: LedgerAnswer[] }> => {
    for (;;) {
      const [message] = (await once(thread, 'message')) as [{ type: string; answers: LedgerAnswer[] }];
      if (message.type === type) return message;
    }
  };
  await next('ready');
  return {
    thread,
    attach: () => server.attach(workerId, port1),
    reserve: async (requests) => {
      const answered = next('answers');
      thread.postMessage({ type: 'reserve', requests });
      return (await answered).answers;
    },
    release: async () => {
      const released = next('released');
      thread.postMessage({ type: 'release' });
      await released;
    },
  };
}

/** Both workers ask at the same moment; the answers of both, in one list. */
async function bothReserve(a: LedgerWorker, b: LedgerWorker, requests: LeaseRequest[]): Promise<LedgerAnswer[]> {
  const [fromA, fromB] = await Promise.all([a.reserve(requests), b.reserve(requests)]);
  return [...fromA, ...fromB];
}

const granted = (answers: LedgerAnswer[]) => answers.filter((a) => a.ok);
const refusals = (answers: LedgerAnswer[]) => answers.flatMap((a) => (a.ok ? [] : [a.refusal]));

describe('allocation ledger across worker threads', () => {
  it('user-quota 2: of 3 + 3 reservations for one user from two workers, exactly 2 are granted', async () => {
    const server = new LedgerServer();
    const [a, b] = await Promise.all([startWorker(server, 1), startWorker(server, 2)]);
    const answers = await bothReserve(a, b, Array(3).fill(request({ userQuota: 2 })));
    expect(granted(answers)).toHaveLength(2);
    expect(refusals(answers)).toEqual(Array(4).fill('user-quota'));
    expect(server.leases).toBe(2);
    // Another user is not counted against alice's quota.
    expect(granted(await a.reserve([request({ user: 'bob', userQuota: 2 })]))).toHaveLength(1);
  });

  it('total-quota 3: of 3 + 3 reservations for different users, exactly 3 are granted, with ids unique across workers', async () => {
    const server = new LedgerServer();
    const [a, b] = await Promise.all([startWorker(server, 1), startWorker(server, 2)]);
    const answers = await bothReserve(a, b, ['u1', 'u2', 'u3'].map((user) => request({ user, totalQuota: 3 })));
    const leases = granted(answers).map((a) => (a.ok ? a.lease.id : 0));
    expect(leases).toHaveLength(3);
    expect(new Set(leases).size).toBe(3);
    expect(refusals(answers)).toEqual(Array(3).fill('total-quota'));
  });

  it('bps-capacity 2500 B/s: of 3 + 3 allocations of 1000 B/s, exactly 2 are granted; released, they make room again', async () => {
    const server = new LedgerServer();
    const [a, b] = await Promise.all([startWorker(server, 1), startWorker(server, 2)]);
    const asked = Array(3).fill(request({ bytesPerSecond: 1000, bpsCapacity: 2500 }));
    const answers = await bothReserve(a, b, asked);
    expect(granted(answers)).toHaveLength(2);
    expect(refusals(answers)).toEqual(Array(4).fill('bps-capacity'));
    await Promise.all([a.release(), b.release()]);
    expect(granted(await bothReserve(a, b, asked))).toHaveLength(2);
  });

  it("a dead worker's leases are given back by releaseAllOf", async () => {
    const server = new LedgerServer();
    const [a, b] = await Promise.all([startWorker(server, 1), startWorker(server, 2)]);
    const quota = request({ userQuota: 2 });
    expect(granted(await a.reserve([quota, quota]))).toHaveLength(2);
    expect(refusals(await b.reserve([quota]))).toEqual(['user-quota']);
    await a.thread.terminate();
    expect(server.releaseAllOf(1)).toBe(2);
    expect(server.leases).toBe(0);
    expect(granted(await b.reserve([quota, quota]))).toHaveLength(2);
    // A replacement may take the dead worker's number.
    const replacement = await startWorker(server, 1);
    expect(refusals(await replacement.reserve([quota]))).toEqual(['user-quota']);
  });

  it('a reservation still on its way from a worker given up for dead takes no lease', async () => {
    const server = new LedgerServer();
    const { port1, port2 } = new MessageChannel();
    cleanups.push(() => {
      port1.close();
      port2.close();
    });
    server.attach(1, port1);
    const client = new LedgerClient(port2);
    const reserved = client.reserve(request({ userQuota: 1 }));
    server.releaseAllOf(1); // before the message is delivered
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.leases).toBe(0);
    client.close();
    await expect(reserved).rejects.toThrow('allocation ledger closed');
  });

  it('an unlimited reservation is granted by the worker at once, without an answer from the main thread, and counted once its message arrives', async () => {
    const server = new LedgerServer();
    const a = await startWorker(server, 1, { grantsItself: true, attach: false });
    // Nobody reads the port yet: before, these waited for the server's answers for ever.
    const answers = await a.reserve(Array(3).fill(request()));
    expect(granted(answers)).toHaveLength(3);
    expect(server.leases).toBe(0);
    a.attach();
    expect(await leasesOnceDelivered(server, 3)).toBe(3);
    await a.release();
    expect(await leasesOnceDelivered(server, 0)).toBe(0);
  });

  it('a grant and its release made in one turn reach the main thread in that order: no lease is left held', async () => {
    const server = new LedgerServer();
    const { port1, port2 } = new MessageChannel();
    cleanups.push(() => port1.close());
    server.attach(1, port1);
    const client = new LedgerClient(port2, { memory: server.memory, slot: 1 });
    const answer = await client.reserve(request());
    if (!answer.ok) throw new Error('an unlimited reservation was refused');
    client.release(answer.lease);
    // Decided once both are recorded: a release the server had before its grant would leave the lease held.
    expect(granted([await client.reserve(request({ totalQuota: 1 }))])).toHaveLength(1);
    expect(server.leases).toBe(1);
    client.close();
  });

  it("total-quota 2: a limited reservation waits for the grants another worker made before it, and is refused", async () => {
    const server = new LedgerServer();
    // A's two grants are on their way (its port not read yet) when B asks under a limit.
    const a = await startWorker(server, 1, { grantsItself: true, attach: false });
    const b = await startWorker(server, 2, { grantsItself: true });
    expect(granted(await a.reserve([request(), request()]))).toHaveLength(2);
    const limited = b.reserve([request({ user: 'bob', totalQuota: 2 })]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.leases).toBe(0);
    a.attach();
    expect(refusals(await limited)).toEqual(['total-quota']);
    expect(server.leases).toBe(2);
  });

  it('a worker given up for dead with grants on their way holds up no limited reservation', async () => {
    const server = new LedgerServer();
    const a = await startWorker(server, 1, { grantsItself: true, attach: false });
    const b = await startWorker(server, 2);
    expect(granted(await a.reserve([request()]))).toHaveLength(1);
    const limited = b.reserve([request({ totalQuota: 1 })]);
    await a.thread.terminate();
    server.releaseAllOf(1);
    expect(granted(await limited)).toHaveLength(1);
  });
});

/** The leases the server holds once the workers' messages have arrived (or 2 s have passed). */
async function leasesOnceDelivered(server: LedgerServer, expected: number): Promise<number> {
  for (let i = 0; i < 400 && server.leases !== expected; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  return server.leases;
}
