// Lifetimes with an injected clock: nonces go stale, permissions, channels and allocations
// expire, and expired state is pruned — without waiting and without fake timers.
import { afterEach, describe, expect, it } from 'vitest';
import { StaticUsers } from '../../../src/auth/credentials.js';
import { UdpRelays } from '../../../src/net/udp-relays.js';
import { PeerPolicy } from '../../../src/policy/peer-policy.js';
import { engineConfigOf } from '../../../src/server.js';
import {
  AttributeType,
  MessageBuilder,
  Method,
  StunClass,
  decodeMessage,
  longTermKey,
  readErrorCode,
  readString,
  readXorAddress,
  type StunMessage,
  type TransportAddress,
} from '../../../src/stun/index.js';
import type { Allocation } from '../../../src/turn/allocation.js';
import { TurnEngine } from '../../../src/turn/engine.js';
import { silentLogger } from '../../../src/turn/logger.js';
import { NonceIssuer } from '../../../src/turn/nonce.js';
import type { ClientSession } from '../../../src/turn/session.js';
import { freePortRange } from '../../support/ports.js';
import { ALICE, REALM, testServerOptions } from '../../support/server-options.js';

/** The client side of a 5-tuple, as the engine sees it: it records what the engine sends. */
class RecordingSession implements ClientSession {
  readonly transport = 'udp' as const;
  readonly remote: TransportAddress = { family: 4, address: '127.0.0.1', port: 40000 };
  readonly local: TransportAddress = { family: 4, address: '127.0.0.1', port: 3478 };
  allocation: Allocation | undefined;
  readonly sent: Buffer[] = [];
  setAllocation(a: Allocation | undefined): void {
    this.allocation = a;
  }
  send(data: Buffer): void {
    this.sent.push(data);
  }
  sendChannelData(header: Buffer, payload: Buffer): void {
    this.sent.push(Buffer.concat([header, payload]));
  }
}

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

async function setup(staleNonceSeconds = 600) {
  let now = 1_700_000_000_000;
  const first = await freePortRange('127.0.0.1', 10);
  const relays = new UdpRelays({ relayIps: ['127.0.0.1'], minPort: first, maxPort: first + 9, externalIps: new Map() }, silentLogger);
  const options = await testServerOptions();
  const engine = new TurnEngine(engineConfigOf(options), {
    credentials: new StaticUsers(options.users, REALM),
    relays,
    peerPolicy: new PeerPolicy({ allowLoopbackPeers: true }),
    nonces: new NonceIssuer(staleNonceSeconds),
    logger: silentLogger,
    clock: () => now,
  });
  closers.push(() => {
    engine.close();
    relays.close();
  });
  const session = new RecordingSession();
  const key = longTermKey(ALICE.username, REALM, ALICE.password);
  let nonce = '';

  /** Sends a request and waits for the engine's answer (requests are handled asynchronously). */
  async function requestOnce(method: number, add: (b: MessageBuilder) => void = () => {}): Promise<StunMessage> {
    const builder = new MessageBuilder(method, StunClass.Request);
    add(builder);
    builder.addString(AttributeType.Username, ALICE.username).addString(AttributeType.Realm, REALM).addString(AttributeType.Nonce, nonce);
    const before = session.sent.length;
    engine.handlePacket(session, builder.build({ integrityKey: key }));
    for (let i = 0; i < 200 && session.sent.length === before; i++) await new Promise((r) => setTimeout(r, 5));
    const response = decodeMessage(session.sent[session.sent.length - 1]!);
    const fresh = readString(response, AttributeType.Nonce, 763);
    if (fresh) nonce = fresh;
    return response;
  }
  const code = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode)?.code;
  /** As a client does: a 438 (or a first 401) is answered by trying again with the new nonce. */
  async function request(method: number, add: (b: MessageBuilder) => void = () => {}): Promise<StunMessage> {
    const response = await requestOnce(method, add);
    return code(response) === 438 ? requestOnce(method, add) : response;
  }
  return {
    requestOnce,
    engine,
    session,
    request,
    code,
    advance: (ms: number) => {
      now += ms;
      engine.tick();
    },
  };
}

const allocateAttrs = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
const peer: TransportAddress = { family: 4, address: '127.0.0.1', port: 9999 };

describe('lifetimes (injected clock)', () => {
  it('a nonce older than stale-nonce gets 438 with a fresh one, which then works', async () => {
    const t = await setup(60);
    expect(t.code(await t.requestOnce(Method.Allocate, allocateAttrs))).toBe(438); // no nonce yet
    expect(t.code(await t.requestOnce(Method.Refresh))).toBe(437); // the nonce is good
    t.advance(61_000);
    expect(t.code(await t.requestOnce(Method.Refresh))).toBe(438);
    expect((await t.requestOnce(Method.Allocate, allocateAttrs)).cls).toBe(StunClass.SuccessResponse);
  });

  it('an allocation expires at its lifetime, and Refresh extends it', async () => {
    const t = await setup();
    await t.request(Method.Allocate, allocateAttrs);
    expect(t.engine.allocations.size).toBe(1);
    t.advance(590_000);
    expect(t.code(await t.request(Method.Refresh, (b) => b.addUint32(AttributeType.Lifetime, 600)))).toBeUndefined();
    t.advance(590_000);
    expect(t.engine.allocations.size).toBe(1);
    t.advance(11_000);
    expect(t.engine.allocations.size).toBe(0);
    expect(t.session.allocation).toBeUndefined();
    expect(t.code(await t.request(Method.Refresh))).toBe(437);
  });

  it('a permission lasts 300 s unless refreshed', async () => {
    const t = await setup();
    await t.request(Method.Allocate, allocateAttrs);
    const allocation = t.session.allocation!;
    await t.request(Method.CreatePermission, (b) => b.addXorAddress(AttributeType.XorPeerAddress, peer));
    t.advance(299_000);
    expect(allocation.hasPermission(peer.address, 1_700_000_000_000 + 299_000)).toBe(true);
    t.advance(2_000);
    expect(allocation.permissionCount).toBe(0);
  });

  it('a channel lasts 600 s, and its number stays reserved for its peer 5 minutes more', async () => {
    const t = await setup();
    await t.request(Method.Allocate, allocateAttrs);
    const allocation = t.session.allocation!;
    const other: TransportAddress = { ...peer, port: 10000 };
    await t.request(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, peer));
    await t.request(Method.Refresh, (b) => b.addUint32(AttributeType.Lifetime, 3600));
    t.advance(601_000);
    expect(allocation.channelByNumber(0x4000, 1_700_000_000_000 + 601_000)).toBeUndefined();
    expect(t.code(await t.request(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, other)))).toBe(400);
    t.advance(300_000);
    expect(allocation.channelCount).toBe(0);
    expect(t.code(await t.request(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, other)))).toBeUndefined();
  });

  it('the XOR-RELAYED-ADDRESS is a port in min-port..max-port', async () => {
    const t = await setup();
    const response = await t.request(Method.Allocate, allocateAttrs);
    const relay = readXorAddress(response, AttributeType.XorRelayedAddress)!;
    expect(relay.port).toBe(t.session.allocation!.relays.ipv4!.local.port);
  });
});
