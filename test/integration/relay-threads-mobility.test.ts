// RFC 8016 mobility with relayThreads 2: the client's new 5-tuple may reach the worker that
// does not hold its allocation. A UDP client's Refresh is handed to the owner; a TCP, TLS or
// DTLS connection cannot cross threads, so its move is refused there with a clear 437.
import { describe, expect, it } from 'vitest';
import { AttributeType, MessageBuilder, Method, StunClass, readBytes, readErrorCode, type StunMessage } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { PACKETS, echoedThroughUdp, relayThreadHelpers } from '../support/relay-threads.js';
import { ALICE } from '../support/server-options.js';
import { StreamTestClient } from '../support/stream-client.js';

const cleanups = cleanupAfterEach();
const { startThreaded, echoPeer, clientOn } = relayThreadHelpers(cleanups);

const ticketOf = (m: StunMessage) => readBytes(m, AttributeType.MobilityTicket);
const withTicket = (ticket: Buffer) => (b: MessageBuilder) => void b.add(AttributeType.MobilityTicket, ticket);

describe('mobility across relay workers', () => {
  it('moves a UDP client whose new port reaches the other worker: the owner answers, and relays for it', async () => {
    const server = await startThreaded({ mobility: true });
    const peer = await echoPeer();
    const before = await clientOn(server, 0);
    const allocated = await before.allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).add(AttributeType.MobilityTicket, Buffer.alloc(0)));
    expect((await before.createPermission(peer.address)).cls).toBe(StunClass.SuccessResponse);

    const after = await clientOn(server, 1);
    const moved = await after.request(Method.Refresh, withTicket(ticketOf(allocated)!));
    expect(readErrorCode(moved, AttributeType.ErrorCode)).toBeUndefined();
    expect(ticketOf(moved)).toBeDefined();
    expect(await server.workerAllocationCounts()).toEqual([1, 0]);
    // Its own socket on worker 0 now takes its datagrams: the permission and relay are the same.
    expect(await echoedThroughUdp(after, peer.address)).toBe(PACKETS);
  });

  it('refuses with 437 a TCP connection on the worker that does not hold the allocation', async () => {
    const server = await startThreaded({ mobility: true, noTcp: false });
    const owner = await clientOn(server, 0);
    const allocated = await owner.allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).add(AttributeType.MobilityTicket, Buffer.alloc(0)));
    let ticket = ticketOf(allocated)!;
    // Connections land on either worker; one on worker 0 moves the allocation (and gets the next ticket).
    for (let attempt = 0; attempt < 40; attempt++) {
      const connection = await StreamTestClient.open(server.streamAddresses[0]!, { credentials: ALICE });
      cleanups.push(() => connection.close());
      const answer = await connection.request(Method.Refresh, withTicket(ticket));
      const error = readErrorCode(answer, AttributeType.ErrorCode);
      if (error === undefined) {
        ticket = ticketOf(answer)!;
        continue;
      }
      expect(error.code).toBe(437);
      expect(error.reason).toMatch(/another relay thread/);
      expect(await server.workerAllocationCounts()).toEqual([1, 0]);
      return;
    }
    throw new Error('no connection of 40 reached worker 1');
  });
});
