// TURN over real UDP sockets on loopback: what a client and its peers observe.
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import type { TurnServer } from '../../src/server.js';
import {
  AttributeType,
  MessageBuilder,
  Method,
  StunClass,
  decodeMessage,
  longTermKey,
  readAddress,
  readErrorCode,
  readString,
  readUint32,
  readUnknownAttributes,
  readXorAddress,
  verifyIntegrity,
} from '../../src/stun/index.js';
import type { ServerOptions } from '../../src/config/server-options.js';
import { ALICE, REALM, testServerOptions } from '../support/server-options.js';
import { PEER_HOST, UdpTestClient, openPeerUntilCleanup } from '../support/turn-client.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { silentLogger } from '../../src/log/logger-interface.js';
import { freePortRange, freeUdpTcpPort } from '../support/ports.js';
import { StreamTestClient } from '../support/stream-client.js';

const cleanups = cleanupAfterEach();

const startServer = (overrides: Partial<ServerOptions> = {}): Promise<TurnServer> => startInProcessServer(cleanups, overrides);

async function client(server: TurnServer, credentials = ALICE): Promise<UdpTestClient> {
  const c = await UdpTestClient.open(server.udpAddresses[0]!, credentials);
  cleanups.push(() => c.close());
  return c;
}

const peer = (address = PEER_HOST) => openPeerUntilCleanup(cleanups, address);

const code = (m: ReturnType<typeof decodeMessage>) => readErrorCode(m, AttributeType.ErrorCode)?.code;

describe('Binding', () => {
  it('answers XOR-MAPPED-ADDRESS with the client address, and FINGERPRINT when asked', async () => {
    const server = await startServer();
    const c = await client(server);
    const builder = new MessageBuilder(Method.Binding, StunClass.Request);
    const response = await c.transact(builder, builder.build({ fingerprint: true }));
    expect(response.cls).toBe(StunClass.SuccessResponse);
    expect(readXorAddress(response, AttributeType.XorMappedAddress)).toEqual({ family: 4, address: '127.0.0.1', port: c.socket.address().port });
    expect(response.fingerprint).toBeDefined();
  });

  it('keeps the answer minimal by default: XOR-MAPPED-ADDRESS and nothing else; SOFTWARE only when configured', async () => {
    const plain = await client(await startServer());
    const minimal = await plain.transact(new MessageBuilder(Method.Binding, StunClass.Request));
    expect([...minimal.attributes.keys()]).toEqual([AttributeType.XorMappedAddress]);
    expect(minimal.buffer.length).toBe(32);

    const named = await client(await startServer({ softwareAttribute: true }));
    const withSoftware = await named.transact(new MessageBuilder(Method.Binding, StunClass.Request));
    expect(readString(withSoftware, AttributeType.Software, 763)).toBe('Turnpike test');
  });

  it('answers an RFC 3489 request (no magic cookie) with MAPPED-ADDRESS', async () => {
    const server = await startServer();
    const c = await client(server);
    const cookie = Buffer.from([1, 2, 3, 4]);
    const builder = new MessageBuilder(Method.Binding, StunClass.Request, undefined, cookie);
    const response = await c.transact(builder);
    expect(response.hasMagicCookie).toBe(false);
    expect(readAddress(response, AttributeType.MappedAddress)?.address).toBe('127.0.0.1');
    expect(readXorAddress(response, AttributeType.XorMappedAddress)).toBeUndefined();
  });

  it('answers 420 listing an unknown comprehension-required attribute', async () => {
    const server = await startServer();
    const c = await client(server);
    const builder = new MessageBuilder(Method.Binding, StunClass.Request).add(0x0077, Buffer.from([1, 2, 3, 4]));
    const response = await c.transact(builder);
    expect(code(response)).toBe(420);
    expect(readUnknownAttributes(response, AttributeType.UnknownAttributes)).toEqual([0x0077]);
  });

  it('survives garbage: the next request is still answered', async () => {
    const server = await startServer();
    const c = await client(server);
    for (const junk of [Buffer.alloc(0), Buffer.from([0x00, 0x01, 0x00]), Buffer.alloc(28, 0xff), Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0x40, 0, 0, 9])]) {
      c.sendRaw(junk);
    }
    const response = await c.transact(new MessageBuilder(Method.Binding, StunClass.Request));
    expect(response.cls).toBe(StunClass.SuccessResponse);
    expect(server.engine.counters.droppedMalformed + server.engine.counters.droppedNoAllocation).toBeGreaterThanOrEqual(4);
  });
});

describe('Allocate', () => {
  it('challenges with 401, REALM and NONCE, then allocates with a signed response', async () => {
    const server = await startServer();
    const c = await client(server);
    const first = await c.transact(new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17));
    expect(code(first)).toBe(401);
    expect(first.messageIntegrity).toBeUndefined();
    const response = await c.allocate();
    expect(response.cls).toBe(StunClass.SuccessResponse);
    expect(verifyIntegrity(response, c.key!)).toBe('ok');
    const relay = readXorAddress(response, AttributeType.XorRelayedAddress)!;
    expect(relay.address).toBe('127.0.0.1');
    expect(readUint32(response, AttributeType.Lifetime)).toBe(600);
    expect(readXorAddress(response, AttributeType.XorMappedAddress)?.port).toBe(c.socket.address().port);
  });

  it('refuses a wrong password and an unknown user alike with 401', async () => {
    const server = await startServer();
    for (const creds of [{ username: 'alice', password: 'nope' }, { username: 'mallory', password: 'x' }]) {
      const c = await client(server, creds);
      const response = await c.allocate();
      expect(code(response)).toBe(401);
    }
    expect(server.engine.allocations.size).toBe(0);
  });

  it('answers a retransmission with the same bytes, and a new Allocate with 437', async () => {
    const server = await startServer();
    const c = await client(server);
    await c.allocate(); // learn the nonce (and allocate)
    await c.refresh(0);
    const builder = new MessageBuilder(Method.Allocate, StunClass.Request)
      .addFirstByte(AttributeType.RequestedTransport, 17)
      .addString(AttributeType.Username, ALICE.username)
      .addString(AttributeType.Realm, c.realm!)
      .addString(AttributeType.Nonce, c.nonce!);
    const sealed = builder.build({ integrityKey: c.key });
    const first = await c.transact(builder, sealed);
    const again = await c.transact(builder, sealed);
    expect(first.cls).toBe(StunClass.SuccessResponse);
    expect(again.buffer.equals(first.buffer)).toBe(true);
    expect(code(await c.allocate())).toBe(437);
  });

  it.each([
    ['no REQUESTED-TRANSPORT', (_b: MessageBuilder) => {}, 400],
    ['an unknown transport', (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 99), 442],
    ['TCP relaying over UDP (RFC 6062 §5.1)', (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 6), 400],
    ['an unknown address family', (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17).addFirstByte(AttributeType.RequestedAddressFamily, 3), 440],
    ['IPv6 when the server has no IPv6 relay', (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17).addFirstByte(AttributeType.RequestedAddressFamily, 2), 440],
  ])('refuses %s with %i', async (_name, add, expected) => {
    const server = await startServer();
    const c = await client(server);
    expect(code(await c.allocate(add))).toBe(expected);
  });

  it('caps LIFETIME at max-allocate-lifetime and raises a short one to the default', async () => {
    const server = await startServer({ maxAllocateLifetime: 1200 });
    const c = await client(server);
    const long = await c.allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).addUint32(AttributeType.Lifetime, 99999));
    expect(readUint32(long, AttributeType.Lifetime)).toBe(1200);
    expect(readUint32(await c.refresh(5), AttributeType.Lifetime)).toBe(600);
  });

  it('answers 508 when the relay port range is exhausted', async () => {
    const server = await startServer();
    const clients = await Promise.all(Array.from({ length: 41 }, () => client(server)));
    const codes = [];
    for (const c of clients) codes.push(code(await c.allocate()) ?? 200);
    expect(codes.filter((x) => x === 200)).toHaveLength(40);
    expect(codes[40]).toBe(508);
  });

  it('serves EVEN-PORT with a reservation token that a second client redeems for port+1', async () => {
    const server = await startServer();
    const rtp = await client(server);
    const rtcp = await client(server);
    const first = await rtp.allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).addEvenPort(true));
    const relay = readXorAddress(first, AttributeType.XorRelayedAddress)!;
    expect(relay.port % 2).toBe(0);
    const token = first.attributes.get(AttributeType.ReservationToken)!;
    const tokenBytes = first.buffer.subarray(token.offset, token.offset + token.length);
    const second = await rtcp.allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).add(AttributeType.ReservationToken, tokenBytes));
    expect(readXorAddress(second, AttributeType.XorRelayedAddress)?.port).toBe(relay.port + 1);
    const third = await (await client(server)).allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).add(AttributeType.ReservationToken, tokenBytes));
    expect(code(third)).toBe(508);
  });

  it('gives an EVEN-PORT pair the port a relay socket bound ahead of need was holding', async () => {
    // A range of one even pair: the first allocation takes one port, and the socket bound
    // ahead of the next Allocate the other. Once the first is gone, the pair must be free.
    const first = await freePortRange('127.0.0.1', 4);
    const even = first + (first % 2);
    const server = await startServer({ minPort: even, maxPort: even + 1 });
    const plain = await client(server);
    await plain.allocateRelay();
    expect(code(await plain.refresh(0))).toBeUndefined();
    const rtp = await client(server);
    const pair = await rtp.allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).addEvenPort(true));
    expect(readXorAddress(pair, AttributeType.XorRelayedAddress)?.port).toBe(even);
  });

  it('reports the external-ip in XOR-RELAYED-ADDRESS, keeping the relay port', async () => {
    const server = await startServer({ externalIps: new Map([['127.0.0.1', '203.0.113.7']]) });
    const c = await client(server);
    const relay = await c.allocateRelay();
    expect(relay.address).toBe('203.0.113.7');
    const local = [...server.engine.allocations][0]!.relays.ipv4!.local;
    expect(relay.port).toBe(local.port);
  });

  it('refuses UDP relaying with 442 under no-udp-relay', async () => {
    const server = await startServer({ noUdpRelay: true });
    const c = await client(server);
    expect(code(await c.allocate())).toBe(442);
  });

  it('says TURN is off (403) when no credentials are configured', async () => {
    const server = await startServer({ users: [] });
    expect(server.authMode).toBe('stun-only');
    const c = await client(server);
    expect(code(await c.allocate())).toBe(403);
  });

  it('relays without credentials only with no-auth', async () => {
    const server = await startServer({ users: [], noAuth: true });
    const c = await UdpTestClient.open(server.udpAddresses[0]!);
    cleanups.push(() => c.close());
    const response = await c.allocate();
    expect(response.cls).toBe(StunClass.SuccessResponse);
  });
});

describe('permissions, channels and relaying', () => {
  it('relays Send indications both ways once a permission exists, and drops them before', async () => {
    const server = await startServer();
    const c = await client(server);
    const p = await peer();
    const relay = await c.allocateRelay();
    c.sendIndication(p.address, Buffer.from('too early'));
    expect(code(await c.createPermission(p.address))).toBeUndefined();
    c.sendIndication(p.address, Buffer.from('hello peer'));
    const atPeer = await p.next();
    expect(atPeer.data.toString()).toBe('hello peer');
    expect(atPeer.port).toBe(relay.port);
    expect(p.received).toHaveLength(0); // 'too early' never arrived
    p.socket.send('hello client', relay.port, relay.address);
    const data = decodeMessage((await c.nextDatagram()).data);
    expect(data.method).toBe(Method.Data);
    expect(data.cls).toBe(StunClass.Indication);
    expect(readXorAddress(data, AttributeType.XorPeerAddress)).toEqual(p.address);
  });

  it('relays ChannelData both ways on a bound channel', async () => {
    const server = await startServer();
    const c = await client(server);
    const p = await peer();
    const relay = await c.allocateRelay();
    expect((await c.channelBind(0x4001, p.address)).cls).toBe(StunClass.SuccessResponse);
    c.sendChannelData(0x4001, Buffer.from('over the channel'));
    expect((await p.next()).data.toString()).toBe('over the channel');
    p.socket.send('and back', relay.port, relay.address);
    const back = (await c.nextDatagram()).data;
    expect(back.readUInt16BE(0)).toBe(0x4001);
    expect(back.readUInt16BE(2)).toBe(8);
    expect(back.subarray(4).toString()).toBe('and back');
  });

  it('drops data from a peer without a permission', async () => {
    const server = await startServer();
    const c = await client(server);
    const stranger = await peer();
    const relay = await c.allocateRelay();
    stranger.socket.send('let me in', relay.port, relay.address);
    expect(await c.quietFor(300)).toBe(true);
    expect(server.engine.counters.droppedNoPermission).toBe(1);
  });

  it('applies the channel number rules (range, one peer per number, one number per peer)', async () => {
    const server = await startServer();
    const c = await client(server);
    const p1 = await peer();
    const p2 = await peer();
    await c.allocateRelay();
    expect(code(await c.channelBind(0x3fff, p1.address))).toBe(400);
    expect(code(await c.channelBind(0x8000, p1.address))).toBe(400);
    expect(code(await c.channelBind(0x7fff, p1.address))).toBeUndefined();
    expect(code(await c.channelBind(0x7fff, p1.address))).toBeUndefined(); // refresh
    expect(code(await c.channelBind(0x7fff, p2.address))).toBe(400);
    expect(code(await c.channelBind(0x4000, p1.address))).toBe(400);
  });

  it('enforces RFC 8656 channel numbers with strict-channel-numbers', async () => {
    const server = await startServer({ strictChannelNumbers: true });
    const c = await client(server);
    const p = await peer();
    await c.allocateRelay();
    expect(code(await c.channelBind(0x5000, p.address))).toBe(400);
    expect(code(await c.channelBind(0x4fff, p.address))).toBeUndefined();
  });

  it('refuses loopback peers without allow-loopback-peers, and special ranges always', async () => {
    const server = await startServer({ allowLoopbackPeers: false });
    const c = await client(server);
    await c.allocateRelay();
    for (const address of ['127.0.0.1', '10.1.2.3', '169.254.169.254', '0.0.0.0', '224.0.0.1', '192.168.1.1']) {
      expect(code(await c.createPermission({ family: 4, address, port: 9 }))).toBe(403);
    }
    expect(code(await c.createPermission({ family: 4, address: '8.8.8.8', port: 53 }))).toBeUndefined();
  });

  it('answers 443 for a peer of a family the allocation has no relay for', async () => {
    const server = await startServer();
    const c = await client(server);
    await c.allocateRelay();
    expect(code(await c.createPermission({ family: 6, address: '2001:4860::8888', port: 9 }))).toBe(443);
  });

  it('answers 437 to requests without an allocation, and 441 to another user on the same 5-tuple', async () => {
    const base = await testServerOptions();
    const server = await startServer({ users: [...base.users, { name: 'bob', key: longTermKey('bob', REALM, 'b') }] });
    const c = await client(server);
    expect(code(await c.refresh(600))).toBe(437);
    await c.allocateRelay();
    const asBob = new MessageBuilder(Method.Refresh, StunClass.Request)
      .addString(AttributeType.Username, 'bob')
      .addString(AttributeType.Realm, REALM)
      .addString(AttributeType.Nonce, c.nonce!);
    const response = await c.transact(asBob, asBob.build({ integrityKey: longTermKey('bob', REALM, 'b') }));
    expect(code(response)).toBe(441);
  });

  it('frees the relay port when a Refresh with LIFETIME 0 deletes the allocation', async () => {
    const server = await startServer();
    const c = await client(server);
    const relay = await c.allocateRelay();
    expect(server.engine.allocations.size).toBe(1);
    expect(await canBindUdp(relay.address, relay.port)).toBe(false);
    expect(readUint32(await c.refresh(0), AttributeType.Lifetime)).toBe(0);
    expect(server.engine.allocations.size).toBe(0);
    expect(await canBindUdp(relay.address, relay.port)).toBe(true);
  });
});

function canBindUdp(address: string, port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

describe('address families and old clients, as configured', () => {
  it('allocation-default-address-family: ipv4 by default, ipv6 or the family reached (keep) when set', async () => {
    const relayOf = async (family: ServerOptions['defaultAddressFamily'], listen: string) => {
      const server = await startServer({ listeningIps: [listen], relayIps: ['127.0.0.1', '::1'], defaultAddressFamily: family });
      return (await client(server)).allocateRelay();
    };
    expect((await relayOf('ipv4', '::1')).family).toBe(4);
    expect((await relayOf('ipv6', '127.0.0.1')).family).toBe(6);
    expect((await relayOf('keep', '::1')).family).toBe(6);
    expect((await relayOf('keep', '127.0.0.1')).family).toBe(4);
  });

  it('no-stun-backward-compatibility: an RFC 3489 request is dropped, an RFC 5389 one answered', async () => {
    const server = await startServer({ stunBackwardCompatibility: false });
    const c = await client(server);
    const old = new MessageBuilder(Method.Binding, StunClass.Request, undefined, Buffer.from([1, 2, 3, 4]));
    await expect(c.transact(old, undefined, 700)).rejects.toThrow(/no response/);
    expect(server.engine.counters.droppedMalformed).toBeGreaterThan(0); // once per (re)transmission
    expect((await c.transact(new MessageBuilder(Method.Binding, StunClass.Request))).cls).toBe(StunClass.SuccessResponse);
  });

  it('log-binding: each Binding request is logged, and none without it', async () => {
    const lines: string[] = [];
    const logger = { ...silentLogger, info: (line: string) => void lines.push(line) };
    for (const logBinding of [false, true]) {
      const server = await startInProcessServer(cleanups, { logBinding }, logger);
      await (await client(server)).transact(new MessageBuilder(Method.Binding, StunClass.Request));
    }
    expect(lines.filter((l) => l.startsWith('Binding from 127.0.0.1:'))).toHaveLength(1);
  });
});

describe('aux-server', () => {
  it('serves STUN and TURN on an extra endpoint, over UDP and TCP', async () => {
    const port = await freeUdpTcpPort('127.0.0.1');
    const server = await startServer({ noTcp: false, auxServers: [{ family: 4, address: '127.0.0.1', port }] });
    expect(server.udpAddresses.map((a) => a.port)).toContain(port);
    const overUdp = await UdpTestClient.open({ address: '127.0.0.1', port }, ALICE);
    cleanups.push(() => overUdp.close());
    expect((await overUdp.allocate()).cls).toBe(StunClass.SuccessResponse);
    const overTcp = await StreamTestClient.open({ family: 4, address: '127.0.0.1', port });
    cleanups.push(() => overTcp.close());
    overTcp.socket.write(new MessageBuilder(Method.Binding, StunClass.Request).build());
    expect((await overTcp.nextMessage()).cls).toBe(StunClass.SuccessResponse);
  });
});
