// RFC 8016 mobility (`mobility`) over real sockets on loopback: a client that moves to a new
// source port mid-stream keeps its relayed address and channel, and only its own, current
// ticket moves its allocation.
import { describe, expect, it } from 'vitest';
import type { ServerOptions } from '../../src/config/server-options.js';
import type { TurnServer } from '../../src/server.js';
import { AttributeType, longTermKey, readBytes, readErrorCode, readUint32, readXorAddress, type StunMessage } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { ALICE, ALICE_KEY, REALM } from '../support/server-options.js';
import { UdpTestClient, openPeerUntilCleanup, type Credentials } from '../support/turn-client.js';
import { StreamTestClient } from '../support/stream-client.js';

const cleanups = cleanupAfterEach();
const BOB = { username: 'bob', password: 'builder' };
const users = [
  { name: ALICE.username, key: ALICE_KEY },
  { name: BOB.username, key: longTermKey(BOB.username, REALM, BOB.password) },
];

const startServer = (overrides: Partial<ServerOptions> = {}): Promise<TurnServer> => startInProcessServer(cleanups, { mobility: true, users, ...overrides });

async function client(server: TurnServer, credentials: Credentials = ALICE): Promise<UdpTestClient> {
  const c = await UdpTestClient.open(server.udpAddresses[0]!, credentials);
  cleanups.push(() => c.close());
  return c;
}

const code = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode)?.code;
const ticketOf = (m: StunMessage) => readBytes(m, AttributeType.MobilityTicket);
const EMPTY = Buffer.alloc(0);

/** An allocation that asked for mobility, and its ticket. */
async function mobileAllocation(c: UdpTestClient): Promise<{ relay: ReturnType<typeof readXorAddress>; ticket: Buffer }> {
  const response = await c.allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).add(AttributeType.MobilityTicket, EMPTY));
  const ticket = ticketOf(response);
  expect(ticket, JSON.stringify(readErrorCode(response, AttributeType.ErrorCode))).toBeDefined();
  return { relay: readXorAddress(response, AttributeType.XorRelayedAddress), ticket: ticket! };
}

const refreshWith = (c: UdpTestClient, ticket: Buffer) => c.request(0x004, (b) => b.addUint32(AttributeType.Lifetime, 600).add(AttributeType.MobilityTicket, ticket));

describe('mobility: a UDP client moves to a new source port mid-stream', () => {
  it('keeps its relayed address and channel: data from the peer reaches the new port, the old one hears nothing', async () => {
    const server = await startServer();
    const peer = await openPeerUntilCleanup(cleanups);
    const before = await client(server);
    const { relay, ticket } = await mobileAllocation(before);
    // A 32-character text ticket, as coturn's client keeps it (a C string of at most 32).
    expect(ticket.toString('latin1')).toMatch(/^[A-Za-z0-9+/]{32}$/);
    expect(code(await before.channelBind(0x4000, peer.address))).toBeUndefined();
    before.sendChannelData(0x4000, Buffer.from('before the move'));
    expect((await peer.next()).data.toString()).toBe('before the move');

    const after = await client(server);
    const moved = await refreshWith(after, ticket);
    expect(code(moved)).toBeUndefined();
    expect(readUint32(moved, AttributeType.Lifetime)).toBe(600);
    const next = ticketOf(moved);
    expect(next).toBeDefined();
    expect(next!.equals(ticket)).toBe(false);

    // The channel, bound from the old port, carries the new port's data to the peer…
    after.sendChannelData(0x4000, Buffer.from('after the move'));
    const atPeer = await peer.next();
    expect(atPeer.data.toString()).toBe('after the move');
    expect(atPeer.port).toBe(relay!.port);
    // …and the peer's data to the new port, on the same channel; the old port gets nothing.
    peer.socket.send(Buffer.from('to the new port'), relay!.port, relay!.address);
    const arrived = await after.nextDatagram();
    expect(arrived.data.readUInt16BE(0)).toBe(0x4000);
    expect(arrived.data.subarray(4).toString()).toBe('to the new port');
    expect(await before.quietFor(300)).toBe(true);
    // The old 5-tuple has no allocation any more.
    expect(code(await before.refresh(600))).toBe(437);
    // A later Refresh from the new port carries the current ticket.
    expect(ticketOf(await after.refresh(600))?.equals(next!)).toBe(true);
  });

  it('refuses a forged ticket, another user\'s ticket and a spent one', async () => {
    const server = await startServer();
    const alice = await client(server);
    const { ticket } = await mobileAllocation(alice);

    const forged = Buffer.from(ticket);
    forged[5] = forged[5] === 0x41 ? 0x42 : 0x41; // another allocation id, same MAC
    expect(code(await refreshWith(await client(server), forged))).toBe(400);
    expect(code(await refreshWith(await client(server), Buffer.from('not a ticket')))).toBe(400);

    // Bob is authenticated, but the ticket was issued to Alice.
    expect(code(await refreshWith(await client(server, BOB), ticket))).toBe(400);

    // Alice moves once; the ticket she moved with moves nothing again.
    expect(code(await refreshWith(await client(server), ticket))).toBeUndefined();
    expect(code(await refreshWith(await client(server), ticket))).toBe(437);
  });

  it('with mobility off, answers a MOBILITY-TICKET with 405 Mobility Forbidden, and the Allocate gets none', async () => {
    const server = await startServer({ mobility: false });
    const c = await client(server);
    const refused = await c.allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).add(AttributeType.MobilityTicket, EMPTY));
    expect(code(refused)).toBe(405);
    const plain = await c.allocate();
    expect(code(plain)).toBeUndefined();
    expect(ticketOf(plain)).toBeUndefined();
  });

  it('gives no ticket to a client that did not ask', async () => {
    const c = await client(await startServer());
    const plain = await c.allocate();
    expect(code(plain)).toBeUndefined();
    expect(ticketOf(plain)).toBeUndefined();
    expect(ticketOf(await c.refresh(600))).toBeUndefined();
  });
});

describe('mobility: a TCP client whose connection dropped', () => {
  it('keeps the allocation for its ticket, and moves it onto a new connection', async () => {
    const server = await startServer({ noTcp: false });
    const peer = await openPeerUntilCleanup(cleanups);
    const address = server.streamAddresses[0]!;
    const first = await StreamTestClient.open(address, { credentials: ALICE });
    const allocated = await first.request(0x003, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17).add(AttributeType.MobilityTicket, EMPTY));
    const relay = readXorAddress(allocated, AttributeType.XorRelayedAddress)!;
    const ticket = ticketOf(allocated)!;
    expect(code(await first.request(0x008, (b) => b.addXorAddress(AttributeType.XorPeerAddress, peer.address)))).toBeUndefined();
    first.close();
    await first.closed();

    const second = await StreamTestClient.open(address, { credentials: ALICE });
    cleanups.push(() => second.close());
    const moved = await second.request(0x004, (b) => b.add(AttributeType.MobilityTicket, ticket));
    expect(code(moved)).toBeUndefined();
    // The permission survived the move: the peer's datagram reaches the new connection.
    peer.socket.send(Buffer.from('hello again'), relay.port, relay.address);
    const data = await second.nextMessage();
    expect(readBytes(data, AttributeType.Data)?.toString()).toBe('hello again');
  });
});
