// The long-term credential mechanism refusing what an attacker can send without alice's
// password: a MESSAGE-INTEGRITY-SHA256 made with another key, a nonce the server never issued,
// and a nonce the server issued to another address. Each refusal is checked beside the same
// request done right, so that it is the forged part that is refused.
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, Method, StunClass, longTermKey, type MessageBuilder, type StunMessage } from '../../../src/stun/index.js';
import { closeEngineHarnesses, engineHarness } from '../../support/engine-harness.js';
import { ALICE, ALICE_KEY, REALM } from '../../support/server-options.js';

afterEach(closeEngineHarnesses);
const udp = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
const classes = (answers: StunMessage[]) => answers.map((m) => m.cls);

describe('authentication refuses forgeries', () => {
  it('a MESSAGE-INTEGRITY-SHA256 made with another key gets 401 and allocates nothing; made with alice’s, it allocates', async () => {
    const t = await engineHarness();
    await t.request(Method.Refresh); // learn a nonce (437: no allocation yet)
    const wrongKey = longTermKey(ALICE.username, REALM, 'not her password');
    const forged = await t.answersTo(t.signed(Method.Allocate, udp, { seal: { integritySha256Key: wrongKey } }));
    expect(forged.map(t.code)).toEqual([401]);
    expect(t.engine.allocations.size).toBe(0);
    const genuine = await t.answersTo(t.signed(Method.Allocate, udp, { seal: { integritySha256Key: ALICE_KEY } }));
    expect(classes(genuine)).toEqual([StunClass.SuccessResponse]);
    expect(t.engine.allocations.size).toBe(1);
  });

  it('a nonce the server did not issue (an issued one with its last character changed) gets 438; the issued one works', async () => {
    const t = await engineHarness();
    await t.request(Method.Refresh);
    const issued = t.nonce();
    const tampered = issued.slice(0, -1) + (issued.endsWith('A') ? 'B' : 'A');
    const refused = await t.answersTo(t.signed(Method.Allocate, udp, { nonce: tampered }));
    expect(refused.map(t.code)).toEqual([438]);
    expect(t.engine.allocations.size).toBe(0);
    expect(classes(await t.answersTo(t.signed(Method.Allocate, udp, { nonce: issued })))).toEqual([StunClass.SuccessResponse]);
  });

  it('a nonce issued to another client address gets 438; the one issued to this address works', async () => {
    const t = await engineHarness();
    await t.request(Method.Refresh); // alice at 127.0.0.1 learns a nonce
    const elsewhere = t.client('127.0.0.2');
    const refused = await elsewhere.answersTo(elsewhere.signed(Method.Allocate, udp, { nonce: t.nonce() }));
    expect(refused.map(t.code)).toEqual([438]);
    expect(t.engine.allocations.size).toBe(0);
    expect((await elsewhere.request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse); // with the nonce the 438 gave it
  });
});
