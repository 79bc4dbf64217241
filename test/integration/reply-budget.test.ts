// No reflection amplification over UDP: a spoofed source is never sent more than it sent plus
// the advance, while the first Allocates of a call are answered at once. Every wait here is
// for a count (each request answered or withheld), never for a stretch of time.
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import type { TurnServer } from '../../src/server.js';
import type { ServerOptions } from '../../src/config/server-options.js';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage, readErrorCode } from '../../src/stun/index.js';
import { ALICE } from '../support/server-options.js';
import { StreamTestClient } from '../support/stream-client.js';
import { UdpTestClient } from '../support/turn-client.js';
import { Arrival } from '../support/arrival.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { REPLY_BUDGET_DEFAULTS } from '../../src/turn/reply-budget.js';

const cleanups = cleanupAfterEach();

const startServer = (overrides: Partial<ServerOptions> = {}): Promise<TurnServer> => startInProcessServer(cleanups, overrides);

/** The smallest Allocate there is: a header and REQUESTED-TRANSPORT, 28 bytes. */
function minimalAllocate(): MessageBuilder {
  return new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17);
}
const MINIMAL = 28;
/** How far the answers to one source may run ahead of its requests. */
const ADVANCE = REPLY_BUDGET_DEFAULTS.advanceBytes;

const codeOf = (answer: Buffer) => readErrorCode(decodeMessage(answer), AttributeType.ErrorCode)?.code;

/**
 * Bare UDP sockets on 127.0.0.1 (one source address to the server, whatever their ports),
 * what they send and what comes back to them.
 */
class Source {
  readonly answers: Buffer[] = [];
  bytesSent = 0;
  private readonly arrival = new Arrival();

  constructor(private readonly server: TurnServer) {}

  get bytesBack(): number {
    return this.answers.reduce((n, a) => n + a.length, 0);
  }

  /** A socket of this source; the function sends a datagram from it to the server. */
  async open(): Promise<(data: Buffer) => void> {
    const socket = createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    socket.on('message', (data) => {
      this.answers.push(data);
      this.arrival.notify();
    });
    const { address, port } = this.server.udpAddresses[0]!;
    return (data) => {
      socket.send(data, port, address);
      this.bytesSent += data.length;
    };
  }

  /** Waits until the server has dealt with `requests` requests in all, each answered or withheld. */
  async handled(requests: number): Promise<void> {
    const dealtWith = () => this.answers.length + this.server.engine.counters.repliesWithheld;
    // An answer wakes the wait; a withheld one only shows in the counter, so look at it often too.
    const look = setInterval(() => this.arrival.notify(), 5);
    try {
      await this.arrival.until(() => dealtWith() >= requests, 5000, `the server dealt with ${dealtWith()} of ${requests} requests`);
    } finally {
      clearInterval(look);
    }
  }
}

describe('reply budget over plain UDP', () => {
  it('answers a fresh source’s first minimal Allocate with its 401 at once: one send, one 401', async () => {
    const server = await startServer();
    const source = new Source(server);
    const send = await source.open();
    send(minimalAllocate().build());
    await source.handled(1);
    expect(server.engine.counters.repliesWithheld).toBe(0);
    expect(source.answers.map(codeOf)).toEqual([401]);
  });

  it('sends back at most the bytes received plus the advance over 200 minimal Allocates from one source', async () => {
    const server = await startServer();
    const source = new Source(server);
    const send = await source.open();
    for (let i = 0; i < 200; i++) {
      const request = minimalAllocate().build();
      expect(request.length).toBe(MINIMAL);
      send(request);
    }
    await source.handled(200);

    expect(source.bytesBack).toBeLessThanOrEqual(source.bytesSent + ADVANCE);
    // What the product promises a spoofed source: at most 1.05 times what it sent over such a burst.
    expect(source.bytesBack).toBeLessThanOrEqual(1.05 * source.bytesSent);
    // Not silence: what was earned was spent on real challenges.
    const challenge = source.answers[0]!.length;
    expect(source.bytesBack).toBeGreaterThan(source.bytesSent - challenge);
    for (const answer of source.answers) expect(codeOf(answer)).toBe(401);
  });

  it('answers the first Allocates of both peers of a call, two sockets each, from one address at once', async () => {
    const server = await startServer();
    const source = new Source(server);
    const sockets = [await source.open(), await source.open(), await source.open(), await source.open()];
    // With FINGERPRINT, as libdatachannel sends them: each Allocate pays for half of its 401,
    // so the second client's pays back the first one's advance before it needs one itself.
    for (const send of sockets) send(minimalAllocate().build({ fingerprint: true }));
    await source.handled(sockets.length);
    expect(server.engine.counters.repliesWithheld).toBe(0);
    expect(source.answers.map(codeOf)).toEqual([401, 401, 401, 401]);
  });

  it('answers clients at one address at once until it owes the advance; the next gets its 401 on a retransmission', async () => {
    const server = await startServer();
    const source = new Source(server);
    // New clients at the address, one Allocate each, until one is held back (at most 20).
    let send: (data: Buffer) => void;
    let request: Buffer;
    let clients = 0;
    do {
      send = await source.open();
      request = minimalAllocate().build();
      send(request);
      clients++;
      await source.handled(clients);
    } while (server.engine.counters.repliesWithheld === 0 && clients < 20);
    const atOnce = source.answers.length;
    const challenge = source.answers[0]!.length;
    // As many as the advance covers, each 401 that much larger than its Allocate.
    expect(atOnce).toBe(Math.floor(ADVANCE / (challenge - MINIMAL)));
    // Four, as SECURITY.md promises: both peers of a call, two sockets each (the advance is
    // held to 256 bytes so that a burst of 200 gets back at most 1.05 times what it sent).
    expect(atOnce).toBe(4);

    // The last client retransmits its request, as clients do, until it is answered (at most
    // 10 sends in all).
    let sends = 1;
    while (source.answers.length === atOnce && sends < 10) {
      send(request);
      sends++;
      await source.handled(clients + sends - 1);
    }
    expect(source.answers.map(codeOf)).toEqual(Array(atOnce + 1).fill(401));
    expect(sends).toBeGreaterThan(1);
    expect(source.bytesBack).toBeLessThanOrEqual(source.bytesSent + ADVANCE);
  });

  it('charges the answer to a retransmitted unsigned Allocate too (no-auth: every answer is unsigned)', async () => {
    const server = await startServer({ noAuth: true, ltCredMech: false, users: [] });
    const source = new Source(server);
    const send = await source.open();
    const request = minimalAllocate().build();
    send(request);
    // The allocation is made before its answer is sent or withheld.
    await source.handled(1);
    expect(server.engine.allocations.size).toBe(1);
    for (let i = 1; i < 50; i++) send(request);
    await source.handled(50);

    expect(server.engine.allocations.size).toBe(1);
    expect(source.bytesBack).toBeLessThanOrEqual(source.bytesSent + ADVANCE);
    // Not every retransmission is answered: they pay for their answers.
    expect(server.engine.counters.repliesWithheld).toBeGreaterThan(0);
    expect(source.answers.length).toBeGreaterThan(1);
  });

  it('keeps challenges small: no SOFTWARE, no reason phrase, a short nonce', async () => {
    const server = await startServer();
    const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
    cleanups.push(() => client.close());
    const response = await client.transact(minimalAllocate(), undefined, 2000);
    expect(response.attributes.has(AttributeType.Software)).toBe(false);
    expect(readErrorCode(response, AttributeType.ErrorCode)?.reason).toBe('');
    // Header, ERROR-CODE, REALM (test.example), NONCE (RFC 8489's 13-character cookie and 19
    // characters of time and HMAC) and PASSWORD-ALGORITHMS (SHA-256, MD5): 20 + 8 + 16 + 36 + 12 bytes.
    expect(response.buffer.length).toBe(92);
  });

  it('answers every request with no-reply-budget, the operator’s choice of speed over reflection safety', async () => {
    const server = await startServer({ noReplyBudget: true });
    const source = new Source(server);
    const send = await source.open();
    for (let i = 0; i < 200; i++) send(minimalAllocate().build());
    await source.handled(200);
    expect(server.engine.counters.repliesWithheld).toBe(0);
    expect(source.answers).toHaveLength(200);
  });

  it('does not hold back a challenge over TCP, whose handshake proved the address', async () => {
    const server = await startServer({ noTcp: false });
    const client = await StreamTestClient.open(server.streamAddresses[0]!, { credentials: ALICE });
    cleanups.push(() => void client.socket.destroy());
    // More than any advance covers: over UDP most of these would be withheld.
    for (let i = 0; i < 10; i++) client.socket.write(minimalAllocate().build());
    for (let i = 0; i < 10; i++) {
      const response = await client.nextMessage(2000);
      expect(readErrorCode(response, AttributeType.ErrorCode)?.code).toBe(401);
    }
    expect(server.engine.counters.repliesWithheld).toBe(0);
  });
});
