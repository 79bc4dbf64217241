// relayThreads > 1 and the reply budget: the kernel spreads one source's ports over the
// workers, and each worker answers only out of what its own sockets received, but the advance
// (256 bytes a minute a source) comes from one ledger in shared memory, so a spoofer reaching
// N workers gets one advance, not N. Workers run from dist/ (built by pretest).
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import type { MetricsOptions } from '../../src/config/server-options.js';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage, readErrorCode } from '../../src/stun/index.js';
import { REPLY_BUDGET_DEFAULTS } from '../../src/turn/reply-budget.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { relayThreadHelpers } from '../support/relay-threads.js';
import { valueOf } from '../unit/metrics/exposition.js';

const cleanups = cleanupAfterEach();
const { startThreaded } = relayThreadHelpers(cleanups);

const METRICS: MetricsOptions = { address: '127.0.0.1', port: 0, path: '/metrics', usernameLabels: false };
/** One source address (any 127.0.0.x reaches the server on 127.0.0.1), many ports. */
const SOURCE = '127.0.0.2';
/** Enough ports that both workers get well over the advance's worth of them. */
const PORTS = 120;

/** `count` sockets on `source`, each with its send to the server's UDP listener; every answer lands in `answers`. */
async function socketsAt(server: { udpAddresses: readonly { address: string; port: number }[] }, source: string, count: number, answers: Buffer[]) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const socket = createSocket('udp4');
      cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
      await new Promise<void>((r) => socket.bind(0, source, r));
      socket.on('message', (data) => answers.push(data));
      return (data: Buffer) => socket.send(data, server.udpAddresses[0]!.port, server.udpAddresses[0]!.address);
    }),
  );
}

/** The smallest Allocate there is (28 bytes), unsigned: each answer is a 401. */
const request = () => new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17).build();

describe('relayThreads 2: reply budget', () => {
  it('sends a source whose ports reach both workers at most what it sent plus one advance', async () => {
    const server = await startThreaded({ metrics: METRICS });
    const answers: Buffer[] = [];
    const sends = await socketsAt(server, SOURCE, PORTS, answers);
    let bytesSent = 0;
    for (const send of sends) {
      const datagram = request();
      send(datagram);
      bytesSent += datagram.length;
    }
    // Every request answered or withheld: the workers' withheld counts come summed in /metrics.
    const withheld = async () => valueOf(await (await fetch(server.metrics!.endpoint!.url)).text(), 'turnpike_replies_withheld_total') ?? 0;
    await expect.poll(async () => answers.length + (await withheld()), { timeout: 5000 }).toBe(PORTS);

    const bytesBack = answers.reduce((n, a) => n + a.length, 0);
    expect(bytesBack).toBeLessThanOrEqual(bytesSent + REPLY_BUDGET_DEFAULTS.advanceBytes);
    // Not silence: what the source sent was spent on its challenges.
    expect(bytesBack).toBeGreaterThan(bytesSent - 2 * answers[0]!.length);
    for (const answer of answers) expect(readErrorCode(decodeMessage(answer), AttributeType.ErrorCode)?.code).toBe(401);
  });

  it('challenges a call’s first Allocates at once, whichever worker each socket reaches', async () => {
    const server = await startThreaded();
    const answers: Buffer[] = [];
    // Four calls from four addresses: both peers, two sockets each, one Allocate a socket, no
    // retransmission. Four 401s fit in an address's advance (four 92-byte 401s to 28-byte
    // Allocates); that all four sockets of every call hash to one worker, which passed when each
    // worker had an advance of its own, is a chance of 1 in 8⁴.
    const calls = await Promise.all(['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'].map((source) => socketsAt(server, source, 4, answers)));
    for (const send of calls.flat()) send(request());
    await expect.poll(() => answers.length, { timeout: 5000 }).toBe(16);
    for (const answer of answers) expect(readErrorCode(decodeMessage(answer), AttributeType.ErrorCode)?.code).toBe(401);
  });
});
