// No reflection amplification over UDP: a spoofed source is never sent more than it sent,
// while a real client that retransmits as RFC 8489 says still gets its challenge.
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

const cleanups = cleanupAfterEach();

const startServer = (overrides: Partial<ServerOptions> = {}): Promise<TurnServer> => startInProcessServer(cleanups, overrides);

/** The smallest Allocate there is: a header and REQUESTED-TRANSPORT, 28 bytes. */
function minimalAllocate(): MessageBuilder {
  return new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17);
}

describe('reply budget over plain UDP', () => {
  it('sends back at most the bytes received over 200 minimal unauthenticated Allocates from one source', async () => {
    const server = await startServer();
    const { address, port } = server.udpAddresses[0]!;
    const socket = createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const answers: Buffer[] = [];
    const arrival = new Arrival();
    socket.on('message', (data) => {
      answers.push(data);
      arrival.notify();
    });

    let sent = 0;
    for (let i = 0; i < 200; i++) {
      const request = minimalAllocate().build();
      expect(request.length).toBe(28);
      socket.send(request, port, address);
      sent += request.length;
    }
    // Every request has been read once the server has counted them all as answered or withheld.
    await arrival.until(() => answers.length + server.engine.counters.repliesWithheld >= 200, 5000, 'server did not see all 200 requests');

    const received = answers.reduce((n, a) => n + a.length, 0);
    expect(received).toBeLessThanOrEqual(sent);
    // Not silence: what was earned was spent on real challenges.
    const challengeSize = answers[0]!.length;
    expect(received).toBeGreaterThan(sent - challengeSize);
    for (const answer of answers) expect(readErrorCode(decodeMessage(answer), AttributeType.ErrorCode)?.code).toBe(401);
  });

  it('still answers a client that retransmits at the RFC intervals with a 401 within 2 s', async () => {
    const server = await startServer();
    const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
    cleanups.push(() => client.close());
    const builder = minimalAllocate();
    const response = await client.transact(builder, builder.build(), 2000);
    expect(readErrorCode(response, AttributeType.ErrorCode)?.code).toBe(401);
    // It took retransmissions: the first 28 bytes did not pay for the challenge.
    expect(server.engine.counters.repliesWithheld).toBeGreaterThan(0);
    // And the client goes on to allocate.
    const allocated = await client.allocate();
    expect(allocated.cls).toBe(StunClass.SuccessResponse);
  });

  it('charges the answer to a retransmitted unsigned Allocate too (no-auth: every answer is unsigned)', async () => {
    const server = await startServer({ noAuth: true, ltCredMech: false, users: [] });
    const { address, port } = server.udpAddresses[0]!;
    const socket = createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    let received = 0;
    socket.on('message', (data) => (received += data.length));
    const request = minimalAllocate().build();
    for (let i = 0; i < 50; i++) {
      socket.send(request, port, address);
      // Paced, so that the first Allocate has made its allocation before the retransmissions.
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(server.engine.allocations.size).toBe(1);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(50 * request.length);
  });

  it('keeps challenges small: no SOFTWARE, no reason phrase, a short nonce', async () => {
    const server = await startServer();
    const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
    cleanups.push(() => client.close());
    const response = await client.transact(minimalAllocate(), undefined, 2000);
    expect(response.attributes.has(AttributeType.Software)).toBe(false);
    expect(readErrorCode(response, AttributeType.ErrorCode)?.reason).toBe('');
    // Header, ERROR-CODE, REALM (test.example) and NONCE: 20 + 8 + 16 + 20 bytes.
    expect(response.buffer.length).toBe(64);
  });

  it('answers at once with no-reply-budget, the operator’s choice of speed over reflection safety', async () => {
    const server = await startServer({ noReplyBudget: true });
    const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
    cleanups.push(() => client.close());
    // One send is all a client gets before this deadline (its first retransmission is at 500 ms).
    const response = await client.transact(minimalAllocate(), undefined, 400);
    expect(readErrorCode(response, AttributeType.ErrorCode)?.code).toBe(401);
  });

  it('does not hold back a challenge over TCP, whose handshake proved the address', async () => {
    const server = await startServer({ noTcp: false });
    const client = await StreamTestClient.open(server.streamAddresses[0]!, { credentials: ALICE });
    cleanups.push(() => void client.socket.destroy());
    client.socket.write(minimalAllocate().build());
    const response = await client.nextMessage(1000);
    expect(readErrorCode(response, AttributeType.ErrorCode)?.code).toBe(401);
    expect(server.engine.counters.repliesWithheld).toBe(0);
  });
});
