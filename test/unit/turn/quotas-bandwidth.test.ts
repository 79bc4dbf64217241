// Quotas (486) and bandwidth (max-bps, bps-capacity) through the engine, on the injected
// clock: limits are proven by counting bytes against time the test controls, not wall time.
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, Method, StunClass, readErrorCode, readXorAddress, type MessageBuilder } from '../../../src/stun/index.js';
import { closeEngineHarnesses, engineHarness } from '../../support/engine-harness.js';

afterEach(closeEngineHarnesses);
const udp = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
const code = (m: { cls: number } & Parameters<typeof readErrorCode>[0]) => readErrorCode(m, AttributeType.ErrorCode)?.code;

describe('quotas', () => {
  it('user-quota: 486 for the user past it, and room again when one ends', async () => {
    const t = await engineHarness({ options: { userQuota: 2 } });
    const [a, b, c] = [t.client(), t.client(), t.client()];
    expect((await a.request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse);
    expect((await b.request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse);
    const refused = await c.request(Method.Allocate, udp);
    expect(code(refused)).toBe(486);
    expect(t.engine.counters.quotaRefusalsUser).toBe(1);
    await a.request(Method.Refresh, (m) => m.addUint32(AttributeType.Lifetime, 0));
    expect((await c.request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse);
  });

  it('total-quota: 486 past it, for anyone', async () => {
    const t = await engineHarness({ options: { totalQuota: 1 } });
    expect((await t.client().request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse);
    expect(code(await t.client().request(Method.Allocate, udp))).toBe(486);
    expect(t.engine.counters.quotaRefusalsTotal).toBe(1);
  });

  it('bps-capacity: 486 when the pool cannot cover another max-bps', async () => {
    const t = await engineHarness({ options: { maxBps: 1000, bpsCapacity: 2500 } });
    expect((await t.client().request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse);
    expect((await t.client().request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse);
    expect(code(await t.client().request(Method.Allocate, udp))).toBe(486);
  });
});

describe('max-bps', () => {
  it('relays at most max-bps bytes per second each way, per the engine clock', async () => {
    const t = await engineHarness({ options: { maxBps: 1000 } });
    const relay = readXorAddress(await t.request(Method.Allocate, udp), AttributeType.XorRelayedAddress)!;
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.0.1', r));
    const received: Buffer[] = [];
    peer.on('message', (m) => received.push(m));
    const peerAddress = { family: 4 as const, address: '127.0.0.1', port: peer.address().port };
    await t.request(Method.ChannelBind, (b) => b.addChannelNumber(0x4000).addXorAddress(AttributeType.XorPeerAddress, peerAddress));
    const allocation = t.session.allocation!;
    const frame = Buffer.concat([Buffer.from([0x40, 0x00, 0x00, 100]), Buffer.alloc(100)]);
    // Second 1: 15 packets of 100 bytes offered, 10 fit in 1000 bytes.
    for (let i = 0; i < 15; i++) t.engine.handlePacket(t.session, frame);
    expect(allocation.packetsFromClient).toBe(10);
    expect(t.engine.counters.droppedBandwidth).toBe(5);
    // Half a second later, half a second's worth more.
    t.advance(500);
    for (let i = 0; i < 15; i++) t.engine.handlePacket(t.session, frame);
    expect(allocation.packetsFromClient).toBe(15);
    // And the other way: the peer's datagrams to the client are limited the same.
    const sentBefore = t.session.sent.length;
    for (let i = 0; i < 15; i++) peer.send(Buffer.alloc(100), relay.port, relay.address);
    for (let i = 0; i < 50 && t.engine.counters.droppedBandwidth + allocation.packetsToClient < 20; i++) await new Promise((r) => setTimeout(r, 10));
    expect(t.session.sent.length - sentBefore).toBe(10);
    peer.close();
  });

  it("lowers max-bps to the client's BANDWIDTH attribute, never raises it", async () => {
    const t = await engineHarness({ options: { maxBps: 10_000 } });
    await t.request(Method.Allocate, (b) => udp(b).addUint32(AttributeType.Bandwidth, 8)); // 8 kbit/s = 1000 B/s
    expect(t.session.allocation!.admission.bytesPerSecond).toBe(1000);
    const other = t.client();
    await other.request(Method.Allocate, (b) => udp(b).addUint32(AttributeType.Bandwidth, 8000));
    expect(other.session.allocation!.admission.bytesPerSecond).toBe(10_000);
  });
});

describe('caps per allocation', () => {
  it('refuses a permission past the cap with 508', async () => {
    const t = await engineHarness();
    await t.request(Method.Allocate, udp);
    const peers = Array.from({ length: 1001 }, (_, i) => ({ family: 4 as const, address: `8.8.${Math.floor(i / 250)}.${i % 250}`, port: 1 }));
    expect((await t.request(Method.CreatePermission, (b) => peers.slice(0, 1000).forEach((p) => b.addXorAddress(AttributeType.XorPeerAddress, p)))).cls).toBe(StunClass.SuccessResponse);
    expect(code(await t.request(Method.CreatePermission, (b) => b.addXorAddress(AttributeType.XorPeerAddress, peers[1000]!)))).toBe(508);
  });
});
