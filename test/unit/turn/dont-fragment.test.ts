// RFC 8656 §7.2 step 5: DONT-FRAGMENT is accepted when the relay sends with DF, and is an
// unknown comprehension-required attribute (420) when it cannot.
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, Method, readUnknownAttributes, readXorAddress, type MessageBuilder } from '../../../src/stun/index.js';
import { closeEngineHarnesses, engineHarness } from '../../support/engine-harness.js';

afterEach(closeEngineHarnesses);
const withDontFragment = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17).add(AttributeType.DontFragment, Buffer.alloc(0));

describe('DONT-FRAGMENT', () => {
  it('allocates when the relay sockets send with DF', async () => {
    const t = await engineHarness({ setsDontFragment: true });
    const response = await t.request(Method.Allocate, withDontFragment);
    expect(t.code(response)).toBeUndefined();
    expect(readXorAddress(response, AttributeType.XorRelayedAddress)?.address).toBe('127.0.0.1');
  });

  it('answers 420 naming the attribute when they cannot', async () => {
    const t = await engineHarness({ setsDontFragment: false });
    const response = await t.request(Method.Allocate, withDontFragment);
    expect(t.code(response)).toBe(420);
    expect(readUnknownAttributes(response, AttributeType.UnknownAttributes)).toEqual([AttributeType.DontFragment]);
    expect(t.engine.allocations.size).toBe(0);
  });
});
