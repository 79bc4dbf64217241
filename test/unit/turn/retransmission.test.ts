// RFC 8489 §6.3.1: a retransmitted request gets the first answer, never a second allocation
// or a 437 — also when it arrives while the first is still being served.
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, Method, StunClass, type MessageBuilder } from '../../../src/stun/index.js';
import { closeEngineHarnesses, engineHarness } from '../../support/engine-harness.js';

afterEach(closeEngineHarnesses);
const allocateAttrs = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);

describe('retransmissions', () => {
  it('an Allocate retransmitted while its relay is being bound makes one allocation and one answer', async () => {
    const t = await engineHarness({ relayDelayMs: 50 });
    await t.request(Method.Refresh); // learn a nonce (437: no allocation yet)
    const allocate = t.signed(Method.Allocate, allocateAttrs);
    t.engine.handlePacket(t.session, allocate);
    t.engine.handlePacket(t.session, allocate);
    t.engine.handlePacket(t.session, allocate);
    await t.settled();
    expect(t.engine.allocations.size).toBe(1);
    const answers = t.received(allocate);
    expect(answers.map((m) => m.cls)).toEqual([StunClass.SuccessResponse]);
    // Once answered, the same bytes again get the same bytes back.
    const again = await t.answersTo(allocate);
    expect(again).toHaveLength(1);
    expect(again[0]!.buffer.equals(answers[0]!.buffer)).toBe(true);
    expect(t.engine.allocations.size).toBe(1);
  });

  it('a retransmitted CreatePermission is answered from the cache with the same bytes', async () => {
    const t = await engineHarness();
    await t.request(Method.Allocate, allocateAttrs);
    const permission = t.signed(Method.CreatePermission, (b) => b.addXorAddress(AttributeType.XorPeerAddress, { family: 4, address: '127.0.0.1', port: 1 }));
    t.engine.handlePacket(t.session, permission);
    t.engine.handlePacket(t.session, permission);
    await t.settled();
    const answers = t.received(permission);
    expect(answers).toHaveLength(2);
    expect(answers[0]!.cls).toBe(StunClass.SuccessResponse);
    expect(answers[1]!.buffer.equals(answers[0]!.buffer)).toBe(true);
  });
});
