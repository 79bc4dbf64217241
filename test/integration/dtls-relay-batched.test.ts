// DTLS clients' ChannelData relayed through native batched UDP I/O: records opened from a
// client's own socket go to the peer, and the peer's answers, sealed, to the client, both out
// of the native send area in the batch's sendmmsg. Bursts arrive complete, in order, byte for
// byte, with a real DTLS client on one side and a real UDP peer on the other.
import { describe, expect, it } from 'vitest';
import { nativeUdpIo } from '../../src/net/native-udp/addon.js';
import { ContentType } from '../../src/net/dtls/record.js';
import { MessageBuilder, Method, StunClass, channelDataHeader, decodeMessage } from '../../src/stun/index.js';
import { makeCertificate } from '../support/certs.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { openPeerUntilCleanup } from '../support/turn-client.js';
import { recordingLogger } from '../support/recording-logger.js';
import { startDtls } from '../unit/dtls/harness.js';
import { CHANNEL, allocateAndBind, ask, boundClient, until } from '../unit/dtls/turn-over-dtls.js';

const cleanups = cleanupAfterEach();

const payload = (i: number, length: number) => Buffer.alloc(length, i & 0xff).fill(`#${i}#`, 0, Math.min(length, 8));
const size = (i: number) => 1 + ((i * 53) % 1100);

describe.runIf(process.platform === 'linux')('DTLS ChannelData with native UDP I/O', () => {
  it('relays bursts both ways complete, in order and byte for byte, out of the send area', async () => {
    const io = nativeUdpIo()!;
    const certificate = makeCertificate();
    cleanups.push(() => certificate.remove());
    const { address } = await startDtls(cleanups, certificate);
    const peer = await openPeerUntilCleanup(cleanups, '127.0.0.1');
    const client = await boundClient(cleanups, address.port, peer.address);
    const count = 120;
    const burst = 30; // within the kernel's default receive buffers
    const before = io.counters();
    for (let i = 0; i < count; i += burst) {
      // One datagram per record, sent back to back: the server reads several per batch.
      for (let j = i; j < i + burst; j++) client.sendRecord(ContentType.ApplicationData, Buffer.concat([channelDataHeader(CHANNEL, size(j)), payload(j, size(j))]));
      await until(() => peer.received.length >= i + burst, 'at the peer');
    }
    peer.received.forEach((datagram, i) => expect(datagram.data.equals(payload(i, size(i))), `to the peer, ${i}`).toBe(true));
    const relay = peer.received[0]!;
    const back: Buffer[] = [];
    for (let i = 0; i < count; i += burst) {
      for (let j = i; j < i + burst; j++) peer.socket.send(payload(j, size(j)), relay.port, relay.address);
      for (let j = i; j < i + burst; j++) back.push(await client.receive());
    }
    back.forEach((data, i) => expect(data.equals(Buffer.concat([channelDataHeader(CHANNEL, size(i)), payload(i, size(i))])), `to the client, ${i}`).toBe(true));
    // Both directions left through the addon: the client's records and the peer's datagrams.
    const after = io.counters();
    expect(after.sent - before.sent).toBeGreaterThanOrEqual(2 * count);
    expect(after.received - before.received).toBeGreaterThanOrEqual(2 * count);
  });

  it('relays from the own socket of a session that replaced another of its 5-tuple, under the new keys', async () => {
    const certificate = makeCertificate();
    cleanups.push(() => certificate.remove());
    const { address, server, service } = await startDtls(cleanups, certificate);
    const peer = await openPeerUntilCleanup(cleanups, '127.0.0.1');
    const client = await boundClient(cleanups, address.port, peer.address);
    const channelData = (text: string) => Buffer.concat([channelDataHeader(CHANNEL, text.length), Buffer.from(text)]);
    client.sendRecord(ContentType.ApplicationData, channelData('old keys'));
    await until(() => peer.received.length === 1, 'the first at the peer');
    // The same 5-tuple: its own socket and session slot had served the old session.
    await client.handshakeAgain();
    await until(() => server.engine.allocations.size === 0, 'the old allocation freed');
    await allocateAndBind(client, peer.address);
    client.sendRecord(ContentType.ApplicationData, channelData('new keys'));
    await until(() => peer.received.length === 2, 'the second at the peer');
    const relay = peer.received[1]!;
    peer.socket.send('back', relay.port, relay.address);
    expect((await client.receive()).equals(channelData('back'))).toBe(true);
    expect(peer.received.map((d) => d.data.toString())).toEqual(['old keys', 'new keys']);
    expect(service.sessions).toBe(1);
  });

  it('drops replayed, forged and malformed records from an allocated client\'s own socket, logs no error, and relays what follows', async () => {
    const { logger, lines } = recordingLogger();
    const certificate = makeCertificate();
    cleanups.push(() => certificate.remove());
    const { address, service } = await startDtls(cleanups, certificate, { logger });
    const peer = await openPeerUntilCleanup(cleanups, '127.0.0.1');
    const client = await boundClient(cleanups, address.port, peer.address);
    const channelData = (text: string) => Buffer.concat([channelDataHeader(CHANNEL, text.length), Buffer.from(text)]);
    const first = client.sendRecord(ContentType.ApplicationData, channelData('first'));
    await until(() => peer.received.length === 1, 'the first at the peer');
    client.send(first); // replayed
    const forged = client.seal(ContentType.ApplicationData, channelData('forged'));
    forged[forged.length - 1]! ^= 1;
    client.send(forged);
    const cut = client.seal(ContentType.ApplicationData, channelData('cut short'));
    client.send(cut.subarray(0, cut.length - 1)); // its header frames a byte more than arrived
    const tooShort = Buffer.alloc(13 + 20); // no room for a nonce and a tag
    tooShort.set([ContentType.ApplicationData, 0xfe, 0xfd, 0, 1]);
    tooShort.writeUIntBE(1000, 5, 6);
    tooShort.writeUInt16BE(20, 11);
    client.send(tooShort);
    // Two records in one datagram: both relayed, in order.
    client.send(Buffer.concat([client.seal(ContentType.ApplicationData, channelData('second')), client.seal(ContentType.ApplicationData, channelData('third'))]));
    // A request is answered (copied out of the receive area, then handled).
    expect(decodeMessage(await ask(client, new MessageBuilder(Method.Binding, StunClass.Request).build())).cls).toBe(StunClass.SuccessResponse);
    client.sendRecord(ContentType.ApplicationData, channelData('last'));
    await until(() => peer.received.length >= 4, 'the last at the peer');
    await new Promise((resolve) => setTimeout(resolve, 100)); // time for a stray duplicate to arrive
    expect(peer.received.map((d) => d.data.toString())).toEqual(['first', 'second', 'third', 'last']);
    expect(lines.filter((line) => line.startsWith('error'))).toEqual([]);
    expect(service.sessions).toBe(1);
  });
});
