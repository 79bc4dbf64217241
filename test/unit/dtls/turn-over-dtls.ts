// TURN requests over a MiniDtlsClient's session, for the DTLS relay tests: an allocation and a
// channel to a peer, signed as alice.
import { expect } from 'vitest';
import { ContentType } from '../../../src/net/dtls/record.js';
import { AttributeType, MessageBuilder, Method, StunClass, decodeMessage, longTermKey, readString, readXorAddress, type TransportAddress } from '../../../src/stun/index.js';
import { ALICE, REALM } from '../../support/server-options.js';
import { MiniDtlsClient } from './mini-client.js';
import type { Cleanups } from './harness.js';

export const CHANNEL = 0x4001;

export function signed(method: number, nonce: string, add: (b: MessageBuilder) => MessageBuilder = (b) => b): Buffer {
  return add(new MessageBuilder(method, StunClass.Request))
    .addString(AttributeType.Username, ALICE.username).addString(AttributeType.Realm, REALM).addString(AttributeType.Nonce, nonce)
    .build({ integrityKey: longTermKey(ALICE.username, REALM, ALICE.password) });
}

export async function ask(client: MiniDtlsClient, request: Buffer): Promise<Buffer> {
  client.sendRecord(ContentType.ApplicationData, request);
  return client.receive();
}

/** An allocation and a channel to `peer` over the client's current session; the nonce, for more requests. */
export async function allocateAndBind(client: MiniDtlsClient, peer: TransportAddress): Promise<string> {
  const udp = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
  const nonce = readString(decodeMessage(await ask(client, udp(new MessageBuilder(Method.Allocate, StunClass.Request)).build())), AttributeType.Nonce, 763)!;
  const allocated = decodeMessage(await ask(client, signed(Method.Allocate, nonce, udp)));
  expect(allocated.cls).toBe(StunClass.SuccessResponse);
  expect(readXorAddress(allocated, AttributeType.XorRelayedAddress)).toBeDefined();
  // A request after the Allocate: by its answer the session's own (native) socket is open.
  const bound = decodeMessage(await ask(client, signed(Method.ChannelBind, nonce, (b) =>
    b.addChannelNumber(CHANNEL).addXorAddress(AttributeType.XorPeerAddress, peer))));
  expect(bound.cls).toBe(StunClass.SuccessResponse);
  return nonce;
}

/** A DTLS session with an allocation and a channel to `peer`, closed after the test. */
export async function boundClient(cleanups: Cleanups, port: number, peer: TransportAddress): Promise<MiniDtlsClient> {
  const client = await MiniDtlsClient.connect(port);
  cleanups.push(() => client.close());
  await allocateAndBind(client, peer);
  return client;
}

export async function until(done: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > 10_000) throw new Error(`${what}: not within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
