// The relay is not a way into the server's own networks: what coturn 4.6.1 allows by default
// (measured), refused here unless the operator opens it. Answers only: no datagram is ever
// sent to these addresses.
import { describe, expect, it } from 'vitest';
import type { ServerOptions } from '../../src/config/server-options.js';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import { AttributeType, readErrorCode, readXorAddress, type StunMessage, type TransportAddress } from '../../src/stun/index.js';
import { ALICE, testServerOptions } from '../support/server-options.js';
import { UdpTestClient, openPeerUntilCleanup } from '../support/turn-client.js';
import { cleanupAfterEach } from '../support/cleanups.js';

const cleanups = cleanupAfterEach();

async function allocated(overrides: Partial<ServerOptions>): Promise<{ server: TurnServer; c: UdpTestClient; relayPort: number }> {
  const server = await createTurnServer(await testServerOptions(overrides));
  cleanups.push(() => server.close());
  const c = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
  cleanups.push(() => c.close());
  const family = server.udpAddresses[0]!.family === 6 ? 2 : 1;
  const response = await c.allocate((b) => b.addFirstByte(AttributeType.RequestedTransport, 17).addFirstByte(AttributeType.RequestedAddressFamily, family));
  expect(code(response)).toBeUndefined();
  return { server, c, relayPort: readXorAddress(response, AttributeType.XorRelayedAddress)!.port };
}

const code = (m: StunMessage) => readErrorCode(m, AttributeType.ErrorCode)?.code;
const v4 = (address: string): TransportAddress => ({ family: 4, address, port: 9 });
const v6 = (address: string): TransportAddress => ({ family: 6, address, port: 9 });

const IPV4 = ['10.1.2.3', '172.16.0.1', '192.168.1.1', '100.64.0.1', '169.254.169.254', '224.0.0.1', '255.255.255.255', '127.0.0.1'];
const IPV6 = ['::ffff:127.0.0.1', '::127.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::1', 'fe80::1', 'fc00::1', '::1'];

describe('peer policy through the server', () => {
  it('refuses each IPv4 special address with 403 by default, and allows it once allowed-peer-ip opens it', async () => {
    const closed = await allocated({ allowLoopbackPeers: false });
    for (const address of IPV4) expect(code(await closed.c.createPermission(v4(address))), address).toBe(403);
    const open = await allocated({ allowLoopbackPeers: false, allowedPeerIps: ['10.0.0.0/8', '172.16.0.0-172.31.255.255', '192.168.1.1', '100.64.0.0/10', '169.254.0.0/16', '224.0.0.0/4', '255.255.255.255', '127.0.0.1'] });
    for (const address of IPV4) expect(code(await open.c.createPermission(v4(address))), address).toBeUndefined();
  });

  it('refuses each IPv6 form (embedded IPv4 included) over an IPv6 relay, and allows it when allowed', async () => {
    const closed = await allocated({ listeningIps: ['::1'], allowLoopbackPeers: false });
    for (const address of IPV6) expect(code(await closed.c.createPermission(v6(address))), address).toBe(403);
    const open = await allocated({ listeningIps: ['::1'], allowLoopbackPeers: false, allowedPeerIps: ['127.0.0.1', 'fe80::/10', 'fc00::/7', '::1'] });
    for (const address of IPV6) expect(code(await open.c.createPermission(v6(address))), address).toBeUndefined();
  });

  it('denied-peer-ip refuses a public address; unspecified is refused even when allowed', async () => {
    const { c } = await allocated({ deniedPeerIps: ['8.8.8.0/24'], allowedPeerIps: ['0.0.0.0/8'] });
    expect(code(await c.createPermission(v4('8.8.8.8')))).toBe(403);
    expect(code(await c.createPermission(v4('8.8.4.4')))).toBeUndefined();
    expect(code(await c.createPermission(v4('0.0.0.0')))).toBe(403);
  });

  it("reaches the server's own address only on relay ports: not its TURN listener", async () => {
    const { server, c } = await allocated({ allowLoopbackPeers: true });
    const listener = server.udpAddresses[0]!;
    expect(code(await c.channelBind(0x4000, listener))).toBe(403);
    expect(code(await c.createPermission(listener))).toBeUndefined(); // a permission is per IP
    c.sendIndication(listener, Buffer.from('to the listener'));
    await c.quietFor(200);
    expect(server.engine.counters.droppedPolicy).toBe(1);
  });

  it("with allow-loopback-peers, relays to a loopback program on the server's own address (coturn's self-check)", async () => {
    const { server, c } = await allocated({ allowLoopbackPeers: true });
    const peer = await openPeerUntilCleanup(cleanups, server.udpAddresses[0]!.address);
    expect(code(await c.channelBind(0x4001, peer.address))).toBeUndefined();
    c.sendChannelData(0x4001, Buffer.from('to a peer on 127.0.0.1'));
    expect((await peer.next()).data.toString()).toBe('to a peer on 127.0.0.1');
  });

  it('with allow-loopback-peers, still refuses the ports the server serves on, in every loopback form', async () => {
    const metrics = { address: '127.0.0.1', port: 0, path: '/metrics', usernameLabels: false };
    const { server, c } = await allocated({ allowLoopbackPeers: true, metrics });
    const servicePorts = [server.udpAddresses[0]!.port, server.metrics!.endpoint!.port];
    let channel = 0x4000;
    for (const port of servicePorts) {
      for (const address of ['127.0.0.1', '127.0.0.9']) expect(code(await c.channelBind(channel++, v4Port(address, port))), `${address}:${port}`).toBe(403);
    }
    expect(code(await c.channelBind(channel++, v4Port('127.0.0.1', 9)))).toBeUndefined();
    // Send indications: the permission is per IP, the port is judged per packet.
    expect(code(await c.createPermission(v4('127.0.0.1')))).toBeUndefined();
    c.sendIndication(v4Port('127.0.0.1', servicePorts[1]!), Buffer.from('GET /metrics HTTP/1.0\r\n\r\n'));
    await c.quietFor(200);
    expect(server.engine.counters.droppedPolicy).toBe(1);
  });

  it('refuses IPv6 loopback (and mapped forms) on service ports over an IPv6 relay', async () => {
    const { server, c } = await allocated({ listeningIps: ['::1'], allowLoopbackPeers: true });
    const port = server.udpAddresses[0]!.port;
    expect(code(await c.channelBind(0x4000, { family: 6, address: '::1', port }))).toBe(403);
    expect(code(await c.channelBind(0x4001, { family: 6, address: '::ffff:127.0.0.1', port }))).toBe(403);
    expect(code(await c.channelBind(0x4002, { family: 6, address: '::1', port: 9 }))).toBeUndefined();
  });

  it("keeps a non-loopback own address (external-ip) to its relay ports, with allow-loopback-peers too", async () => {
    const { c, relayPort } = await allocated({ allowLoopbackPeers: true, externalIps: new Map([['', '1.2.3.4']]) });
    expect(code(await c.channelBind(0x4000, v4Port('1.2.3.4', 9)))).toBe(403);
    expect(code(await c.channelBind(0x4001, v4Port('1.2.3.4', relayPort)))).toBeUndefined();
  });
});

const v4Port = (address: string, port: number): TransportAddress => ({ family: 4, address, port });
