// A DTLS session's edges, driven by a minimal client over real UDP: alerts, replays, forged
// records and repeated ClientHellos, which OpenSSL's client will not produce on request.
import { describe, expect, it } from 'vitest';
import { AlertDescription, AlertLevel, ContentType, plainRecord } from '../../../src/net/dtls/record.js';
import { DEFAULT_DTLS_LIMITS } from '../../../src/net/dtls/service.js';
import {
  AttributeType, MessageBuilder, Method, StunClass, decodeMessage, longTermKey, readBytes, readString, readXorAddress, type TransportAddress,
} from '../../../src/stun/index.js';
import { openPeerUntilCleanup } from '../../support/turn-client.js';
import { cleanupAfterEach } from '../../support/cleanups.js';
import { ALICE, REALM } from '../../support/server-options.js';
import { certificateForFile, startDtls, waitFor } from './harness.js';
import { MiniDtlsClient } from './mini-client.js';

const certificate = certificateForFile();
const cleanups = cleanupAfterEach();

async function connected(clock?: () => number) {
  const rig = await startDtls(cleanups, certificate, { clock });
  const client = await MiniDtlsClient.connect(rig.address.port);
  cleanups.push(() => client.close());
  return { ...rig, client };
}

const binding = () => new MessageBuilder(Method.Binding, StunClass.Request).build();

/** A request signed with Alice's long-term key. */
function signed(method: number, nonce: string, add: (b: MessageBuilder) => MessageBuilder = (b) => b): Buffer {
  return add(new MessageBuilder(method, StunClass.Request))
    .addString(AttributeType.Username, ALICE.username).addString(AttributeType.Realm, REALM).addString(AttributeType.Nonce, nonce)
    .build({ integrityKey: longTermKey(ALICE.username, REALM, ALICE.password) });
}

/** Allocates a UDP relay over the session; returns the nonce to sign more requests with, and the relay. */
async function allocate(client: MiniDtlsClient): Promise<{ nonce: string; relay: TransportAddress }> {
  const udp = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
  client.sendRecord(ContentType.ApplicationData, udp(new MessageBuilder(Method.Allocate, StunClass.Request)).build());
  const nonce = readString(decodeMessage(await client.receive()), AttributeType.Nonce, 763)!;
  client.sendRecord(ContentType.ApplicationData, signed(Method.Allocate, nonce, udp));
  const answer = decodeMessage(await client.receive());
  expect(answer.cls).toBe(StunClass.SuccessResponse);
  return { nonce, relay: readXorAddress(answer, AttributeType.XorRelayedAddress)! };
}

/** Sends a request over the session and returns the answer's class. */
async function ask(client: MiniDtlsClient, request: Buffer): Promise<number> {
  client.sendRecord(ContentType.ApplicationData, request);
  return decodeMessage(await client.receive()).cls;
}

describe('a DTLS session', () => {
  it('ends on a fatal alert from the client, and frees its allocation', async () => {
    const { server, service, client } = await connected();
    await allocate(client);
    expect(server.engine.allocations.size).toBe(1);
    client.sendRecord(ContentType.Alert, Buffer.from([AlertLevel.Fatal, AlertDescription.InternalError]));
    expect(await waitFor(() => server.engine.allocations.size === 0)).toBe(true);
    expect(service.sessions).toBe(0);
  });

  it('ignores a warning alert that is not close_notify', async () => {
    const { service, client } = await connected();
    client.sendRecord(ContentType.Alert, Buffer.from([AlertLevel.Warning, 90])); // user_canceled
    client.sendRecord(ContentType.ApplicationData, binding());
    expect(decodeMessage(await client.receive()).cls).toBe(StunClass.SuccessResponse);
    expect(service.sessions).toBe(1);
  });

  it('drops a replayed record and a forged one', async () => {
    const { server, client } = await connected();
    const record = client.sendRecord(ContentType.ApplicationData, binding());
    await client.receive();
    client.send(record); // the same record again
    const forged = client.seal(ContentType.ApplicationData, binding());
    forged.writeUIntBE(99, 5, 6); // another sequence number, which the tag covers
    client.send(forged);
    const last = binding();
    client.sendRecord(ContentType.ApplicationData, last);
    // Records are handled in order: the first answer after these is the last Binding's.
    const answer = decodeMessage(await client.receive());
    expect(answer.transactionId.equals(decodeMessage(last).transactionId)).toBe(true);
    expect(server.engine.counters.bindingRequests).toBe(2);
  });

  it('keeps the session when the ClientHello that opened it arrives again', async () => {
    const { service, client } = await connected();
    client.send(client.helloWithCookie);
    client.sendRecord(ContentType.ApplicationData, binding());
    expect(decodeMessage(await client.receive()).cls).toBe(StunClass.SuccessResponse);
    expect(service.sessions).toBe(1);
    expect(service.counters.handshakesStarted).toBe(1);
  });

  it('sends nothing back for epoch-0 handshake junk once open', async () => {
    const { client } = await connected();
    const before = client.datagramsReceived;
    client.send(plainRecord(ContentType.Handshake, 0, 9, Buffer.alloc(0))); // 13 bytes, anyone can send them
    client.sendRecord(ContentType.ApplicationData, binding());
    expect(decodeMessage(await client.receive()).cls).toBe(StunClass.SuccessResponse);
    expect(client.datagramsReceived).toBe(before + 1); // the Binding answer, no final flight before it
  });

  it('sends the final flight again when the client repeats its final flight', async () => {
    const { client } = await connected();
    client.sendFinalFlight();
    const ccs = await client.next();
    const finished = await client.next();
    expect([ccs.type, ccs.epoch]).toEqual([ContentType.ChangeCipherSpec, 0]);
    expect([finished.type, finished.epoch]).toEqual([ContentType.Handshake, 1]);
  });

  it('stays open, with its allocation and relay, while a new handshake from its 5-tuple is unfinished', async () => {
    let now = 1_000_000;
    const { server, service, client } = await connected(() => now);
    const { nonce, relay } = await allocate(client);
    const peer = await openPeerUntilCleanup(cleanups);
    await client.startAnotherHandshake(); // a valid-cookie ClientHello that is never finished
    expect(await waitFor(() => service.counters.handshakesStarted === 2)).toBe(true);
    expect(await ask(client, signed(Method.Refresh, nonce, (b) => b.addUint32(AttributeType.Lifetime, 600)))).toBe(StunClass.SuccessResponse);
    expect(await ask(client, signed(Method.CreatePermission, nonce, (b) => b.addXorAddress(AttributeType.XorPeerAddress, peer.address)))).toBe(StunClass.SuccessResponse);
    peer.socket.send('from the peer', relay.port, relay.address);
    expect(readBytes(decodeMessage(await client.receive()), AttributeType.Data)?.toString()).toBe('from the peer');
    // The new handshake times out alone.
    now += DEFAULT_DTLS_LIMITS.handshakeTimeoutMs;
    service.sweep();
    expect(service.counters.handshakesFailed).toBe(1);
    expect(service.sessions).toBe(1);
    expect(await ask(client, binding())).toBe(StunClass.SuccessResponse);
    expect(server.engine.allocations.size).toBe(1);
  });

  it('is replaced, and its allocation freed, once a new handshake from its 5-tuple finishes', async () => {
    const { server, service, client } = await connected();
    await allocate(client);
    await client.handshakeAgain();
    expect(await waitFor(() => server.engine.allocations.size === 0)).toBe(true);
    expect(await ask(client, binding())).toBe(StunClass.SuccessResponse); // over the new keys
    expect(service.sessions).toBe(1);
    expect(service.counters.handshakesCompleted).toBe(2);
  });
});
