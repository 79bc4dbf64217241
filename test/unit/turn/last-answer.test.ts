// The answer kept for retransmissions (RFC 8489 §6.3.1) costs its own bytes per allocation,
// never the 64 KB pool slab that the sent Buffer was cut from.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { AttributeType, MessageBuilder, Method, StunClass, channelDataHeader } from '../../../src/stun/index.js';
import { LastAnswer } from '../../../src/turn/last-answer.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const refreshAnswer = (transactionId: Buffer): Buffer =>
  new MessageBuilder(Method.Refresh, StunClass.SuccessResponse, transactionId).addUint32(AttributeType.Lifetime, 600).build({ fingerprint: true });

describe('LastAnswer', () => {
  it('gives the same bytes to a retransmission, and nothing to another transaction', () => {
    const request = new MessageBuilder(Method.Refresh, StunClass.Request);
    const transactionId = Buffer.from(request.transactionId);
    const sent = refreshAnswer(transactionId);
    const kept = new LastAnswer();
    expect(kept.to(transactionId)).toBeUndefined();
    kept.remember(sent);
    expect(kept.to(transactionId)?.equals(sent)).toBe(true);
    expect(kept.to(Buffer.from(new MessageBuilder(Method.Refresh, StunClass.Request).transactionId))).toBeUndefined();
  });

  it('lets the pool slab of the sent answer go once relayed packets have moved the pool on', async () => {
    const kept = new LastAnswer();
    const { slab, transactionId } = rememberPooledAnswer(kept);
    // Relayed ChannelData takes a pooled header each: the pool soon moves to a new slab.
    for (let i = 0; i < Buffer.poolSize; i++) channelDataHeader(0x4000, 100);
    await new Promise((resolve) => setTimeout(resolve, 0)); // WeakRef targets are held until the job ends
    collectGarbage();
    expect(slab.deref()).toBeUndefined();
    expect(kept.to(Buffer.from(transactionId, 'hex'))).toBeDefined();
  });
});

/** Remembers an answer cut from the shared pool: a weak reference to that slab, and the answer's transaction id (in hex, outside the pool). */
function rememberPooledAnswer(kept: LastAnswer): { slab: WeakRef<ArrayBufferLike>; transactionId: string } {
  const transactionId = Buffer.from(new MessageBuilder(Method.Refresh, StunClass.Request).transactionId);
  const sent = refreshAnswer(transactionId);
  expect(sent.buffer.byteLength).toBe(Buffer.poolSize); // a slice of the pool, as sent answers are
  kept.remember(sent);
  return { slab: new WeakRef(sent.buffer), transactionId: transactionId.toString('hex') };
}
