// A challenge the reply budget withholds costs no nonce: under a spoofed flood most 401s are
// withheld, and making the nonce (an HMAC) was half of what each one cost the server.
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage, readErrorCode, readString } from '../../../src/stun/index.js';
import { NONCE_LENGTH, NonceIssuer } from '../../../src/turn/nonce.js';
import { ReplyBudget } from '../../../src/turn/reply-budget.js';
import { closeEngineHarnesses, engineHarness } from '../../support/engine-harness.js';

afterEach(closeEngineHarnesses);

/** A real issuer that counts the nonces it makes. */
class CountingNonces extends NonceIssuer {
  issued = 0;
  override issue(clientAddress: string, nowMs: number, features: number, tag?: number): string {
    this.issued++;
    return super.issue(clientAddress, nowMs, features, tag);
  }
}

const minimalAllocate = () => new MessageBuilder(Method.Allocate, StunClass.Request).addFirstByte(AttributeType.RequestedTransport, 17).build();

describe('challenges under the reply budget', () => {
  it('makes a nonce only for the 401s that are sent, and sends no more bytes than came in plus the advance', async () => {
    const nonces = new CountingNonces(600);
    const advanceBytes = 256;
    const t = await engineHarness({ nonces, replyBudget: new ReplyBudget({ advanceBytes }) });
    const requests = 200;
    let bytesIn = 0;
    for (let i = 0; i < requests; i++) {
      const request = minimalAllocate();
      bytesIn += request.length;
      t.engine.handlePacket(t.session, request);
    }
    const answers = t.session.sent.map((data) => decodeMessage(data));
    const bytesOut = t.session.sent.reduce((sum, data) => sum + data.length, 0);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.length).toBeLessThan(requests);
    expect(answers.every((m) => readErrorCode(m, AttributeType.ErrorCode)?.code === 401)).toBe(true);
    expect(answers.every((m) => readString(m, AttributeType.Nonce, 763)?.length === NONCE_LENGTH)).toBe(true);
    expect(bytesOut).toBeLessThanOrEqual(bytesIn + advanceBytes);
    expect(nonces.issued).toBe(answers.length);
    expect(t.errors).toEqual([]);
  });
});
