// RFC 6062 TCP relaying over real sockets: Connect, ConnectionAttempt, ConnectionBind.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import { AttributeType, MessageBuilder, Method, StunClass, readErrorCode, readUint32, readXorAddress, type StunMessage } from '../../src/stun/index.js';
import { ALICE, testServerOptions } from '../support/server-options.js';
import { StreamTestClient } from '../support/stream-client.js';
import { PEER_HOST } from '../support/turn-client.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startServer(): Promise<TurnServer> {
  const server = await createTurnServer({ ...(await testServerOptions()), noTcp: false });
  cleanups.push(() => server.close());
  return server;
}

async function client(server: TurnServer): Promise<StreamTestClient> {
  const c = await StreamTestClient.open(server.streamAddresses[0]!, { credentials: ALICE });
  cleanups.push(() => c.close());
  return c;
}

/** A TCP echo server standing in for a peer. */
async function echoPeer(): Promise<{ port: number }> {
  const server = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server.listen(0, PEER_HOST, r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return { port: (server.address() as net.AddressInfo).port };
}

const tcpAllocate = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 6);
const code = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode)?.code;
describe('RFC 6062 TCP relay', () => {
  it('connects to a peer for the client, and a bound data connection carries its bytes both ways', async () => {
    const server = await startServer();
    const control = await client(server);
    const allocated = await control.request(Method.Allocate, tcpAllocate);
    expect(allocated.cls).toBe(StunClass.SuccessResponse);
    const peer = await echoPeer();
    const peerAddress = { family: 4 as const, address: PEER_HOST, port: peer.port };
    const connected = await control.request(Method.Connect, (b) => b.addXorAddress(AttributeType.XorPeerAddress, peerAddress));
    const id = readUint32(connected, AttributeType.ConnectionId)!;
    expect(id).toBeGreaterThan(0);
    expect(code(await control.request(Method.Connect, (b) => b.addXorAddress(AttributeType.XorPeerAddress, peerAddress)))).toBe(446);

    const data = await client(server);
    const bound = await data.request(Method.ConnectionBind, (b) => b.addUint32(AttributeType.ConnectionId, id));
    expect(bound.cls).toBe(StunClass.SuccessResponse);
    data.socket.write('raw payload');
    expect((await data.readRaw(11)).toString()).toBe('raw payload');
    const allocation = [...server.engine.allocations][0]!;
    expect(allocation.bytesFromClient).toBe(11);
  });

  it('carries megabytes both ways, byte for byte, over a data connection that reads with onread', async () => {
    const server = await startServer();
    // On Linux the plain TCP port accepts natively (docs/native-tcp-accept.md): the data
    // connection's bytes reach the peer through the onread Duplex, with its backpressure.
    expect(server.listeners.streams[0]!.accepting).toBe(process.platform === 'linux' ? 'native' : 'net.Server');
    const control = await client(server);
    await control.request(Method.Allocate, tcpAllocate);
    const peer = await echoPeer();
    const connected = await control.request(Method.Connect, (b) => b.addXorAddress(AttributeType.XorPeerAddress, { family: 4, address: PEER_HOST, port: peer.port }));
    const data = await client(server);
    await data.request(Method.ConnectionBind, (b) => b.addUint32(AttributeType.ConnectionId, readUint32(connected, AttributeType.ConnectionId)!));
    const payload = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4) payload.writeUInt32BE(i, i);
    data.socket.write(payload);
    expect((await data.readRaw(payload.length, 20_000)).equals(payload)).toBe(true);
  });

  it('carries to the peer what the client wrote in the same segment as its ConnectionBind', async () => {
    const server = await startServer();
    const control = await client(server);
    await control.request(Method.Allocate, tcpAllocate);
    const peer = await echoPeer();
    const connected = await control.request(Method.Connect, (b) => b.addXorAddress(AttributeType.XorPeerAddress, { family: 4, address: PEER_HOST, port: peer.port }));
    const data = await client(server);
    await data.request(Method.Refresh); // 437; its challenge taught the nonce to sign with
    const bind = data.signed(Method.ConnectionBind, (b) => b.addUint32(AttributeType.ConnectionId, readUint32(connected, AttributeType.ConnectionId)!));
    data.socket.write(Buffer.concat([bind, Buffer.from('raw payload')]));
    expect((await data.nextMessage()).cls).toBe(StunClass.SuccessResponse);
    expect((await data.readRaw(11)).toString()).toBe('raw payload');
  });

  it('answers what follows a failed ConnectionBind in the same segment after it, in order', async () => {
    const server = await startServer();
    const data = await client(server);
    await data.request(Method.Refresh);
    const bind = data.signed(Method.ConnectionBind, (b) => b.addUint32(AttributeType.ConnectionId, 12345));
    data.socket.write(Buffer.concat([bind, new MessageBuilder(Method.Binding, StunClass.Request).build()]));
    expect(code(await data.nextMessage())).toBe(400);
    expect((await data.nextMessage()).method).toBe(Method.Binding);
  });

  it('answers 447 when the peer cannot be reached, and 400 to an unknown CONNECTION-ID', async () => {
    const server = await startServer();
    const control = await client(server);
    await control.request(Method.Allocate, tcpAllocate);
    const closedPort = (await echoPeer()).port;
    await cleanups.pop()!(); // close that peer again: nothing listens there now
    expect(code(await control.request(Method.Connect, (b) => b.addXorAddress(AttributeType.XorPeerAddress, { family: 4, address: PEER_HOST, port: closedPort })))).toBe(447);
    const data = await client(server);
    expect(code(await data.request(Method.ConnectionBind, (b) => b.addUint32(AttributeType.ConnectionId, 12345)))).toBe(400);
  });

  it('tells the client of a permitted peer that connects in, and closes an unpermitted one', async () => {
    const server = await startServer();
    const control = await client(server);
    const relay = readXorAddress(await control.request(Method.Allocate, tcpAllocate), AttributeType.XorRelayedAddress)!;

    const stranger = net.connect({ host: relay.address, port: relay.port });
    cleanups.push(() => void stranger.destroy());
    await new Promise((r) => stranger.once('close', r));

    await control.request(Method.CreatePermission, (b) => b.addXorAddress(AttributeType.XorPeerAddress, { family: 4, address: '127.0.0.1', port: 1 }));
    const peer = net.connect({ host: relay.address, port: relay.port });
    cleanups.push(() => void peer.destroy());
    await new Promise((r) => peer.once('connect', r));
    peer.write('early bytes');
    const attempt = await control.nextMessage();
    expect(attempt.method).toBe(Method.ConnectionAttempt);
    expect(attempt.cls).toBe(StunClass.Indication);
    expect(readXorAddress(attempt, AttributeType.XorPeerAddress)?.port).toBe(peer.localPort);
    const data = await client(server);
    await data.request(Method.ConnectionBind, (b) => b.addUint32(AttributeType.ConnectionId, readUint32(attempt, AttributeType.ConnectionId)!));
    expect((await data.readRaw(11)).toString()).toBe('early bytes');
  });

  describe('between two relays of this server', () => {
    /** Two TCP allocations; B permits A's relayed IP when `permit`. */
    async function twoRelays(permit: boolean) {
      const server = await startServer();
      const [a, b] = [await client(server), await client(server)];
      const relayA = readXorAddress(await a.request(Method.Allocate, tcpAllocate), AttributeType.XorRelayedAddress)!;
      const relayB = readXorAddress(await b.request(Method.Allocate, tcpAllocate), AttributeType.XorRelayedAddress)!;
      if (permit) await b.request(Method.CreatePermission, (m) => m.addXorAddress(AttributeType.XorPeerAddress, relayA));
      await a.request(Method.CreatePermission, (m) => m.addXorAddress(AttributeType.XorPeerAddress, relayB));
      const connected = await a.request(Method.Connect, (m) => m.addXorAddress(AttributeType.XorPeerAddress, relayB));
      return { server, a, b, relayA, connected };
    }

    it('reaches B from A\'s relayed address, and both data connections carry each other\'s bytes', async () => {
      const { server, b, relayA, connected } = await twoRelays(true);
      expect(connected.cls).toBe(StunClass.SuccessResponse);
      const attempt = await b.nextMessage();
      expect(attempt.method).toBe(Method.ConnectionAttempt);
      expect(readXorAddress(attempt, AttributeType.XorPeerAddress)).toEqual(relayA);

      const bind = async (response: StunMessage) => {
        const data = await client(server);
        const bound = await data.request(Method.ConnectionBind, (m) => m.addUint32(AttributeType.ConnectionId, readUint32(response, AttributeType.ConnectionId)!));
        expect(bound.cls).toBe(StunClass.SuccessResponse);
        return data;
      };
      const [dataA, dataB] = [await bind(connected), await bind(attempt)];
      dataA.socket.write('from A');
      expect((await dataB.readRaw(6)).toString()).toBe('from A');
      dataB.socket.write('from B!');
      expect((await dataA.readRaw(7)).toString()).toBe('from B!');
      const [allocationA, allocationB] = [...server.engine.allocations];
      expect([allocationA!.bytesFromClient, allocationA!.bytesToClient, allocationB!.bytesFromClient, allocationB!.bytesToClient]).toEqual([6, 7, 7, 6]);

      dataA.close();
      await dataB.closed();
    });

    it('answers A\'s Connect with 447 when B has no permission for A\'s relayed IP', async () => {
      const { connected } = await twoRelays(false);
      expect(code(connected)).toBe(447);
    });
  });

  it('refuses TCP relaying to a client on UDP with 400', async () => {
    const server = await createTurnServer(await testServerOptions());
    cleanups.push(() => server.close());
    const { UdpTestClient } = await import('../support/turn-client.js');
    const c = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
    cleanups.push(() => c.close());
    expect(code(await c.allocate(tcpAllocate))).toBe(400);
  });
});
