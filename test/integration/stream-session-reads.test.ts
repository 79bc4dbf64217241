// A TCP client's reads on a natively accepted socket land in one buffer the thread reuses, and
// the session frames them without copying (src/net/stream-reads.ts): ChannelData is relayed
// before the next read, but a STUN request the engine answers later must not point into that
// buffer. Real sockets on 127.0.0.1; the engine's relay binding is slowed (relayDelayMs) so that
// the Allocate is answered after the next read has overwritten the buffer.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeTcpAccept } from '../../src/net/native-tcp-accept.js';
import { StreamSession } from '../../src/net/stream-session.js';
import { silentLogger } from '../../src/log/logger-interface.js';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage, type StunMessage } from '../../src/stun/index.js';
import { StreamFramer } from '../../src/stun/stream-framer.js';
import { closeEngineHarnesses, engineHarness } from '../support/engine-harness.js';
import { waitFor } from '../unit/dtls/harness.js';

const native = nativeTcpAccept();
const closers: (() => void)[] = [];
afterEach(() => {
  closeEngineHarnesses();
  closers.splice(0).forEach((close) => close());
});

describe.skipIf(!('accept' in native))('a TCP session reading into the reused buffer', () => {
  it('answers a request after later reads with its own transaction ID', async () => {
    if (!('accept' in native)) return;
    const t = await engineHarness({ relayDelayMs: 100 });
    await t.request(Method.Refresh); // learn a nonce for 127.0.0.1 (437: no allocation yet)
    const listening = native.accept.listen(4, '127.0.0.1', 0, false, (socket, reads, frames) => {
      closers.push(() => socket.destroy());
      new StreamSession('tcp', socket, t.engine, silentLogger, 60, undefined, reads, frames);
    });
    closers.push(() => listening.close());
    const client = net.connect(listening.port, '127.0.0.1');
    closers.push(() => client.destroy());
    const answers: StunMessage[] = [];
    const framer = new StreamFramer();
    client.on('data', (data: Buffer) => framer.push(data, (frame) => void answers.push(decodeMessage(Buffer.from(frame)))));

    const allocate = t.signed(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17));
    client.write(allocate);
    expect(await waitFor(() => t.engine.allocationsInFlight === 1)).toBe(true);
    // Read into the same buffer while the Allocate waits for its relay.
    const bindings = Array.from({ length: 3 }, () => new MessageBuilder(Method.Binding, StunClass.Request).build());
    for (const binding of bindings) {
      client.write(binding);
      expect(await waitFor(() => answers.some((a) => a.transactionId.equals(binding.subarray(8, 20))))).toBe(true);
    }
    expect(await waitFor(() => answers.length === 4)).toBe(true);
    const answer = answers.find((a) => a.method === Method.Allocate);
    expect(answer?.cls).toBe(StunClass.SuccessResponse);
    expect(answer!.transactionId).toEqual(allocate.subarray(8, 20));
  });
});
