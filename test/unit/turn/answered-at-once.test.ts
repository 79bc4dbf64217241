// Requests that need nothing waited for are answered within handlePacket, with no Promise
// (issue 14): the 401 to a first Allocate and a signed request of a user whose keys are in
// memory. With native UDP I/O such an answer leaves in the sendmmsg of the batch it came in,
// and the client's next datagram in that batch is not put off behind a request in flight.
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage, readErrorCode, type StunMessage } from '../../../src/stun/index.js';
import { closeEngineHarnesses, engineHarness } from '../../support/engine-harness.js';

afterEach(closeEngineHarnesses);
const udp = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
const peer = (b: MessageBuilder) => b.addXorAddress(AttributeType.XorPeerAddress, { family: 4, address: '127.0.0.1', port: 9 });
const last = (sent: Buffer[]): StunMessage => decodeMessage(sent.at(-1)!);

describe('answered within handlePacket', () => {
  it('an unsigned Allocate: its 401 is sent before handlePacket returns, and no Promise is made', async () => {
    const t = await engineHarness();
    const request = udp(new MessageBuilder(Method.Allocate, StunClass.Request)).build();
    const pending = t.engine.handlePacket(t.session, request);
    expect(pending).toBeUndefined();
    expect(t.session.sent).toHaveLength(1);
    expect(readErrorCode(last(t.session.sent), AttributeType.ErrorCode)?.code).toBe(401);
  });

  it('a signed CreatePermission of a user with keys in memory: answered before handlePacket returns; the Allocate before it is awaited', async () => {
    const t = await engineHarness();
    await t.request(Method.Refresh); // learn a nonce (437: no allocation yet)
    const allocate = t.engine.handlePacket(t.session, t.signed(Method.Allocate, udp));
    expect(allocate).toBeInstanceOf(Promise); // the relay socket is bound asynchronously
    await allocate;
    await t.settled();
    expect(last(t.session.sent).cls).toBe(StunClass.SuccessResponse);

    const sentBefore = t.session.sent.length;
    const pending = t.engine.handlePacket(t.session, t.signed(Method.CreatePermission, peer));
    expect(pending).toBeUndefined();
    expect(t.session.sent).toHaveLength(sentBefore + 1);
    expect(last(t.session.sent).cls).toBe(StunClass.SuccessResponse);
    expect(t.errors).toEqual([]);
  });
});

describe('an Allocate answered within handlePacket', () => {
  it('with no quota and a spare relay socket bound, a signed Allocate makes no Promise: its success is sent before handlePacket returns', async () => {
    const t = await engineHarness({ unwrapped: true });
    // The first Allocate finds no spare relay socket yet: it binds one, and spares behind it.
    await t.request(Method.Refresh); // learn a nonce (437: no allocation yet)
    await t.engine.handlePacket(t.session, t.signed(Method.Allocate, udp));
    expect(last(t.session.sent).cls).toBe(StunClass.SuccessResponse);
    await new Promise((r) => setTimeout(r, 50)); // the spares are bound after that answer

    const other = t.client();
    await other.request(Method.Refresh);
    const pending = t.engine.handlePacket(other.session, other.signed(Method.Allocate, udp));
    expect(pending).toBeUndefined();
    const answer = last(other.session.sent);
    expect(answer.cls).toBe(StunClass.SuccessResponse);
    expect(answer.method).toBe(Method.Allocate);
    expect(t.errors).toEqual([]);
  });
});
