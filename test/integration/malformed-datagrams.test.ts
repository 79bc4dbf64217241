// Junk over real sockets: thousands of malformed datagrams and stream frames (seeded, so a
// failure replays) move nothing but the drop counters, log no error, leave no allocation, and
// the next client is served as before.
import { afterEach, describe, expect, it } from 'vitest';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import {
  AttributeType,
  MessageBuilder,
  Method,
  StunClass,
  channelDataHeader,
  type TransportAddress,
} from '../../src/stun/index.js';
import type { DropReason, EngineCounters } from '../../src/turn/counters.js';
import { silentLogger, type Logger } from '../../src/log/logger-interface.js';
import { Random, mutate, seeds } from '../support/fuzz.js';
import { ALICE, testServerOptions } from '../support/server-options.js';
import { StreamTestClient } from '../support/stream-client.js';
import { PEER_HOST, UdpTestClient, openPeer } from '../support/turn-client.js';

const SEED = 0x7e57_5eed;
const PEER: TransportAddress = { family: 4, address: PEER_HOST, port: 9 };

/** What the server should do with a piece of junk: drop it for a reason, or ignore it uncounted. */
type Outcome = DropReason | 'ignored';

interface JunkKind {
  readonly name: string;
  readonly outcome: Outcome;
  /** Frames on a stream as it is: a stream framer cuts it whole and hands it to the engine. */
  readonly framable: boolean;
  make(random: Random): Buffer;
}

interface Junk {
  readonly data: Buffer;
  readonly outcome: Outcome;
}

/** Valid messages of every kind the server reads, from the fuzzer. */
const SEEDS = seeds();
const stunSeeds = SEEDS.filter((s) => s[0]! < 0x40);
const hasFingerprint = (s: Buffer) => s.length >= 28 && s.readUInt16BE(s.length - 8) === AttributeType.Fingerprint;
const fingerprinted = stunSeeds.filter(hasFingerprint);
const pick = <T>(random: Random, list: readonly T[]): T => list[random.below(list.length)]!;
const copyOf = (random: Random, list: readonly Buffer[]) => Buffer.from(pick(random, list));
/** Four bytes that are not the magic cookie: an RFC 3489 transaction id's first word. */
const oldCookie = (random: Random) => Buffer.from([0x10 | random.below(16), ...random.bytes(3)]);

function channelData(random: Random, channel: number, claimedExtra = 0): Buffer {
  const payload = random.bytes(random.below(120));
  return Buffer.concat([channelDataHeader(channel, payload.length + claimedExtra), payload]);
}

const sendIndication = (random: Random, cookie?: Buffer) =>
  new MessageBuilder(Method.Send, StunClass.Indication, random.bytes(12), cookie)
    .addXorAddress(AttributeType.XorPeerAddress, PEER).add(AttributeType.Data, random.bytes(random.below(64))).build();

/** Junk from a client that has no allocation. */
const WITHOUT_ALLOCATION: readonly JunkKind[] = [
  { name: 'zero-length', outcome: 'Malformed', framable: false, make: () => Buffer.alloc(0) },
  { name: 'one to three bytes', outcome: 'Malformed', framable: false, make: (r) => r.bytes(1 + r.below(3)) },
  {
    name: 'random bytes, neither STUN nor ChannelData', outcome: 'Malformed', framable: false,
    make: (r) => {
      const data = r.bytes(4 + r.below(200));
      data[0]! |= 0x80;
      return data;
    },
  },
  { name: 'truncated STUN header', outcome: 'Malformed', framable: false, make: (r) => copyOf(r, stunSeeds).subarray(0, 1 + r.below(19)) },
  {
    name: 'STUN length that is not the datagram\'s', outcome: 'Malformed', framable: false,
    make: (r) => {
      const data = copyOf(r, stunSeeds);
      const actual = data.length - 20;
      data.writeUInt16BE(pick(r, [actual + 4, actual + 1, actual + 2, 0xfffc, Math.abs(actual - 4)]), 2);
      return data;
    },
  },
  {
    name: 'first attribute longer than the message', outcome: 'Malformed', framable: true,
    make: (r) => {
      const data = copyOf(r, stunSeeds);
      data.writeUInt16BE(data.length - 24 + 1 + r.below(64), 22);
      return data;
    },
  },
  {
    // FINGERPRINT covers the header and every attribute: one changed byte always breaks it.
    name: 'valid message with one byte changed under its FINGERPRINT', outcome: 'Malformed', framable: true,
    make: (r) => {
      const data = copyOf(r, fingerprinted);
      const at = r.below(2) === 0 ? 4 + r.below(16) : data.length - 1 - r.below(4);
      data[at]! ^= 1 + r.below(255);
      return data;
    },
  },
  {
    name: 'response or indication, which are not for a server', outcome: 'Malformed', framable: true,
    make: (r) => pick(r, [
      () => new MessageBuilder(Method.Binding, StunClass.SuccessResponse, r.bytes(12)).build(),
      () => new MessageBuilder(Method.Allocate, StunClass.ErrorResponse, r.bytes(12)).build(),
      () => new MessageBuilder(Method.Binding, StunClass.SuccessResponse, r.bytes(12), oldCookie(r)).build(),
      () => new MessageBuilder(Method.Data, StunClass.Indication, r.bytes(12)).add(AttributeType.Data, r.bytes(8)).build(),
    ])(),
  },
  { name: 'ChannelData without an allocation', outcome: 'NoAllocation', framable: true, make: (r) => channelData(r, 0x4000 + r.below(0x4000)) },
  {
    name: 'ChannelData claiming more than it carries, without an allocation', outcome: 'NoAllocation', framable: false,
    make: (r) => channelData(r, 0x4000 + r.below(0x4000), 1 + r.below(100)),
  },
  { name: 'Send indication without an allocation', outcome: 'NoAllocation', framable: true, make: (r) => sendIndication(r) },
  { name: 'Send indication with a wrong magic cookie', outcome: 'NoAllocation', framable: true, make: (r) => sendIndication(r, oldCookie(r)) },
  {
    // RFC 3489 clients get Binding answers only; their TURN requests go unanswered, uncounted.
    name: 'TURN request with a wrong magic cookie', outcome: 'ignored', framable: true,
    make: (r) => new MessageBuilder(pick(r, [Method.Allocate, Method.Refresh, Method.CreatePermission]), StunClass.Request, r.bytes(12), oldCookie(r))
      .addFirstByte(AttributeType.RequestedTransport, 17).build(),
  },
];

/** The largest datagrams UDP over IPv4 carries, which no STUN message fills. */
function oversized(random: Random): Junk[] {
  const notStun = random.bytes(65_507);
  notStun[0] = 0xff;
  const claimsTooMuch = Buffer.concat([copyOf(random, stunSeeds).subarray(0, 20), random.bytes(65_000)]);
  claimsTooMuch.writeUInt16BE(0xfffc, 2);
  return [notStun, claimsTooMuch].map((data) => ({ data, outcome: 'Malformed' }));
}

/** Junk from a client that has an allocation but no channel and no permission. */
const WITH_ALLOCATION: readonly JunkKind[] = [
  { name: 'ChannelData on a channel never bound', outcome: 'NoChannel', framable: true, make: (r) => channelData(r, 0x4000 + r.below(0x1000)) },
  { name: 'ChannelData claiming more than it carries', outcome: 'Malformed', framable: false, make: (r) => channelData(r, 0x4000, 1 + r.below(100)) },
  { name: 'Send indication to a peer without a permission', outcome: 'NoPermission', framable: true, make: (r) => sendIndication(r) },
  {
    name: 'Send indication without DATA', outcome: 'Malformed', framable: true,
    make: (r) => new MessageBuilder(Method.Send, StunClass.Indication, r.bytes(12)).addXorAddress(AttributeType.XorPeerAddress, PEER).build(),
  },
];

function junk(random: Random, kinds: readonly JunkKind[], count: number): Junk[] {
  return Array.from({ length: count }, () => {
    const kind = pick(random, kinds);
    return { data: kind.make(random), outcome: kind.outcome };
  });
}

const REASONS = Object.keys({
  Malformed: 0, NoAllocation: 0, NoPermission: 0, NoChannel: 0, Unauthenticated: 0, Backpressure: 0, Bandwidth: 0, Policy: 0,
} satisfies Record<DropReason, 0>) as DropReason[];

const dropCounts = (counters: EngineCounters) => Object.fromEntries(REASONS.map((r) => [r, counters[`dropped${r}`]]));

/** Drops by reason the junk should add to the counters. */
function expectedDrops(sent: readonly Junk[]): Record<string, number> {
  const counts = Object.fromEntries(REASONS.map((r) => [r, 0]));
  for (const { outcome } of sent) if (outcome !== 'ignored') counts[outcome]!++;
  return counts;
}

function dropsDuring(counters: EngineCounters, before: Record<string, number>): Record<string, number> {
  const after = dropCounts(counters);
  return Object.fromEntries(REASONS.map((r) => [r, after[r]! - before[r]!]));
}

/**
 * Sends every datagram, with a Binding round trip after each few: the server reads one socket
 * in order, so once the answer is back every datagram before it was handled, and no burst
 * outgrows the server's receive buffer. Returns how many Bindings were answered.
 */
async function sendInBatches(client: UdpTestClient, datagrams: readonly Buffer[]): Promise<number> {
  let bindings = 0;
  const roundTrip = async () => {
    const answer = await client.transact(new MessageBuilder(Method.Binding, StunClass.Request));
    expect(answer.cls).toBe(StunClass.SuccessResponse);
    bindings++;
  };
  let batchBytes = 0;
  for (const datagram of datagrams) {
    if (batchBytes > 0 && batchBytes + datagram.length > 32 * 1024) {
      await roundTrip();
      batchBytes = 0;
    }
    client.sendRaw(datagram);
    batchBytes += datagram.length + 512; // and the kernel's bookkeeping per datagram
  }
  await roundTrip();
  return bindings;
}

/** ChannelData on a stream is padded to a multiple of four (RFC 8656 §12.5). */
const framed = (data: Buffer) => (data[0]! >= 0x40 ? Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]) : data);

describe('malformed input over real sockets', () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const errors: string[] = [];
  const recordingLogger: Logger = { ...silentLogger, error: (m) => void errors.push(m) };

  async function startServer(): Promise<TurnServer> {
    const server = await createTurnServer(await testServerOptions({ noTcp: false }), recordingLogger);
    cleanups.push(() => server.close());
    return server;
  }

  async function udpClient(server: TurnServer, credentials = ALICE): Promise<UdpTestClient> {
    const client = await UdpTestClient.open(server.udpAddresses[0]!, credentials);
    cleanups.push(() => client.close());
    return client;
  }

  async function streamClient(server: TurnServer): Promise<StreamTestClient> {
    const client = await StreamTestClient.open(server.streamAddresses[0]!);
    cleanups.push(() => client.close());
    return client;
  }

  /** Datagrams the client's socket receives, whatever they are. */
  function countArrivals(client: UdpTestClient): () => number {
    let count = 0;
    client.socket.on('message', () => count++);
    return () => count;
  }

  async function udpJunkWithoutAllocation(server: TurnServer, random: Random): Promise<number> {
    const client = await udpClient(server);
    const arrivals = countArrivals(client);
    const sent = [...junk(random, WITHOUT_ALLOCATION, 1500), ...oversized(random)];
    const before = dropCounts(server.engine.counters);
    const bindings = await sendInBatches(client, sent.map((j) => j.data));
    expect(dropsDuring(server.engine.counters, before)).toEqual(expectedDrops(sent));
    expect(arrivals(), 'nothing but the Binding answers came back').toBe(bindings);

    // The generic mutation fuzzer's output, from the same socket: answered or dropped, never fatal.
    const fuzzed = Array.from({ length: 600 }, () => mutate(random, SEEDS));
    await sendInBatches(client, fuzzed);
    return sent.length + fuzzed.length;
  }

  async function udpJunkWithAllocation(server: TurnServer, random: Random): Promise<void> {
    const client = await udpClient(server);
    await client.allocateRelay();
    const sent = junk(random, WITH_ALLOCATION, 300);
    const before = dropCounts(server.engine.counters);
    await sendInBatches(client, sent.map((j) => j.data));
    expect(dropsDuring(server.engine.counters, before)).toEqual(expectedDrops(sent));
    expect((await client.refresh(0)).cls).toBe(StunClass.SuccessResponse);
  }

  async function streamJunk(server: TurnServer, random: Random): Promise<void> {
    const client = await streamClient(server);
    const sent = junk(random, WITHOUT_ALLOCATION.filter((k) => k.framable), 400);
    const before = dropCounts(server.engine.counters);
    client.socket.write(Buffer.concat(sent.map((j) => framed(j.data))));
    // TCP keeps order: the first thing back must be the answer to this, all junk handled before it.
    const binding = new MessageBuilder(Method.Binding, StunClass.Request);
    client.socket.write(binding.build());
    const answer = await client.nextMessage();
    expect(answer.transactionId).toEqual(Buffer.from(binding.transactionId));
    expect(answer.cls).toBe(StunClass.SuccessResponse);
    expect(dropsDuring(server.engine.counters, before)).toEqual(expectedDrops(sent));
  }

  /** Bytes no framer can cut: the server drops them and closes the connection. */
  async function unframableStreams(server: TurnServer): Promise<void> {
    const stunLength6 = Buffer.alloc(20);
    stunLength6.writeUInt16BE(Method.Binding, 0);
    stunLength6.writeUInt16BE(6, 2); // not a multiple of 4
    const garbage: Junk[] = [
      Buffer.from('GET / HTTP/1.1\r\nHost: turn\r\n\r\n'), // 'GE' reads as ChannelData of 21,536 bytes: over the limit
      Buffer.from([0xff, 0, 0, 0]), // neither STUN nor ChannelData
      stunLength6,
    ].map((data) => ({ data, outcome: 'Malformed' }));
    const before = dropCounts(server.engine.counters);
    for (const { data } of garbage) {
      const client = await streamClient(server);
      client.socket.write(data);
      await client.closed();
    }
    expect(dropsDuring(server.engine.counters, before)).toEqual(expectedDrops(garbage));
  }

  async function relaysOneMessageEachWay(server: TurnServer): Promise<void> {
    const client = await udpClient(server);
    const relay = await client.allocateRelay();
    const peer = await openPeer();
    cleanups.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
    expect((await client.channelBind(0x4000, peer.address)).cls).toBe(StunClass.SuccessResponse);
    client.sendChannelData(0x4000, Buffer.from('to the peer'));
    expect((await peer.next()).data.toString()).toBe('to the peer');
    peer.socket.send(Buffer.from('to the client'), relay.port, relay.address);
    const back = await client.nextDatagram();
    expect(back.data.readUInt16BE(0)).toBe(0x4000);
    expect(back.data.subarray(4).toString()).toBe('to the client');
    expect(server.engine.allocations.size).toBe(1);
    expect((await client.refresh(0)).cls).toBe(StunClass.SuccessResponse);
  }

  it('drops thousands of malformed datagrams and frames, counting each, then serves the next client', async () => {
    const server = await startServer();
    const random = new Random(SEED);

    const udpSent = await udpJunkWithoutAllocation(server, random);
    expect(udpSent).toBeGreaterThanOrEqual(2000);
    await udpJunkWithAllocation(server, random);
    await streamJunk(server, random);
    await unframableStreams(server);
    expect(server.engine.allocations.size, 'no junk left an allocation behind').toBe(0);

    await relaysOneMessageEachWay(server);
    expect(server.engine.allocations.size).toBe(0);
    expect(errors, 'nothing reached the error log').toEqual([]);
  }, 20_000);
});
