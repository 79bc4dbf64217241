// relayThreads > 1 through the library API: N worker threads, each a whole engine on the
// same listening ports (SO_REUSEPORT), seen from clients as one server. Workers run from
// dist/ (built by pretest), so these tests need a fresh build.
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Socket as TcpSocket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import { AttributeType, MessageBuilder, Method, StunClass, longTermKey, readBytes, readErrorCode, readUint32, readXorAddress, type TransportAddress } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { ALICE, BOB, BOB_USER, REALM, testServerOptions } from '../support/server-options.js';
import { StreamTestClient } from '../support/stream-client.js';
import { PEER_HOST, UdpTestClient } from '../support/turn-client.js';
import { recordingLogger } from '../support/recording-logger.js';
import { PACKETS, echoedThroughUdp, relayThreadHelpers, relayWorkerThreads } from '../support/relay-threads.js';

const cleanups = cleanupAfterEach();
const { startThreaded, startThreadedWithOptions, echoPeer, clientOn, allocatedOn, dtlsClientsAllocated } = relayThreadHelpers(cleanups);

/** An Allocate signed by `client` with the nonce `nonce`, sent once (no challenge answered). */
function allocateWithNonce(client: UdpTestClient, nonce: string) {
  const builder = new MessageBuilder(Method.Allocate, StunClass.Request)
    .addFirstByte(AttributeType.RequestedTransport, 17)
    .addString(AttributeType.Username, client.credentials!.username)
    .addString(AttributeType.Realm, client.realm!)
    .addString(AttributeType.Nonce, nonce);
  return client.transact(builder, builder.build({ integrityKey: client.key }));
}

/**
 * A TCP client (holding nothing) whose connection the kernel gave to `worker` of 2: probed
 * with a ConnectionBind for an id the other worker never issues (low bits 0), which `worker`
 * logs it asks the other about before answering 400. `lines`: the server's recorded log.
 */
async function streamClientOn(server: TurnServer, lines: readonly string[], worker: number): Promise<StreamTestClient> {
  const never = (1 - worker) * 2 ** 24;
  for (let attempt = 0; attempt < 40; attempt++) {
    const client = await StreamTestClient.open(server.streamAddresses[0]!, { credentials: ALICE });
    cleanups.push(() => client.close());
    const probe = await client.request(Method.ConnectionBind, (b) => b.addUint32(AttributeType.ConnectionId, never));
    expect(readErrorCode(probe, AttributeType.ErrorCode)?.code).toBe(400);
    if (lines.some((l) => l.includes(`ConnectionBind for CONNECTION-ID ${never} of relay worker`))) return client;
    client.close();
  }
  throw new Error(`no connection of 40 reached relay worker ${worker}`);
}

/**
 * A TCP allocation (RFC 6062) on relayThreads 2, an echo peer that counts what it gets, and a
 * way to find a client connection the kernel gave to the worker NOT holding the allocation.
 */
async function tcpRelayAcrossWorkers() {
  const { logger, lines } = recordingLogger();
  const server = await startThreaded({ noTcp: false, noTcpRelay: false }, logger);
  let received = 0;
  const sockets = new Set<TcpSocket>();
  const peer = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk: Buffer) => (received += chunk.length));
    socket.pipe(socket);
  });
  await new Promise<void>((r) => peer.listen(0, PEER_HOST, r));
  cleanups.push(() => new Promise<void>((r) => peer.close(() => r())));
  const peerAddress: TransportAddress = { family: 4, address: PEER_HOST, port: (peer.address() as AddressInfo).port };
  const control = await StreamTestClient.open(server.streamAddresses[0]!, { credentials: ALICE });
  cleanups.push(() => control.close());
  expect((await control.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 6))).cls).toBe(StunClass.SuccessResponse);
  return {
    lines,
    control,
    peerReceived: () => received,
    openPeerSockets: () => sockets.size,
    /** A CONNECTION-ID for a new connection to the peer. */
    connect: async (): Promise<number> => {
      const answer = await control.request(Method.Connect, (b) => b.addXorAddress(AttributeType.XorPeerAddress, peerAddress));
      return readUint32(answer, AttributeType.ConnectionId)!;
    },
    /** A new connection on the other worker than the one that issued `id`. */
    dataConnectionElsewhere: (id: number) => streamClientOn(server, lines, 1 - Math.floor(id / 2 ** 24)),
  };
}

/** Whether address:port is free to bind (UDP, no reuse flags). */
function canBindUdp(address: string, port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind({ address, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

describe('relayThreads 2', () => {
  it('relays for 40 UDP clients with no packet lost, their allocations held by both workers', async () => {
    const server = await startThreaded();
    const peer = await echoPeer();
    const clients = await Promise.all(Array.from({ length: 40 }, () => UdpTestClient.open(server.udpAddresses[0]!, ALICE)));
    for (const c of clients) cleanups.push(() => c.close());
    await Promise.all(clients.map((c) => c.allocateRelay()));
    const granted = await Promise.all(clients.map((c) => c.createPermission(peer.address)));
    expect(granted.map((r) => r.cls)).toEqual(clients.map(() => StunClass.SuccessResponse));

    const echoed = await Promise.all(clients.map((c) => echoedThroughUdp(c, peer.address)));
    expect(echoed.reduce((a, b) => a + b, 0)).toBe(40 * PACKETS);
    const counts = await server.workerAllocationCounts();
    expect(counts).toHaveLength(2);
    expect(counts[0]! + counts[1]!).toBe(40);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  });

  it('accepts on one worker a nonce another worker issued', async () => {
    const server = await startThreaded();
    const issuer = await clientOn(server, 0);
    const other = await clientOn(server, 1);
    // The other worker's client signs with the nonce worker 0 gave (both come from 127.0.0.1).
    const response = await allocateWithNonce(other, issuer.nonce!);
    expect(readErrorCode(response, AttributeType.ErrorCode)).toBeUndefined();
    expect(await server.workerAllocationCounts()).toEqual([0, 1]);
  });

  it('takes RFC 8489 SHA-256 and USERHASH requests on every worker: the users’ SHA-256 keys reach them', async () => {
    const server = await startThreaded({ users: [...(await testServerOptions()).users, BOB_USER] });
    let counts = await server.workerAllocationCounts();
    // New clients until the kernel has handed one to each worker (at most 40).
    for (let i = 0; i < 40 && counts.includes(0); i++) {
      const client = await UdpTestClient.open(server.udpAddresses[0]!, BOB);
      cleanups.push(() => client.close());
      client.auth.rfc8489 = { algorithm: 'sha256', userhash: i % 2 === 1 };
      const allocated = await client.allocate();
      expect(readErrorCode(allocated, AttributeType.ErrorCode)).toBeUndefined();
      expect(allocated.messageIntegritySha256).toBeDefined();
      counts = await server.workerAllocationCounts();
    }
    expect(counts.every((n) => n > 0)).toBe(true);
  });

  it('redeems a RESERVATION-TOKEN from a client another worker serves, then relays through the reserved port', async () => {
    const server = await startThreaded();
    const peer = await echoPeer();
    const rtp = await clientOn(server, 0);
    const first = await rtp.allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).addEvenPort(true));
    const relay = readXorAddress(first, AttributeType.XorRelayedAddress)!;
    const token = readBytes(first, AttributeType.ReservationToken)!;

    // The kernel hands this client's datagrams to worker 1; the port is held by worker 0.
    const rtcp = await clientOn(server, 1);
    const redeemed = await rtcp.allocate((b) => void b.addFirstByte(AttributeType.RequestedTransport, 17).add(AttributeType.ReservationToken, token));
    expect(readErrorCode(redeemed, AttributeType.ErrorCode)).toBeUndefined();
    expect(readXorAddress(redeemed, AttributeType.XorRelayedAddress)?.port).toBe(relay.port + 1);
    expect(await server.workerAllocationCounts()).toEqual([2, 0]);

    // Its next requests and data reach worker 0, and what the peer sends comes back to it.
    expect((await rtcp.createPermission(peer.address)).cls).toBe(StunClass.SuccessResponse);
    expect(await echoedThroughUdp(rtcp, peer.address)).toBe(PACKETS);
    expect((await rtcp.refresh(0)).cls).toBe(StunClass.SuccessResponse);
    expect(await server.workerAllocationCounts()).toEqual([1, 0]);
  });

  it('lends the reserved port to a TCP client on another worker that redeems the RESERVATION-TOKEN, and takes it back', async () => {
    const { logger, lines } = recordingLogger();
    const server = await startThreaded({ noTcp: false }, logger);
    const peer = await echoPeer();
    const rtp = await clientOn(server, 0);
    const first = await rtp.allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).addEvenPort(true));
    const relay = readXorAddress(first, AttributeType.XorRelayedAddress)!;
    const token = readBytes(first, AttributeType.ReservationToken)!;
    // A connection the other worker holds: it cannot move to the token's worker, so the port moves.
    const overTcp = await streamClientOn(server, lines, 1 - token[0]!);
    const answer = await overTcp.request(Method.Allocate, (b) => void b.addFirstByte(AttributeType.RequestedTransport, 17).add(AttributeType.ReservationToken, token));
    expect(readXorAddress(answer, AttributeType.XorRelayedAddress)?.port).toBe(relay.port + 1);
    expect(await server.workerAllocationCounts()).toEqual([1, 1]);
    expect((await overTcp.request(Method.CreatePermission, (b) => b.addXorAddress(AttributeType.XorPeerAddress, peer.address))).cls).toBe(StunClass.SuccessResponse);
    overTcp.socket.write(new MessageBuilder(Method.Send, StunClass.Indication).addXorAddress(AttributeType.XorPeerAddress, peer.address).add(AttributeType.Data, Buffer.from('reserved')).build());
    expect(readBytes(await overTcp.nextMessage(), AttributeType.Data)?.toString()).toBe('reserved');
    // The connection closed, its allocation ends and the port is free again (the owner's pool has it back).
    overTcp.close();
    await expect.poll(() => canBindUdp(relay.address, relay.port + 1)).toBe(true);
  });

  it('writes what workers log, tagged with the worker, and puts reloaded options in force on every worker', async () => {
    const { logger, lines } = recordingLogger();
    const server = await startThreaded({}, logger);
    await expect.poll(() => lines.filter((l) => /^info relay worker [01]: listening on UDP 127\.0\.0\.1:/.test(l)).length).toBe(2);
    const alices = [await clientOn(server, 0), await clientOn(server, 1)];

    const bob = { name: 'bob', key: longTermKey('bob', REALM, 'builder') };
    await server.reconfigure(await testServerOptions({ relayThreads: 2, noTcpRelay: true, users: [bob] }));
    for (const alice of alices) expect(readErrorCode(await allocateWithNonce(alice, alice.nonce!), AttributeType.ErrorCode)?.code).toBe(401);
    const bobs = await Promise.all(Array.from({ length: 16 }, () => UdpTestClient.open(server.udpAddresses[0]!, { username: 'bob', password: 'builder' })));
    for (const c of bobs) cleanups.push(() => c.close());
    await Promise.all(bobs.map((c) => c.allocateRelay()));
    const counts = await server.workerAllocationCounts();
    expect(counts[0]! + counts[1]!).toBe(16);
    expect(counts.every((count) => count > 0)).toBe(true);
  });

  it('serves TCP clients on both workers', async () => {
    const server = await startThreaded({ noTcp: false });
    const peer = await echoPeer();
    const clients = await Promise.all(Array.from({ length: 20 }, () => StreamTestClient.open(server.streamAddresses[0]!, { credentials: ALICE })));
    for (const c of clients) cleanups.push(() => c.close());
    for (const c of clients) {
      const allocated = await c.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17));
      expect(readXorAddress(allocated, AttributeType.XorRelayedAddress)).toBeDefined();
      expect((await c.request(Method.CreatePermission, (b) => b.addXorAddress(AttributeType.XorPeerAddress, peer.address))).cls).toBe(StunClass.SuccessResponse);
      c.socket.write(new MessageBuilder(Method.Send, StunClass.Indication).addXorAddress(AttributeType.XorPeerAddress, peer.address).add(AttributeType.Data, Buffer.from('over tcp')).build());
      const data = await c.nextMessage();
      expect(data.method).toBe(Method.Data);
      expect(readBytes(data, AttributeType.Data)?.toString()).toBe('over tcp');
    }
    const counts = await server.workerAllocationCounts();
    expect(counts[0]! + counts[1]!).toBe(20);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  });

  it('serves DTLS clients, and reloads the certificate on every worker', async () => {
    const { logger, lines } = recordingLogger();
    const { server, clients, answers: allocated } = await dtlsClientsAllocated(8, logger);
    expect(allocated.map((r) => r.cls)).toEqual(clients.map(() => StunClass.SuccessResponse));
    const counts = await server.workerAllocationCounts();
    expect(counts[0]! + counts[1]!).toBe(clients.length);
    expect(server.reloadCertificates()).toBe(true);
    await expect.poll(() => lines.filter((l) => /^info relay worker [01]: TLS certificate reloaded from /.test(l)).length).toBe(2);
  });

  it('binds an RFC 6062 data connection that reaches another worker than its allocation, carrying 64 KiB each way', async () => {
    const relay = await tcpRelayAcrossWorkers();
    const id = await relay.connect();
    const data = await relay.dataConnectionElsewhere(id);
    const bound = await data.request(Method.ConnectionBind, (b) => b.addUint32(AttributeType.ConnectionId, id));
    expect(readErrorCode(bound, AttributeType.ErrorCode)).toBeUndefined();

    const sent = Buffer.alloc(64 * 1024, 0);
    for (let i = 0; i < sent.length; i++) sent[i] = (i * 7) & 0xff;
    data.socket.write(sent);
    expect((await data.readRaw(sent.length, 10_000)).equals(sent)).toBe(true);
    expect(relay.peerReceived()).toBe(sent.length);
    // The owner counted the crossing bytes as the allocation's: logged when it ends.
    relay.control.close();
    await expect.poll(() => relay.lines.find((l) => / allocation \d+ ended .*tcp /.test(l))).toMatch(new RegExp(`from client \\d+ pkts/${sent.length} B, to client \\d+ pkts/${sent.length} B`));
  });

  it('ends the peer connection when the client closes a data connection bound on another worker, even as its ConnectionBind is answered', async () => {
    const relay = await tcpRelayAcrossWorkers();
    const id = await relay.connect();
    const data = await relay.dataConnectionElsewhere(id);
    expect(relay.openPeerSockets()).toBe(1);
    data.socket.write(data.signed(Method.ConnectionBind, (b) => b.addUint32(AttributeType.ConnectionId, id)));
    data.close();
    await expect.poll(() => relay.openPeerSockets()).toBe(0);
  });

  it('ends every worker thread on close and frees the listening ports', async () => {
    const server = await startThreaded({ noTcp: false });
    const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
    cleanups.push(() => client.close());
    const relay = await client.allocateRelay();
    expect(relayWorkerThreads()).toBe(2);

    await server.close();
    expect(relayWorkerThreads()).toBe(0);
    // Bound again without SO_REUSEPORT: nothing of the server holds them.
    for (const { address, port } of [server.udpAddresses[0]!, relay]) {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, address, resolve);
      });
      await new Promise<void>((r) => socket.close(() => r()));
    }
    const tcp = createServer();
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(server.streamAddresses[0]!.port, server.streamAddresses[0]!.address, resolve);
    });
    await new Promise<void>((r) => tcp.close(() => r()));
  });

  it.each([
    ['user-quota 2', { userQuota: 2 }],
    ['total-quota 2', { totalQuota: 2 }],
  ])('holds %s exactly for allocations that land on both workers', async (_name, quota) => {
    const server = await startThreaded(quota);
    const onFirst = [await clientOn(server, 0), await clientOn(server, 0)];
    const onSecond = [await clientOn(server, 1), await clientOn(server, 1)];
    // Each worker gets two Allocates of one user at once: a ledger per worker would grant all four.
    const answers = await Promise.all([...onFirst, ...onSecond].map((c) => allocateWithNonce(c, c.nonce!)));
    const codes = answers.map((a) => readErrorCode(a, AttributeType.ErrorCode)?.code ?? 200);
    expect(codes.filter((c) => c === 200)).toHaveLength(2);
    expect(codes.filter((c) => c === 486)).toHaveLength(2);
    const counts = await server.workerAllocationCounts();
    expect(counts[0]! + counts[1]!).toBe(2);
  });

  it('counts the allocations both workers granted under no quota against a total-quota a reload sets', async () => {
    // With no limit in force a worker grants an Allocate itself and only tells main (turn/ledger-port.ts).
    const { server, options } = await startThreadedWithOptions();
    const probes = [await clientOn(server, 0), await clientOn(server, 1)];
    await allocatedOn(server, 0);
    await allocatedOn(server, 1);
    await server.reconfigure({ ...options, totalQuota: 2 });
    for (const probe of probes) {
      expect(readErrorCode(await allocateWithNonce(probe, probe.nonce!), AttributeType.ErrorCode)?.code).toBe(486);
    }
    await server.reconfigure({ ...options, totalQuota: 3 });
    expect((await allocateWithNonce(probes[0]!, probes[0]!.nonce!)).cls).toBe(StunClass.SuccessResponse);
  });

  it('gives back the quota of an allocation that ends, to a client of the other worker', async () => {
    const server = await startThreaded({ userQuota: 1 });
    const first = await clientOn(server, 0);
    const second = await clientOn(server, 1);
    const allocated = async (client: UdpTestClient) => readErrorCode(await allocateWithNonce(client, client.nonce!), AttributeType.ErrorCode)?.code ?? 200;
    // A release is one message to main, not awaited by the Refresh that ends the allocation:
    // clientOn's own test allocation may be given back a moment later.
    await expect.poll(() => allocated(first)).toBe(200);
    expect(await server.workerAllocationCounts()).toEqual([1, 0]);
    expect(await allocated(second)).toBe(486);
    expect((await first.refresh(0)).cls).toBe(StunClass.SuccessResponse);
    await expect.poll(() => allocated(second)).toBe(200);
    expect(await server.workerAllocationCounts()).toEqual([0, 1]);
  });

  it('refuses a relay port range too small to give each worker a port pair', async () => {
    await expect(createTurnServer(await testServerOptions({ relayThreads: 3, noTcpRelay: true, minPort: 50000, maxPort: 50004 }))).rejects.toThrow(
      'fewer than 2 ports for each of 3 relay workers',
    );
    expect(relayWorkerThreads()).toBe(0);
  });

  it('fails to start, leaving no thread, when its listening port is taken by another socket (in the one-thread server\'s words)', async () => {
    const busy = createSocket('udp4');
    await new Promise<void>((r) => busy.bind(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => busy.close(() => r())));
    const port = busy.address().port;
    await expect(startThreaded({ listeningPort: port })).rejects.toThrow(new RegExp(`^UDP 127\\.0\\.0\\.1:${port} is already in use by another socket \\(EADDRINUSE\\)$`));
    expect(relayWorkerThreads()).toBe(0);
  });
});
