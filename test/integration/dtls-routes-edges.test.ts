// Malformed, replayed and borderline records on a DTLS client's routed channel (native/dtls-routes.c):
// whatever C declines goes to JS, which takes it exactly as before; nothing is relayed twice,
// nothing unauthenticated is relayed, and the server keeps relaying afterwards. Real sockets.
import { describe, expect, it } from 'vitest';
import { nativeUdpIo } from '../../src/net/native-udp/addon.js';
import { ContentType } from '../../src/net/dtls/record.js';
import type { RecordProtection } from '../../src/net/dtls/protection.js';
import { AttributeType, MessageBuilder, Method, StunClass, channelDataHeader, decodeMessage } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { openPeerUntilCleanup } from '../support/turn-client.js';
import { certificateForFile, startDtls } from '../unit/dtls/harness.js';
import type { MiniDtlsClient } from '../unit/dtls/mini-client.js';
import type { EngineReload } from '../../src/turn/engine.js';
import { MiniDtlsClient as DtlsClient } from '../unit/dtls/mini-client.js';
import { CHANNEL, allocateAndBind, signed, until } from '../unit/dtls/turn-over-dtls.js';

const cleanups = cleanupAfterEach();
const certificate = certificateForFile();

const routedInC = (): number => nativeUdpIo()!.counters().dtlsRouted;
const channelData = (data: Buffer | string, channel = CHANNEL): Buffer => {
  const bytes = Buffer.from(data);
  return Buffer.concat([channelDataHeader(channel, bytes.length), bytes]);
};
/** The client's record layer, to frame records it would not send. */
const layer = (client: MiniDtlsClient) => client as unknown as { protection: RecordProtection; sequence: number; port: number };
const sealAt = (client: MiniDtlsClient, type: number, epoch: number, data: Buffer): Buffer =>
  layer(client).protection.seal(type, epoch, layer(client).sequence++, [data]);
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

async function setUp() {
  const { server, service, address } = await startDtls(cleanups, certificate);
  const peer = await openPeerUntilCleanup(cleanups, '127.0.0.1');
  const client = await DtlsClient.connect(address.port);
  cleanups.push(() => client.close());
  const nonce = await allocateAndBind(client, peer.address);
  client.sendRecord(ContentType.ApplicationData, channelData('first'));
  const relay = await peer.next();
  const back = (data: Buffer | string): void => void peer.socket.send(data, relay.port, relay.address);
  back('first back');
  expect((await client.receive()).equals(channelData('first back'))).toBe(true);
  // Routed from here on.
  client.sendRecord(ContentType.ApplicationData, channelData('routed'));
  expect((await peer.next()).data.toString()).toBe('routed');
  return { server, service, peer, client, back, relay, nonce };
}

/** The payloads the peer got, once `last` arrived. */
async function peerGotUntil(peer: Awaited<ReturnType<typeof setUp>>['peer'], client: MiniDtlsClient, last = 'last'): Promise<string[]> {
  client.sendRecord(ContentType.ApplicationData, channelData(last));
  await until(() => peer.received.some((d) => d.data.toString() === last), `"${last}" at the peer`);
  await settle();
  return peer.received.splice(0).map((d) => d.data.toString());
}

describe.runIf(process.platform === 'linux' && nativeUdpIo() !== undefined)('a routed DTLS channel under malformed records', () => {
  it('relays none of the short, mis-framed, other-epoch or other-type records, and goes on relaying', async () => {
    const { server, peer, client } = await setUp();
    const good = sealAt(client, ContentType.ApplicationData, 1, channelData('framed'));
    const tampered = Buffer.from(good);
    tampered[tampered.length - 1]! ^= 1;
    const header = (length: number, size: number) => {
      const d = Buffer.alloc(size);
      d[0] = ContentType.ApplicationData; d[1] = 0xfe; d[2] = 0xfd; d[4] = 1; d[10] = 200; d.writeUInt16BE(length, 11);
      return d;
    };
    const datagrams = [
      Buffer.alloc(0), header(0, 13), header(23, 36), header(24, 37), header(0xffff, 60),
      good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.alloc(1)]), // the header's length says otherwise
      tampered,
      sealAt(client, ContentType.ApplicationData, 2, channelData('epoch 2')),
      sealAt(client, ContentType.ApplicationData, 0, channelData('epoch 0')),
      sealAt(client, ContentType.Handshake, 1, channelData('handshake type')),
      sealAt(client, ContentType.Alert + 30, 1, channelData('type 51')),
      sealAt(client, ContentType.ApplicationData, 1, channelData('other channel', CHANNEL + 1)),
      sealAt(client, ContentType.ApplicationData, 1, Buffer.from([0x40, 0x01, 0x00, 0x10, 1, 2, 3])), // ChannelData longer than the record
      sealAt(client, ContentType.ApplicationData, 1, Buffer.from([0x40, 0x01, 0x00])), // 3 bytes
      sealAt(client, ContentType.ApplicationData, 1, Buffer.alloc(0)), // an empty record
    ];
    const before = routedInC();
    for (const d of datagrams) {
      client.send(d);
      await settle(); // each in a turn of its own, C's to try first (in a turn with others, JS takes it)
    }
    expect(await peerGotUntil(peer, client)).toEqual(['last']);
    expect(routedInC() - before).toBe(1);
    // The tampered record's sequence number was not marked: the genuine one is still taken.
    client.send(good);
    expect(await peerGotUntil(peer, client, 'after good')).toEqual(['framed', 'after good']);
    expect(server.engine.allocations.size).toBe(1);
  });

  it('relays padded ChannelData without its padding, and the largest record a UDP datagram holds', async () => {
    const { peer, client, back } = await setUp();
    const before = routedInC();
    client.sendRecord(ContentType.ApplicationData, Buffer.concat([channelData('pad'), Buffer.alloc(1, 0xee)]));
    expect((await peer.next()).data.toString()).toBe('pad');
    const largest = 65507 - 41; // one IPv4 datagram: the record's header, nonce, tag and ChannelData header around it
    client.sendRecord(ContentType.ApplicationData, channelData(Buffer.alloc(largest, 7)));
    expect((await peer.next()).data).toEqual(Buffer.alloc(largest, 7));
    expect(routedInC() - before).toBe(2);
    // From the peer: the largest that fits one datagram sealed, then one too large to, then more.
    back(Buffer.alloc(largest, 8));
    expect(await client.receive()).toEqual(channelData(Buffer.alloc(largest, 8)));
    back(Buffer.alloc(65507, 9));
    back('after');
    expect(await client.receive()).toEqual(channelData('after'));
  });

  it('takes every record of a datagram holding several, and none of them again', async () => {
    const { peer, client } = await setUp();
    const a = sealAt(client, ContentType.ApplicationData, 1, channelData('two-a'));
    const b = sealAt(client, ContentType.ApplicationData, 1, channelData('two-b'));
    client.send(Buffer.concat([a, b]));
    await until(() => peer.received.length >= 2, 'both records at the peer');
    client.send(a);
    client.send(b);
    client.send(Buffer.concat([b, a]));
    expect(await peerGotUntil(peer, client)).toEqual(['two-a', 'two-b', 'last']);
  });

  it('relays a record with a bad tag never, even sent first, and the genuine one after it once', async () => {
    const { peer, client } = await setUp();
    const genuine = sealAt(client, ContentType.ApplicationData, 1, channelData('genuine'));
    for (const at of [13, 21, genuine.length - 1]) {
      const bad = Buffer.from(genuine);
      bad[at]! ^= 0x80;
      client.send(bad);
      await settle(); // each in a turn of its own: C tries it first
    }
    const before = routedInC();
    client.send(genuine);
    await until(() => peer.received.length > 0, 'the genuine record at the peer');
    expect(routedInC() - before).toBe(1); // in C, its number unmarked by the forgeries
    client.send(genuine);
    expect(await peerGotUntil(peer, client)).toEqual(['genuine', 'last']);
  });

  it('sends no record numbered 2^48 or above, whichever side would seal it: the session ends instead', async () => {
    const { server, client, back } = await setUp();
    const [allocation] = [...server.engine.allocations];
    const records = (allocation!.session as unknown as { records: { array: Float64Array } }).records;
    records.array[0] = 2 ** 48 - 2; // the server's next number, as after 2^48 - 2 records
    const seen: number[] = [];
    client.socket.on('message', (d: Buffer) => seen.push(d.readUIntBE(5, 6)));
    back('a');
    back('b');
    await until(() => seen.length >= 2, 'the last two numbers');
    back('c'); // C declines it, JS has no number left for it
    await until(() => server.engine.allocations.size === 0, 'the session ended');
    await settle();
    expect(seen).toEqual([2 ** 48 - 2, 2 ** 48 - 1]);
  });

  it('keeps the replay window exact up to the client\'s last sequence number, 2^48 - 1', async () => {
    const { peer, client } = await setUp();
    const at = (sequence: number, text: string): Buffer => layer(client).protection.seal(ContentType.ApplicationData, 1, sequence, [channelData(text)]);
    const before = routedInC();
    const sent: [number, string][] = [[2 ** 48 - 1, 'last number'], [2 ** 48 - 65, 'too old'], [2 ** 48 - 64, 'oldest in the window'], [2 ** 48 - 1, 'again']];
    for (const [sequence, text] of sent) {
      client.send(at(sequence, text));
      await settle(); // each in a turn of its own, C's to take or decline
    }
    expect(peer.received.splice(0).map((d) => d.data.toString())).toEqual(['last number', 'oldest in the window']);
    expect(routedInC() - before).toBe(2);
  });

  it('ends the session, answering nothing, when a request comes with no sequence number left', async () => {
    const { server, client } = await setUp();
    const [allocation] = [...server.engine.allocations];
    (allocation!.session as unknown as { records: { array: Float64Array } }).records.array[0] = 2 ** 48;
    const received = client.datagramsReceived;
    client.sendRecord(ContentType.ApplicationData, new MessageBuilder(Method.Binding, StunClass.Request).build());
    await until(() => server.engine.allocations.size === 0, 'the session ended');
    await settle();
    expect(client.datagramsReceived).toBe(received);
  });

  it('relays nothing a client sent right behind its Refresh to 0, in the same turn', async () => {
    const { server, peer, client, nonce } = await setUp();
    const before = routedInC();
    client.sendRecord(ContentType.ApplicationData, signed(Method.Refresh, nonce, (b) => b.addUint32(AttributeType.Lifetime, 0)));
    client.sendRecord(ContentType.ApplicationData, channelData('after the end'));
    expect(decodeMessage(await client.receive()).cls).toBe(StunClass.SuccessResponse);
    await settle();
    expect(peer.received).toEqual([]);
    expect(routedInC()).toBe(before);
    expect(server.engine.allocations.size).toBe(0);
  });

  it('relays neither plain ChannelData from the client\'s address nor, as ChannelData, the peer\'s other port', async () => {
    const { peer, client, relay } = await setUp();
    client.socket.send(channelData('plain, no record'), layer(client).port, '127.0.0.1');
    const other = await openPeerUntilCleanup(cleanups, '127.0.0.1');
    const before = routedInC();
    other.socket.send('from another port', relay.port, relay.address);
    const plain = await client.receive();
    expect(plain[0]! < 0x40, 'a Data indication (JS), not ChannelData').toBe(true);
    expect(decodeMessage(plain).method).toBe(Method.Data);
    expect(routedInC()).toBe(before);
    expect(await peerGotUntil(peer, client)).toEqual(['last']);
  });

  it('keeps relaying the open session in C, under its keys, while the same 5-tuple starts another handshake', async () => {
    const { peer, client, back } = await setUp();
    const old = { ...layer(client) };
    await client.startAnotherHandshake(); // a valid-cookie ClientHello, left there: not verified
    await settle(); // its turn over, with the server's flight sent
    const before = routedInC();
    layer(client).protection = old.protection;
    client.sendRecord(ContentType.ApplicationData, channelData('old keys'));
    expect((await peer.next()).data.toString()).toBe('old keys');
    back('old keys back');
    expect((await client.receive()).equals(channelData('old keys back'))).toBe(true);
    expect(routedInC() - before).toBe(2);
  });

  it('relays nothing either way once a reload\'s peer rules refuse the peer', async () => {
    const { server, peer, client, back } = await setUp();
    const engine = server.engine as unknown as { ctx: EngineReload; reconfigure(reload: EngineReload): void };
    const { ctx } = engine;
    const refusing = Object.create(ctx.peerPolicy) as EngineReload['peerPolicy'];
    refusing.check = () => ({ allowed: false, rule: 'denied-peer-ip (test)' });
    const before = routedInC();
    const received = client.datagramsReceived;
    engine.reconfigure({ config: ctx.config, credentials: ctx.credentials, nonces: ctx.nonces, peerPolicy: refusing });
    back('refused');
    client.sendRecord(ContentType.ApplicationData, channelData('refused too'));
    await settle();
    expect(peer.received).toEqual([]);
    expect(client.datagramsReceived).toBe(received);
    expect(routedInC()).toBe(before);
  });

  it('sends what C sealed in a loop turn before a record JS sends at once later in that turn', async () => {
    const { server, client, back } = await setUp();
    const [allocation] = [...server.engine.allocations];
    const session = allocation!.session;
    // A socket whose datagrams arrive in the same poll phase as the peer's, right after them:
    // its handler sends a record at once (sendNow), as an answer finished outside a batch does.
    const trigger = await openPeerUntilCleanup(cleanups, '127.0.0.1');
    const js = Buffer.from(new MessageBuilder(Method.Binding, StunClass.Indication).build());
    trigger.socket.on('message', () => session.send(js));
    const seen: number[] = [];
    client.socket.on('message', (d: Buffer) => seen.push(d.readUIntBE(5, 6)));
    const rounds = 20;
    for (let i = 0; i < rounds; i++) {
      back(`c ${i}`);
      trigger.socket.send('now', trigger.address.port, '127.0.0.1');
      await until(() => seen.length >= 2 * (i + 1), 'both records');
    }
    for (let i = 1; i < seen.length; i++) expect(seen[i], `record ${i} of ${seen.join(' ')}`).toBeGreaterThan(seen[i - 1]!);
  });
});
