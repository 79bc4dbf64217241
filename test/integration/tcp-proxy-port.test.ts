// tcp-proxy-port over a real socket: what a client behind a TCP load balancer gets.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { AttributeType, MessageBuilder, Method, StunClass, readXorAddress } from '../../src/stun/index.js';
import type { TurnServer } from '../../src/server.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { ALICE } from '../support/server-options.js';
import { StreamTestClient } from '../support/stream-client.js';
import { PEER_HOST, openPeer } from '../support/turn-client.js';

const cleanups = cleanupAfterEach();

async function proxiedServer(): Promise<{ server: TurnServer; at: { family: 4; address: string; port: number } }> {
  const server = await startInProcessServer(cleanups, { noTcp: false, tcpProxyPort: 0 });
  const [proxy] = server.listeners.proxyAddresses;
  return { server, at: { family: 4, address: proxy!.address, port: proxy!.port } };
}

/** A client as the balancer forwards it: the header, then its own bytes. */
async function behindBalancer(at: { family: 4; address: string; port: number }, header: Buffer | string): Promise<StreamTestClient> {
  const client = await StreamTestClient.open(at, { credentials: ALICE });
  cleanups.push(() => client.close());
  client.socket.write(header);
  return client;
}

describe('tcp-proxy-port', () => {
  it('takes the client address from a v1 header: the mapped address is the client’s, not the balancer’s', async () => {
    const { at } = await proxiedServer();
    const client = await behindBalancer(at, `PROXY TCP4 203.0.113.7 ${at.address} 51000 ${at.port}\r\n`);
    client.socket.write(new MessageBuilder(Method.Binding, StunClass.Request).build());
    const answer = await client.nextMessage();
    expect(readXorAddress(answer, AttributeType.XorMappedAddress)).toEqual({ family: 4, address: '203.0.113.7', port: 51000 });
  });

  it('relays for a client behind a v2 header', async () => {
    const { at } = await proxiedServer();
    const body = Buffer.from([198, 51, 100, 9, 127, 0, 0, 1, 0xc7, 0x38, 0x0d, 0x96]);
    const header = Buffer.concat([Buffer.from('0d0a0d0a000d0a515549540a2111000c', 'hex'), body]);
    const client = await behindBalancer(at, header);
    const peer = await openPeer(PEER_HOST);
    cleanups.push(() => new Promise<void>((r) => peer.socket.close(() => r())));
    const allocated = await client.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17));
    expect(allocated.cls).toBe(StunClass.SuccessResponse);
    expect(readXorAddress(allocated, AttributeType.XorMappedAddress)).toEqual({ family: 4, address: '198.51.100.9', port: 51000 });
    await client.request(Method.CreatePermission, (b) => b.addXorAddress(AttributeType.XorPeerAddress, peer.address));
    client.socket.write(
      new MessageBuilder(Method.Send, StunClass.Indication).addXorAddress(AttributeType.XorPeerAddress, peer.address).add(AttributeType.Data, Buffer.from('via the balancer')).build(),
    );
    expect((await peer.next()).data.toString()).toBe('via the balancer');
  });

  it('closes a connection that does not start with a header: on this port every client comes through the balancer', async () => {
    const { at } = await proxiedServer();
    const socket = net.connect(at.port, at.address);
    cleanups.push(() => void socket.destroy());
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(new MessageBuilder(Method.Binding, StunClass.Request).build());
    const answered = await new Promise<boolean>((resolve) => {
      socket.once('data', () => resolve(true));
      socket.once('close', () => resolve(false));
    });
    expect(answered).toBe(false);
  });
});
