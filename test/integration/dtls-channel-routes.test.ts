// A DTLS client's established channel relayed in C (native/dtls-routes.c, routed-channels.ts):
// its records opened and the peer's data sealed without JS, counted exactly, with one sequence
// counter and one replay window shared with JS, routes gone with the session; over real sockets
// with a real DTLS client (and coturn's turnutils_uclient, both AES-GCM key sizes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeUdpIo } from '../../src/net/native-udp/addon.js';
import type { NativeUdpIo } from '../../src/net/native-udp/io.js';
import { ContentType, parseRecords } from '../../src/net/dtls/record.js';
import { MessageBuilder, Method, StunClass, channelDataHeader, decodeMessage } from '../../src/stun/index.js';
import type { TurnServer } from '../../src/server.js';
import type { Allocation } from '../../src/turn/allocation.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { runUclient, startPeer, type PeerHandle } from '../support/coturn-tools.js';
import { ALICE } from '../support/server-options.js';
import { openPeerUntilCleanup } from '../support/turn-client.js';
import { stopAllProcesses } from '../support/processes.js';
import { certificateForFile, startDtls } from '../unit/dtls/harness.js';
import { relayThreadHelpers } from '../support/relay-threads.js';
import { testServerOptions } from '../support/server-options.js';
import { valueOf } from '../unit/metrics/exposition.js';
import { METRICS, expectTrafficTotals, scrapeMetrics } from '../support/metrics-scrape.js';
import type { MiniDtlsClient } from '../unit/dtls/mini-client.js';
import type { DtlsLimits } from '../../src/net/dtls/service.js';
import { CHANNEL, allocateAndBind, boundClient, until } from '../unit/dtls/turn-over-dtls.js';

const cleanups = cleanupAfterEach();
const certificate = certificateForFile();
afterAll(() => stopAllProcesses());

const io = (): NativeUdpIo => {
  const native = nativeUdpIo();
  if (!native) throw new Error('these tests need the native UDP addon (npm ci builds it)');
  return native;
};
const routedInC = (): number => io().counters().dtlsRouted;
const channelData = (data: Buffer | string): Buffer => {
  const bytes = Buffer.from(data);
  return Buffer.concat([channelDataHeader(CHANNEL, bytes.length), bytes]);
};
const binding = (): Buffer => new MessageBuilder(Method.Binding, StunClass.Request).build();

/** A server with relay workers (relay-threads 2) serving DTLS, with /metrics, and an echo peer. */
async function startThreadedDtls() {
  const { startThreaded, echoPeer } = relayThreadHelpers(cleanups);
  const base = await testServerOptions();
  const server = await startThreaded({ noDtls: false, tls: { ...base.tls, cert: certificate.cert, pkey: certificate.key }, metrics: METRICS });
  return { server, peer: await echoPeer() };
}

/** Within 5 s, no relay worker has an allocation left. */
async function expectNoAllocations(server: TurnServer): Promise<void> {
  const allocated = async (): Promise<number> => (await server.workerAllocationCounts()).reduce((a, b) => a + b, 0);
  for (let i = 0; i < 250 && (await allocated()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(await allocated()).toBe(0);
}

async function setUp(limits: Partial<DtlsLimits> = {}) {
  const { address, server, service } = await startDtls(cleanups, certificate, { limits });
  const peer = await openPeerUntilCleanup(cleanups, '127.0.0.1');
  const client = await boundClient(cleanups, address.port, peer.address);
  // The first packet each way: JS relays it and hands the channel to the addon.
  client.sendRecord(ContentType.ApplicationData, channelData('first'));
  const relay = await peer.next();
  expect(relay.data.toString()).toBe('first');
  const back = (data: Buffer | string): void => void peer.socket.send(data, relay.port, relay.address);
  back('first back');
  expect((await client.receive()).equals(channelData('first back'))).toBe(true);
  return { server, service, peer, client, back, address };
}

const onlyAllocation = (server: TurnServer): Allocation => {
  const [allocation] = [...server.engine.allocations];
  if (!allocation) throw new Error('no allocation');
  return allocation;
};

/** Every epoch-1 record the client gets from now on, in arrival order. */
function recordsTo(client: MiniDtlsClient): { type: number; sequence: number }[] {
  const seen: { type: number; sequence: number }[] = [];
  client.socket.on('message', (datagram: Buffer) => {
    for (const record of parseRecords(datagram) ?? []) if (record.epoch === 1) seen.push({ type: record.type, sequence: record.sequence });
  });
  return seen;
}

describe.runIf(process.platform === 'linux')('a DTLS client\'s channels relayed in C', () => {
  it('relays both ways without JS, byte for byte, and counts every packet and byte', async () => {
    const { server, peer, client, back } = await setUp();
    const count = 50;
    const before = routedInC();
    for (let i = 0; i < count; i++) {
      client.sendRecord(ContentType.ApplicationData, channelData(Buffer.alloc(100 + i, i)));
      expect((await peer.next()).data).toEqual(Buffer.alloc(100 + i, i));
      back(Buffer.alloc(200 + i, i));
      expect(await client.receive()).toEqual(channelData(Buffer.alloc(200 + i, i)));
    }
    expect(routedInC() - before).toBe(2 * count);
    const allocation = onlyAllocation(server);
    const sum = (base: number) => count * base + (count * (count - 1)) / 2;
    expect(allocation.packetsFromClient).toBe(count + 1);
    expect(allocation.bytesFromClient).toBe('first'.length + sum(100));
    expect(allocation.packetsToClient).toBe(count + 1);
    expect(allocation.bytesToClient).toBe('first back'.length + sum(200));
    const counters = server.engine.counters;
    expect(counters.relayedToPeerPackets).toBe(count + 1);
    expect(counters.relayedToClientPackets).toBe(count + 1);
  });

  it('numbers the records JS seals and those C seals from one counter: unique, increasing, all opened', async () => {
    const { client, back } = await setUp();
    const seen = recordsTo(client);
    const before = routedInC();
    const rounds = 40;
    for (let i = 0; i < rounds; i++) {
      // A peer's datagram (sealed in C) and a request (answered by JS) in the same instant.
      back(`data ${i}`);
      client.sendRecord(ContentType.ApplicationData, binding());
      if (i % 8 === 7) await until(() => seen.length >= 2 * (i + 1), 'the answers so far');
    }
    const opened: Buffer[] = [];
    for (let i = 0; i < 2 * rounds; i++) opened.push(await client.receive());
    const data = opened.filter((plain) => plain[0]! >= 0x40).map((plain) => plain.subarray(4).toString());
    expect(data).toEqual(Array.from({ length: rounds }, (_, i) => `data ${i}`));
    const answers = opened.filter((plain) => plain[0]! < 0x40).map((plain) => decodeMessage(plain).cls);
    expect(answers).toEqual(Array<number>(rounds).fill(StunClass.SuccessResponse));
    expect(routedInC() - before).toBe(rounds);
    const sequences = seen.map((r) => r.sequence);
    expect(sequences).toHaveLength(2 * rounds);
    for (let i = 1; i < sequences.length; i++) expect(sequences[i], `record ${i}`).toBeGreaterThan(sequences[i - 1]!);
    // JS's next records (an alert at close) go on from the same counter.
    client.sendRecord(ContentType.Alert, Buffer.from([1, 0])); // close_notify
    await until(() => seen.length > 2 * rounds, 'the close_notify');
    expect(seen.at(-1)).toEqual({ type: ContentType.Alert, sequence: sequences.at(-1)! + 1 });
  });

  it('relays no record twice, whichever side took it first, and drops no record that is only late', async () => {
    const { peer, client } = await setUp();
    const before = routedInC();
    const seen = recordsTo(client);
    const taken = client.sendRecord(ContentType.ApplicationData, channelData('once'));
    expect((await peer.next()).data.toString()).toBe('once');
    client.send(taken);
    client.send(taken);
    // A request JS answers, replayed once the channel is routed: answered once.
    const request = client.sendRecord(ContentType.ApplicationData, binding());
    expect(decodeMessage(await client.receive()).cls).toBe(StunClass.SuccessResponse);
    client.send(request);
    await new Promise((resolve) => setTimeout(resolve, 50)); // a turn of their own: those of JS's turn stay with JS
    // Out of order within the window: both relayed.
    const early = client.seal(ContentType.ApplicationData, channelData('early'));
    const late = client.seal(ContentType.ApplicationData, channelData('late'));
    client.send(late);
    client.send(early);
    client.sendRecord(ContentType.ApplicationData, channelData('last'));
    await until(() => peer.received.length >= 3, 'the last at the peer');
    await new Promise((resolve) => setTimeout(resolve, 100)); // time for a stray duplicate to arrive
    expect(peer.received.map((d) => d.data.toString())).toEqual(['late', 'early', 'last']);
    expect(routedInC() - before).toBe(4);
    expect(seen).toHaveLength(1); // the request's one answer
  });

  it('relays nothing in C once the session is replaced by a new handshake, then again under the new keys', async () => {
    const { server, peer, client, back } = await setUp();
    client.sendRecord(ContentType.ApplicationData, channelData('routed'));
    expect((await peer.next()).data.toString()).toBe('routed');
    await client.handshakeAgain();
    await until(() => server.engine.allocations.size === 0, 'the old allocation freed');
    const before = routedInC();
    back('to the old relay');
    await allocateAndBind(client, peer.address);
    client.sendRecord(ContentType.ApplicationData, channelData('new keys'));
    const relay = await peer.next();
    expect(relay.data.toString()).toBe('new keys');
    expect(routedInC()).toBe(before); // JS relayed it, and made the new session's route
    peer.socket.send('new back', relay.port, relay.address);
    expect((await client.receive()).equals(channelData('new back'))).toBe(true);
    client.sendRecord(ContentType.ApplicationData, channelData('in C again'));
    expect((await peer.next()).data.toString()).toBe('in C again');
    expect(routedInC()).toBe(before + 2);
  });

  it('relays nothing once the session closed, and keeps the counts of what C relayed', async () => {
    const { server, peer, client, back } = await setUp();
    client.sendRecord(ContentType.ApplicationData, channelData('routed'));
    expect((await peer.next()).data.toString()).toBe('routed');
    const allocation = onlyAllocation(server);
    client.sendRecord(ContentType.Alert, Buffer.from([1, 0])); // close_notify
    await until(() => server.engine.allocations.size === 0, 'the allocation freed');
    expect(allocation.packetsFromClient).toBe(2);
    expect(allocation.packetsToClient).toBe(1);
    const before = { routed: routedInC(), received: client.datagramsReceived };
    back('after the close');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(routedInC()).toBe(before.routed);
    expect(client.datagramsReceived).toBe(before.received);
  });

  it('keeps a session whose records only C took: they count against its idle timeout', async () => {
    const idleTimeoutMs = 400;
    const { service, peer, client } = await setUp({ idleTimeoutMs });
    const before = routedInC();
    const started = Date.now();
    for (let i = 0; Date.now() - started < 2 * idleTimeoutMs; i++) {
      client.sendRecord(ContentType.ApplicationData, channelData(`${i}`));
      expect((await peer.next()).data.toString()).toBe(`${i}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(routedInC() - before).toBeGreaterThan(0);
    service.sweep();
    expect(service.sessions).toBe(1);
  });

  it('relays on relay workers (relay-threads 2), and /metrics sums what they relayed, also once the sessions closed', async () => {
    const { server, peer } = await startThreadedDtls();
    const port = server.udpAddresses[0]!.port; // DTLS is served on the UDP port too
    const clients: MiniDtlsClient[] = [];
    for (let i = 0; i < 4; i++) clients.push(await boundClient(cleanups, port, peer.address));
    const PACKETS = 20;
    const SIZE = 40;
    for (const client of clients) {
      for (let i = 0; i < PACKETS; i++) {
        client.sendRecord(ContentType.ApplicationData, channelData(Buffer.alloc(SIZE, i)));
        expect(await client.receive()).toEqual(channelData(Buffer.alloc(SIZE, i)));
      }
    }
    const text = await scrapeMetrics(server);
    expectTrafficTotals(text, clients.length * PACKETS, SIZE);
    // Each client's first packet to the peer went through JS, which made the route; the rest did not.
    expect(valueOf(text, 'turnpike_dtls_routed_packets_total')).toBe(clients.length * (2 * PACKETS - 1));
    expect(valueOf(text, 'turnpike_udp_routed_packets_total')).toBe(clients.length * (2 * PACKETS - 1));
    for (const client of clients) client.sendRecord(ContentType.Alert, Buffer.from([1, 0])); // close_notify
    await expectNoAllocations(server);
    expectTrafficTotals(await scrapeMetrics(server), clients.length * PACKETS, SIZE);
  });

  it('on relay workers, a client that handshakes again is relayed in C under its new keys, its old socket and routes gone', async () => {
    const { server, peer } = await startThreadedDtls();
    const client = await boundClient(cleanups, server.udpAddresses[0]!.port, peer.address);
    const echo = async (text: string): Promise<void> => {
      client.sendRecord(ContentType.ApplicationData, channelData(text));
      expect(await client.receive()).toEqual(channelData(text));
    };
    const routed = async (): Promise<number> => valueOf(await scrapeMetrics(server), 'turnpike_dtls_routed_packets_total') ?? -1;
    for (let i = 0; i < 5; i++) await echo(`old ${i}`);
    expect(await routed()).toBe(2 * 5 - 1); // the first packet to the peer went through JS
    await client.handshakeAgain();
    await expectNoAllocations(server);
    await allocateAndBind(client, peer.address);
    for (let i = 0; i < 5; i++) await echo(`new ${i}`);
    expect(await routed()).toBe(2 * (2 * 5 - 1));
  });

  describe.each([
    ['AES-128-GCM', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
    ['AES-256-GCM', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ])('turnutils_uclient -S with %s', (_name, suite) => {
    let peer: PeerHandle;
    beforeAll(async () => {
      peer = await startPeer();
    });
    afterAll(() => peer.stop());

    it('relays with 0 lost, in C', async () => {
      const { address } = await startDtls(cleanups, certificate);
      const before = routedInC();
      const r = await runUclient({
        host: '127.0.0.1', port: address.port, user: ALICE.username, password: ALICE.password, secure: true, noRtcp: true,
        clients: 4, messages: 50, length: 120, peerAddr: peer.host, peerPort: peer.port, extraArgs: ['-F', suite], timeoutMs: 45_000,
      });
      expect(r.exitCode, r.output).toBe(0);
      expect(r.received).toBe(200);
      expect(r.lostPackets).toBe(0);
      // Both ways, but for the packets JS relayed before each channel's route was made.
      expect(routedInC() - before).toBeGreaterThan(200);
    });
  });
});
