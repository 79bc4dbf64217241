// turnpike_udp_send_failures_total: datagrams the kernel refused to send on native UDP sockets
// are dropped, and /metrics counts them, on one thread and summed over relay workers. The
// refusal here is real and certain: a peer's largest UDP payload (65,507 B over IPv4) behind a
// ChannelData header is 4 B too large for a UDP datagram, so the kernel answers EMSGSIZE. An
// EAGAIN (a full send buffer) or ECONNREFUSED is counted the same way, but loopback cannot be
// made to give one on demand.
import { afterEach, describe, expect, it } from 'vitest';
import { freePortRange, freeTcpPort, freeUdpTcpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { openPeer, UdpTestClient, type Credentials } from '../support/turn-client.js';
import { startTurnpike } from '../support/turnpike-process.js';

const HOST = '127.0.0.1';
const ALICE: Credentials = { username: 'alice', password: 'alice-Pa55' };
const CHANNEL = 0x4001;
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await stopAllProcesses();
});

async function sendFailures(url: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const value = /^turnpike_udp_send_failures_total (\d+)$/m.exec(text)?.[1];
  if (value === undefined) throw new Error('no turnpike_udp_send_failures_total in /metrics');
  return Number(value);
}

describe.runIf(process.platform === 'linux')('turnpike_udp_send_failures_total', () => {
  it.each([1, 2])('counts relayed datagrams the kernel refused to send (relay-threads %i)', async (threads) => {
    const port = await freeUdpTcpPort(HOST);
    const minPort = await freePortRange(HOST, 20 * threads);
    const metricsPort = await freeTcpPort(HOST);
    const server = await startTurnpike([
      '-n', '--listening-ip', HOST, '--listening-port', String(port), '--relay-ip', HOST,
      '--min-port', String(minPort), '--max-port', String(minPort + 20 * threads - 1), '--relay-threads', String(threads),
      '--realm', 'failures.example', '--user', `${ALICE.username}:${ALICE.password}`, '--allow-loopback-peers',
      '--no-tcp', '--no-tls', '--no-dtls', '--prometheus', '--prometheus-address', HOST, '--prometheus-port', String(metricsPort),
    ], HOST, port);
    if (threads > 1) await server.proc.waitForOutput(/relaying with 2 worker threads/, 10_000);
    const url = `http://${HOST}:${metricsPort}/metrics`;
    const peer = await openPeer();
    closers.push(() => new Promise<void>((resolve) => peer.socket.close(() => resolve())));
    const client = await UdpTestClient.open({ address: HOST, port }, ALICE);
    const relay = await client.allocateRelay();
    await client.channelBind(CHANNEL, peer.address);
    // Relayed while the client listens: nothing refused.
    peer.socket.send(Buffer.from('hello'), relay.port, relay.address);
    expect((await client.nextDatagram(5000)).data.subarray(4).toString()).toBe('hello');
    expect(await sendFailures(url)).toBe(0);

    peer.socket.send(Buffer.alloc(65_507, 7), relay.port, relay.address);
    peer.socket.send(Buffer.from('after'), relay.port, relay.address);
    // The one too large is dropped, the next relayed.
    expect((await client.nextDatagram(5000)).data.subarray(4).toString()).toBe('after');
    // Relay workers report to main once a second.
    let failures = 0;
    for (let waited = 0; waited < 5000 && failures === 0; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      failures = await sendFailures(url);
    }
    expect(failures).toBe(1);
    await client.close();
  });
});
