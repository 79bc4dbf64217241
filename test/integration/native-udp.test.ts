// Native batched UDP I/O (native/udp-io.c, src/net/native-udp/): allocated clients and their
// peers are served by the addon's sockets, bursts are relayed byte for byte both ways, junk
// at those sockets moves only the drop counters, and TURNPIKE_UDP_IO=dgram turns it off.
import { afterEach, describe, expect, it } from 'vitest';
import { nativeUdp, nativeUdpIo } from '../../src/net/native-udp/addon.js';
import { StunClass, channelDataHeader, type TransportAddress } from '../../src/stun/index.js';
import type { TurnServer } from '../../src/server.js';
import { silentLogger, type Logger } from '../../src/log/logger-interface.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { ALICE, REALM } from '../support/server-options.js';
import { UdpTestClient, openPeerUntilCleanup } from '../support/turn-client.js';
import { startTurnpike } from '../support/turnpike-process.js';
import { relayThreadHelpers } from '../support/relay-threads.js';

const cleanups = cleanupAfterEach();
afterEach(() => stopAllProcesses());

const CHANNEL = 0x4001;
const HOST = '127.0.0.1';

async function relayedPair(server: TurnServer) {
  const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
  cleanups.push(() => client.close());
  const peer = await openPeerUntilCleanup(cleanups);
  const relay = await client.allocateRelay();
  // A request after the Allocate: by its answer the client's own socket is open.
  await client.channelBind(CHANNEL, peer.address);
  return { client, peer, relay };
}

/** Sends every datagram and waits until `arrived()` reaches `count` (bounded). */
async function until(arrived: () => number, count: number, what: string): Promise<void> {
  for (let waited = 0; arrived() < count; waited += 10) {
    if (waited > 10_000) throw new Error(`${what}: ${arrived()} of ${count} arrived`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const payload = (i: number, length: number) => Buffer.alloc(length, i & 0xff).fill(`#${i}#`, 0, Math.min(length, 8));

describe.runIf(process.platform === 'linux')('native UDP I/O', () => {
  it('is built at install and used by default', () => {
    expect(nativeUdp()).toHaveProperty('io');
  });

  it('relays bursts of ChannelData both ways byte for byte, batched, on its own sockets', async () => {
    const io = nativeUdpIo()!;
    const server = await startInProcessServer(cleanups);
    const { client, peer, relay } = await relayedPair(server);
    const before = io.counters();
    const count = 300;
    const burst = 20; // within the kernel's default receive buffer of the client's own socket
    const sizes = (i: number) => 1 + ((i * 37) % 1200);
    for (let i = 0; i < count; i++) {
      client.sendChannelData(CHANNEL, payload(i, sizes(i)));
      if ((i + 1) % burst === 0) await until(() => peer.received.length, i + 1, 'to the peer');
    }
    peer.received.forEach((datagram, i) => {
      expect(datagram.data.equals(payload(i, sizes(i))), `datagram ${i}`).toBe(true);
      expect(datagram.port).toBe(relay.port);
    });
    const toClient: Buffer[] = [];
    for (let i = 0; i < count; i += burst) {
      for (let j = i; j < i + burst; j++) peer.socket.send(payload(j, sizes(j)), relay.port, relay.address);
      for (let j = i; j < i + burst; j++) toClient.push((await client.nextDatagram(5000)).data);
    }
    toClient.forEach((data, i) => expect(data.equals(Buffer.concat([channelDataHeader(CHANNEL, sizes(i)), payload(i, sizes(i))])), `datagram ${i}`).toBe(true));
    const after = io.counters();
    // Both directions went through the addon's sockets, several datagrams per loop turn at least once.
    expect(after.received - before.received).toBeGreaterThanOrEqual(2 * count);
    expect(after.batches - before.batches).toBeLessThan(2 * count);
    expect(server.engine.counters.relayedToPeerPackets).toBe(count);
    expect(server.engine.counters.relayedToClientPackets).toBe(count);
  });

  it('binds a channel before the ChannelData sent right behind its ChannelBind, in the same batch, as one datagram at a time would', async () => {
    const server = await startInProcessServer(cleanups);
    const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
    cleanups.push(() => client.close());
    const peer = await openPeerUntilCleanup(cleanups);
    await client.allocateRelay();
    // By this answer the client's own (native) socket is open.
    expect((await client.createPermission(peer.address)).cls).toBe(StunClass.SuccessResponse);
    // Both sent in this turn: the server (this thread) reads them in one batch. libdatachannel sends
    // this way; the ChannelData was dropped as unbound (a DTLS packet, retransmitted a second later).
    const bound = client.channelBind(CHANNEL, peer.address);
    client.sendChannelData(CHANNEL, Buffer.from('right behind'));
    expect((await bound).cls).toBe(StunClass.SuccessResponse);
    expect((await peer.next(2000)).data.toString()).toBe('right behind');
  });

  it('drops malformed, truncated and oversized datagrams at its sockets, logs no error, and relays on', async () => {
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (m) => void errors.push(m), warn: (m) => void errors.push(m) };
    const io = nativeUdpIo()!;
    const server = await startInProcessServer(cleanups, {}, logger);
    const { client, peer, relay } = await relayedPair(server);
    const counters = server.engine.counters;
    const stranger = await openPeerUntilCleanup(cleanups, '127.0.0.3');
    const received = io.counters().received;

    const fromClient = [
      Buffer.from([0x40]), // shorter than a ChannelData header: a STUN decode failure
      Buffer.from([0x40, 0x01, 0x00]),
      Buffer.concat([channelDataHeader(CHANNEL, 50), Buffer.alloc(10)]), // claims more than it carries
      Buffer.concat([channelDataHeader(CHANNEL, 0xffff), Buffer.alloc(4)]),
      Buffer.concat([channelDataHeader(0x7fff, 4), Buffer.alloc(4)]), // a channel never bound
      Buffer.alloc(0),
      Buffer.alloc(65_507, 0xff), // the largest IPv4 datagram, neither STUN nor ChannelData
      Buffer.concat([channelDataHeader(0x4002, 65_503), Buffer.alloc(65_503)]), // the largest, unbound
      Buffer.from('not a stun message at all'),
    ];
    const drops = { malformed: counters.droppedMalformed, noChannel: counters.droppedNoChannel, noPermission: counters.droppedNoPermission };
    for (const datagram of fromClient) client.sendRaw(datagram);
    // From a peer with no permission: the largest datagram too.
    for (const size of [0, 1, 4, 65_507]) stranger.socket.send(Buffer.alloc(size, 0x41), relay.port, relay.address);
    await until(() => io.counters().received - received, fromClient.length + 4, 'at the native sockets');

    // The relay goes on, both ways.
    client.sendChannelData(CHANNEL, Buffer.from('still relaying'));
    expect((await peer.next()).data.toString()).toBe('still relaying');
    peer.socket.send(Buffer.from('and back'), relay.port, relay.address);
    expect((await client.nextDatagram()).data.subarray(4).toString()).toBe('and back');

    expect(counters.droppedMalformed - drops.malformed).toBe(7);
    expect(counters.droppedNoChannel - drops.noChannel).toBe(2);
    expect(counters.droppedNoPermission - drops.noPermission).toBe(4);
    expect(errors).toEqual([]);
  });

  it('relays between two IPv6 allocations, source addresses read from its own numbers', async () => {
    const server = await startInProcessServer(cleanups, { listeningIps: ['::1'], relayIps: ['::1'], defaultAddressFamily: 'keep' });
    const open = async () => {
      const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
      cleanups.push(() => client.close());
      return { client, relay: await client.allocateRelay() };
    };
    const a = await open();
    const b = await open();
    expect(a.relay.family).toBe(6);
    // Each allocation's relay is the other's peer: a peer on the server's own address is allowed on relay ports.
    await a.client.channelBind(CHANNEL, b.relay);
    await b.client.channelBind(CHANNEL, a.relay);
    const received = nativeUdpIo()!.counters().received;
    for (let i = 0; i < 20; i++) a.client.sendChannelData(CHANNEL, payload(i, 100 + i));
    for (let i = 0; i < 20; i++) {
      const datagram = await b.client.nextDatagram(5000);
      expect(datagram.data.equals(Buffer.concat([channelDataHeader(CHANNEL, 100 + i), payload(i, 100 + i)])), `datagram ${i}`).toBe(true);
    }
    // At a's own socket and at b's relay socket, both the addon's.
    expect(nativeUdpIo()!.counters().received - received).toBeGreaterThanOrEqual(40);
  });

  it('serves relay-threads=2 with an instance of its own in each worker thread', async () => {
    const { startThreaded, allocatedOn } = relayThreadHelpers(cleanups);
    const info: string[] = [];
    const server = await startThreaded({}, { ...silentLogger, info: (m) => void info.push(m) });
    const peer = await openPeerUntilCleanup(cleanups);
    for (const worker of [0, 1]) {
      const client = await allocatedOn(server, worker);
      await client.channelBind(CHANNEL, peer.address);
      client.sendChannelData(CHANNEL, Buffer.from(`via worker ${worker}`));
      const there = await peer.next(5000);
      expect(there.data.toString()).toBe(`via worker ${worker}`);
      peer.socket.send(Buffer.from(`back to worker ${worker}`), there.port, there.address);
      expect((await client.nextDatagram(5000)).data.subarray(4).toString()).toBe(`back to worker ${worker}`);
    }
    expect(info.filter((m) => m.includes('UDP relay I/O: native (recvmmsg/sendmmsg)')), info.join('\n')).toHaveLength(1);
  });

  it('uses dgram when TURNPIKE_UDP_IO=dgram, and says so once at start', async () => {
    const port = await freeUdpTcpPort(HOST);
    const minPort = await freePortRange(HOST, 20);
    const server = await startTurnpike(
      ['-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST, '--min-port', String(minPort), '--max-port', String(minPort + 19),
        '--no-tcp', '--no-tls', '--no-dtls', '--allow-loopback-peers', '--user', `${ALICE.username}:${ALICE.password}`, '--realm', REALM, '--lt-cred-mech'],
      HOST, port, { TURNPIKE_UDP_IO: 'dgram' },
    );
    cleanups.push(() => server.stop());
    const client = await UdpTestClient.open({ address: HOST, port }, ALICE);
    cleanups.push(() => client.close());
    const peer = await openPeerUntilCleanup(cleanups);
    const relay: TransportAddress = await client.allocateRelay();
    await client.channelBind(CHANNEL, peer.address);
    client.sendChannelData(CHANNEL, Buffer.from('via dgram'));
    expect((await peer.next()).data.toString()).toBe('via dgram');
    peer.socket.send(Buffer.from('back via dgram'), relay.port, relay.address);
    expect((await client.nextDatagram()).data.subarray(4).toString()).toBe('back via dgram');
    expect(server.proc.output.match(/native UDP I\/O unavailable: TURNPIKE_UDP_IO=dgram; using dgram/g)).toHaveLength(1);
  });
});
