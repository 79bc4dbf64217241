// Lifetimes with an injected clock: nonces go stale, permissions, channels and allocations
// expire, and expired state is pruned — without waiting and without fake timers.
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, Method, StunClass, readXorAddress, type MessageBuilder, type TransportAddress } from '../../../src/stun/index.js';
import { closeEngineHarnesses, engineHarness } from '../../support/engine-harness.js';

afterEach(closeEngineHarnesses);

const allocateAttrs = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
const peer: TransportAddress = { family: 4, address: '127.0.0.1', port: 9999 };

describe('lifetimes (injected clock)', () => {
  it('a nonce older than stale-nonce gets 438 with a fresh one, which then works', async () => {
    const t = await engineHarness({ staleNonceSeconds: 60 });
    expect(t.code(await t.requestOnce(Method.Allocate, allocateAttrs))).toBe(438); // no nonce yet
    expect(t.code(await t.requestOnce(Method.Refresh))).toBe(437); // the nonce is good
    t.advance(61_000);
    expect(t.code(await t.requestOnce(Method.Refresh))).toBe(438);
    expect((await t.requestOnce(Method.Allocate, allocateAttrs)).cls).toBe(StunClass.SuccessResponse);
  });

  it('an allocation expires at its lifetime, and Refresh extends it', async () => {
    const t = await engineHarness();
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
    const t = await engineHarness();
    await t.request(Method.Allocate, allocateAttrs);
    const allocation = t.session.allocation!;
    await t.request(Method.CreatePermission, (b) => b.addXorAddress(AttributeType.XorPeerAddress, peer));
    t.advance(299_000);
    expect(allocation.hasPermission(peer.address, 1_700_000_000_000 + 299_000)).toBe(true);
    t.advance(2_000);
    expect(allocation.permissionCount).toBe(0);
  });

  it('a channel lasts 600 s, and its number stays reserved for its peer 5 minutes more', async () => {
    const t = await engineHarness();
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
    const t = await engineHarness();
    const response = await t.request(Method.Allocate, allocateAttrs);
    const relay = readXorAddress(response, AttributeType.XorRelayedAddress)!;
    expect(relay.port).toBeGreaterThanOrEqual(t.options.minPort);
    expect(relay.port).toBeLessThanOrEqual(t.options.maxPort);
    expect(relay.port).toBe(t.session.allocation!.relays.ipv4!.local.port); // and the socket is bound there
  });
});
