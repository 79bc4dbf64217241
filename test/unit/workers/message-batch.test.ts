// A relay worker's messages to main that may wait go in batches (message-batch.ts): over a real
// MessageChannel, they arrive as one message, in order, behind nothing posted after them, and
// the ledger's server takes the grants and releases it finds in a batch.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { LedgerClient, LedgerServer, type LedgerPort } from '../../../src/turn/ledger-port.js';
import { MessageBatcher, forEachMessage } from '../../../src/workers/message-batch.js';
import { cleanupAfterEach } from '../../support/cleanups.js';

const cleanups = cleanupAfterEach();

function channel(): { worker: MessagePort; main: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  cleanups.push(() => (port1.close(), port2.close()));
  return { worker: port1, main: port2 };
}

/** The next `count` messages `port` receives, as posted (batches not unpacked). */
async function received(port: MessagePort, count: number): Promise<unknown[]> {
  const messages: unknown[] = [];
  while (messages.length < count) messages.push(((await once(port, 'message')) as unknown[])[0]);
  return messages;
}

describe('MessageBatcher', () => {
  it('sends what may wait as one message, in order, which forEachMessage hands on one by one', async () => {
    const { worker, main } = channel();
    const batcher = new MessageBatcher(worker, 5);
    for (const n of [1, 2, 3]) batcher.postLater({ n });
    const [posted] = await received(main, 1);
    const each: unknown[] = [];
    forEachMessage(posted, (message) => each.push(message));
    expect(each).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('sends a lone message as it is', async () => {
    const { worker, main } = channel();
    new MessageBatcher(worker, 5).postLater({ type: 'log' });
    expect(await received(main, 1)).toEqual([{ type: 'log' }]);
  });

  it('sends what waits before a message posted at once', async () => {
    const { worker, main } = channel();
    // A day: only the message posted at once can send the batch.
    const batcher = new MessageBatcher(worker, 86_400_000);
    batcher.postLater({ n: 1 });
    batcher.postLater({ n: 2 });
    batcher.postMessage({ n: 3 });
    const each: unknown[] = [];
    for (const posted of await received(main, 2)) forEachMessage(posted, (message) => each.push(message));
    expect(each).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });
});

describe('the ledger over a batching port', () => {
  it('records the grants and releases of a batch', async () => {
    const { worker, main } = channel();
    const server = new LedgerServer();
    server.attach(0, main);
    const batcher = new MessageBatcher(worker, 5);
    const port: LedgerPort = {
      postMessage: (message) => batcher.postMessage(message),
      postLater: (message) => batcher.postLater(message),
      on: (event, listener) => worker.on(event, listener),
      off: (event, listener) => worker.off(event, listener),
    };
    const client = new LedgerClient(port, { memory: server.memory, slot: 0 });
    cleanups.push(() => client.close());
    const unlimited = { user: 'alice', realm: 'test.example', bytesPerSecond: 0, userQuota: 0, totalQuota: 0, bpsCapacity: 0 };
    const answers = await Promise.all([client.reserve(unlimited), client.reserve(unlimited), client.reserve(unlimited)]);
    await expect.poll(() => server.leases).toBe(3);
    const first = answers[0]!;
    if (first.ok) client.release(first.lease);
    // A limited request is decided behind the release (posted at once, it sends the batch first).
    const limited = await client.reserve({ ...unlimited, userQuota: 3 });
    expect(limited.ok).toBe(true);
    expect(server.leases).toBe(3);
  });
});
