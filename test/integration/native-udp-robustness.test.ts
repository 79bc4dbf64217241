// Native batched UDP I/O (native/udp-io.c) against what a network and untrusted senders do:
// ICMP errors on a client's own socket, sockets closed twice, and random datagrams at both
// kinds of native socket. Real sockets on loopback throughout.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeUdpIo } from '../../src/net/native-udp/addon.js';
import { channelDataHeader } from '../../src/stun/index.js';
import { silentLogger, type Logger } from '../../src/log/logger-interface.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { stopAllProcesses } from '../support/processes.js';
import { ALICE } from '../support/server-options.js';
import { UdpTestClient, openPeerUntilCleanup } from '../support/turn-client.js';

const cleanups = cleanupAfterEach();
afterEach(() => stopAllProcesses());

const CHANNEL = 0x4001;
const HOST = '127.0.0.1';

/** Waits until `done()` (bounded). */
async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (let waited = 0; !done(); waited += 10) {
    if (waited > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function boundSocket(port: number): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, HOST, () => resolve());
  });
  cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
  return socket;
}

describe.runIf(process.platform === 'linux')('native UDP I/O robustness', () => {
  it("keeps reading a client's own socket after an ICMP port unreachable from the client", async () => {
    const errors: string[] = [];
    const logger: Logger = { ...silentLogger, error: (m) => void errors.push(m) };
    const server = await startInProcessServer(cleanups, {}, logger);
    const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
    const peer = await openPeerUntilCleanup(cleanups);
    const relay = await client.allocateRelay();
    await client.channelBind(CHANNEL, peer.address);
    const clientPort = client.socket.address().port;
    // The client's port closes for a moment: the server's next datagram to it draws an ICMP
    // port unreachable, an error on the client's own connected socket.
    await client.close();
    const icmpBefore = server.engine.counters.relayedToClientPackets;
    peer.socket.send(Buffer.from('to a closed port'), relay.port, relay.address);
    await until(() => server.engine.counters.relayedToClientPackets > icmpBefore, 'relayed to the closed port');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The client is back on the same port: its ChannelData still reaches the peer.
    const again = await boundSocket(clientPort);
    again.send(Buffer.concat([channelDataHeader(CHANNEL, 5), Buffer.from('again')]), server.udpAddresses[0]!.port, server.udpAddresses[0]!.address);
    expect((await peer.next(3000)).data.toString()).toBe('again');
    expect(errors).toEqual([]);
  });
});
