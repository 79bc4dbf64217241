// Established channels relayed by the native UDP addon without JS (routed-channels.ts,
// native/udp-routes.h), over real sockets: both ways, counted exactly, never past a lapsed
// channel or permission, never for an allocation under max-bps, and off with TURNPIKE_UDP_RELAY=js.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TurnServer } from '../../src/server.js';
import type { ServerOptions } from '../../src/config/server-options.js';
import { StunClass } from '../../src/stun/index.js';
import { nativeUdpIo } from '../../src/net/native-udp/addon.js';
import type { NativeUdpIo } from '../../src/net/native-udp/io.js';
import type { Allocation } from '../../src/turn/allocation.js';
import { ALICE } from '../support/server-options.js';
import { UdpTestClient, openPeerUntilCleanup } from '../support/turn-client.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import type { TransportAddress } from '../../src/stun/ip.js';
import { relayThreadHelpers } from '../support/relay-threads.js';
import { valueOf } from '../unit/metrics/exposition.js';
import { METRICS, expectTrafficTotals, scrapeMetrics } from '../support/metrics-scrape.js';

const cleanups = cleanupAfterEach();
const { startThreaded, echoPeer, allocatedOn } = relayThreadHelpers(cleanups);
const CHANNEL = 0x4001;
const PACKETS = 50;

const io = (): NativeUdpIo => {
  const native = nativeUdpIo();
  if (!native) throw new Error('these tests need the native UDP addon (npm ci builds it)');
  return native;
};
const routed = (): number => io().counters().routed;

interface Call {
  readonly server: TurnServer;
  readonly client: UdpTestClient;
  readonly peer: Awaited<ReturnType<typeof openPeerUntilCleanup>>;
  readonly relay: TransportAddress;
}

/** A client with an allocation and CHANNEL bound to a peer (on `peerHost`). */
async function call(overrides: Partial<ServerOptions> = {}, peerHost?: string): Promise<Call> {
  const server = await startInProcessServer(cleanups, overrides);
  const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
  cleanups.push(() => client.close());
  const peer = await openPeerUntilCleanup(cleanups, peerHost);
  const relay = await client.allocateRelay();
  expect((await client.channelBind(CHANNEL, peer.address)).cls).toBe(StunClass.SuccessResponse);
  return { server, client, peer, relay };
}

/** `text` on the channel to the peer, and `text back` from it to the client. */
async function roundTrip({ client, peer, relay }: Call, text: string): Promise<void> {
  client.sendChannelData(CHANNEL, Buffer.from(text));
  expect((await peer.next()).data.toString()).toBe(text);
  peer.socket.send(`${text} back`, relay.port, relay.address);
  expect((await client.nextDatagram()).data.subarray(4).toString()).toBe(`${text} back`);
}

/** The first round trip: JS relays both and hands the channel to the addon. */
const firstExchange = (c: Call): Promise<void> => roundTrip(c, 'first');

const onlyAllocation = (server: TurnServer): Allocation => {
  const [allocation] = [...server.engine.allocations];
  if (!allocation) throw new Error('no allocation');
  return allocation;
};

describe('channels relayed by the native addon', () => {
  it('relays a bound channel both ways without JS and counts every packet and byte', async () => {
    const c = await call();
    await firstExchange(c);
    const before = routed();
    for (let i = 0; i < PACKETS; i++) {
      c.client.sendChannelData(CHANNEL, Buffer.alloc(100 + i, i));
      const atPeer = await c.peer.next();
      expect(atPeer.data).toEqual(Buffer.alloc(100 + i, i));
      expect(atPeer.port).toBe(c.relay.port);
      c.peer.socket.send(Buffer.alloc(200 + i, i), c.relay.port, c.relay.address);
      const back = (await c.client.nextDatagram()).data;
      expect(back.readUInt16BE(0)).toBe(CHANNEL);
      expect(back.readUInt16BE(2)).toBe(200 + i);
      expect(back.subarray(4)).toEqual(Buffer.alloc(200 + i, i));
    }
    expect(routed() - before).toBe(2 * PACKETS);

    const bytes = (base: number): number => PACKETS * base + (PACKETS * (PACKETS - 1)) / 2;
    const allocation = onlyAllocation(c.server);
    expect([allocation.packetsFromClient, allocation.bytesFromClient]).toEqual([PACKETS + 1, bytes(100) + 5]);
    expect([allocation.packetsToClient, allocation.bytesToClient]).toEqual([PACKETS + 1, bytes(200) + 10]);
    const totals = c.server.engine.counters;
    expect([totals.relayedToPeerPackets, totals.relayedToPeerBytes]).toEqual([PACKETS + 1, bytes(100) + 5]);
    expect([totals.relayedToClientPackets, totals.relayedToClientBytes]).toEqual([PACKETS + 1, bytes(200) + 10]);
  });

  it('relays an IPv6 client and peer too', async () => {
    const c = await call({ listeningIps: ['::1'], relayIps: ['::1'], defaultAddressFamily: 'keep' }, '::1');
    expect(c.relay.family).toBe(6);
    await firstExchange(c);
    const before = routed();
    await roundTrip(c, 'over IPv6');
    expect(routed() - before).toBe(2);
  });

  it('keeps the counts of an allocation that ends, and relays nothing for it after', async () => {
    const c = await call();
    await firstExchange(c);
    for (let i = 0; i < 10; i++) {
      c.client.sendChannelData(CHANNEL, Buffer.alloc(10));
      await c.peer.next();
    }
    const allocation = onlyAllocation(c.server);
    c.server.engine.release(allocation, 'test');
    expect([allocation.packetsFromClient, allocation.bytesFromClient, allocation.packetsToClient]).toEqual([11, 105, 1]);
    expect(c.server.engine.counters.relayedToPeerPackets).toBe(11);
    const before = routed();
    c.client.sendChannelData(CHANNEL, Buffer.from('too late'));
    c.peer.socket.send('too late', c.relay.port, c.relay.address);
    expect(await quiet(c.peer.next)).toBe(true);
    expect(await c.client.quietFor(300)).toBe(true);
    expect(routed()).toBe(before);
  });

  it('relays nothing a client sent right behind its own request (a Refresh to 0, in the same batch)', async () => {
    const c = await call();
    await firstExchange(c);
    const before = routed();
    // Both sent in this turn: the server (this thread) reads them in one batch, the Refresh first.
    const ended = c.client.refresh(0);
    c.client.sendChannelData(CHANNEL, Buffer.from('after the end'));
    expect((await ended).cls).toBe(StunClass.SuccessResponse);
    expect(await quiet(c.peer.next)).toBe(true);
    expect(routed()).toBe(before);
  });

  it('relays nothing on a lapsed channel, nor from a peer whose permission lapsed', async () => {
    // The permission lapses after 1 s, the channel after 3 s.
    const c = await call({ permissionLifetime: 1, channelLifetime: 3 });
    await firstExchange(c);
    const before = routed();
    c.client.sendChannelData(CHANNEL, Buffer.from('live'));
    expect((await c.peer.next()).data.toString()).toBe('live');
    expect(routed()).toBe(before + 1);

    await lapse(1000);
    c.peer.socket.send('permission lapsed', c.relay.port, c.relay.address);
    expect(await c.client.quietFor(300)).toBe(true);
    c.client.sendChannelData(CHANNEL, Buffer.from('channel still live'));
    expect((await c.peer.next()).data.toString()).toBe('channel still live');

    await lapse(3000 - 1300);
    c.client.sendChannelData(CHANNEL, Buffer.from('channel lapsed'));
    expect(await quiet(c.peer.next)).toBe(true);
    expect(routed()).toBe(before + 2);
    expect(c.server.engine.counters.droppedNoPermission).toBe(1);
    expect(c.server.engine.counters.droppedNoChannel).toBe(1);
  });

  it('leaves an allocation under max-bps to JS, which meters it', async () => {
    const c = await call({ maxBps: 2000 });
    await firstExchange(c);
    const before = routed();
    for (let i = 0; i < 20; i++) c.client.sendChannelData(CHANNEL, Buffer.alloc(500));
    let arrived = 0;
    while (!(await quiet(c.peer.next))) arrived++;
    expect(arrived).toBeLessThan(20);
    expect(c.server.engine.counters.droppedBandwidth).toBe(20 - arrived);
    expect(routed()).toBe(before);
  });

  it('relays on each relay worker, and /metrics sums what both relayed, also once allocations end', async () => {
    const server = await startThreaded({ metrics: METRICS });
    const peer = await echoPeer();
    const clients = [await allocatedOn(server, 0), await allocatedOn(server, 0), await allocatedOn(server, 1), await allocatedOn(server, 1)];
    const SIZE = 40;
    for (const client of clients) {
      expect((await client.channelBind(CHANNEL, peer.address)).cls).toBe(StunClass.SuccessResponse);
      for (let i = 0; i < PACKETS; i++) {
        client.sendChannelData(CHANNEL, Buffer.alloc(SIZE, i));
        const echo = (await client.nextDatagram()).data;
        expect([echo.readUInt16BE(0), echo.subarray(4)]).toEqual([CHANNEL, Buffer.alloc(SIZE, i)]);
      }
    }
    const text = await scrapeMetrics(server);
    expectTrafficTotals(text, clients.length * PACKETS, SIZE);
    // Each client's first packet to the peer went through JS, which made the route; the rest did not.
    expect(valueOf(text, 'turnpike_udp_routed_packets_total')).toBe(clients.length * (2 * PACKETS - 1));

    await Promise.all(clients.map((c) => c.refresh(0)));
    expectTrafficTotals(await scrapeMetrics(server), clients.length * PACKETS, SIZE);
  });

  describe('with TURNPIKE_UDP_RELAY=js', () => {
    beforeEach(() => void (process.env.TURNPIKE_UDP_RELAY = 'js'));
    afterEach(() => void delete process.env.TURNPIKE_UDP_RELAY);

    it('relays every packet in JS', async () => {
      const c = await call();
      await firstExchange(c);
      const before = routed();
      await roundTrip(c, 'by JS');
      expect(routed()).toBe(before);
    });
  });
});

/** Waits `ms` for a lifetime to run out. */
const lapse = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** True when nothing arrives within 300 ms. */
async function quiet(next: (ms?: number) => Promise<unknown>): Promise<boolean> {
  try {
    await next(300);
    return false;
  } catch {
    return true;
  }
}
