// ChannelData over a TCP or TLS connection, both ways through a relay: the check the C stream
// tests (plain and TLS) share. Lengths 1..300 cover every padding; in rounds of 50 (the peer's
// UDP buffer holds no more), half written one frame a write, half in one write (so the server
// reads several frames, or records, at once).
import { expect } from 'vitest';
import type { TransportAddress } from '../../src/stun/index.js';
import type { openPeer } from './turn-client.js';
import type { StreamTestClient } from './stream-client.js';

type Peer = Awaited<ReturnType<typeof openPeer>>;

const ROUND = 50;

/** ChannelData on 0x4000 as a stream client sends it: padded to 4 bytes. */
const frame = (p: Buffer) => Buffer.concat([Buffer.from([0x40, 0x00, p.length >> 8, p.length & 0xff]), p, Buffer.alloc((4 - (p.length % 4)) % 4)]);

/** `count` payloads client → peer and back, each exactly and in order; channel 0x4000 bound to `peer`. */
export async function expectChannelDataBothWays(client: StreamTestClient, peer: Peer, relay: TransportAddress, count = 300): Promise<void> {
  const payloads = Array.from({ length: count }, (_, i) => Buffer.alloc(i + 1, i & 0xff));
  const atPeer: Buffer[] = [];
  for (let i = 0; i < count; i += ROUND) {
    const half = ROUND / 2;
    for (const p of payloads.slice(i, i + half)) client.socket.write(frame(p));
    client.socket.write(Buffer.concat(payloads.slice(i + half, i + ROUND).map(frame)));
    for (let j = 0; j < ROUND; j++) atPeer.push((await peer.next()).data);
  }
  expect(atPeer).toEqual(payloads);
  for (let i = 0; i < count; i += ROUND) {
    for (const p of payloads.slice(i, i + ROUND)) peer.socket.send(p, relay.port, relay.address);
    for (const p of payloads.slice(i, i + ROUND)) expect(await client.next()).toEqual(frame(p).subarray(0, 4 + p.length));
  }
}
