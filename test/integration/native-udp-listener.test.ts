// The UDP listener (STUN before an allocation: Binding, the first Allocate's 401, DTLS
// handshakes) reads and answers through native batched I/O, and still refuses a port that
// coturn or another SO_REUSEPORT socket holds rather than sharing its clients.
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeUdpIo } from '../../src/net/native-udp/addon.js';
import { PortInUseError, bindUdpSocket } from '../../src/net/reuse-port.js';
import { UdpListener } from '../../src/net/udp-listener.js';
import { silentLogger } from '../../src/log/logger-interface.js';
import { AttributeType, MessageBuilder, Method, StunClass, readXorAddress } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { startCoturn } from '../support/coturn-tools.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { freeUdpPort } from '../support/ports.js';
import { stopAllProcesses } from '../support/processes.js';
import { ALICE } from '../support/server-options.js';
import { UdpTestClient } from '../support/turn-client.js';

const cleanups = cleanupAfterEach();
afterEach(() => stopAllProcesses());

const HOST = '127.0.0.1';

describe.runIf(process.platform === 'linux')('the UDP listener with native I/O', () => {
  it('reads requests and sends their answers through the addon, from the listening addr:port', async () => {
    const server = await startInProcessServer(cleanups);
    const listener = server.listeners.udp[0]!;
    expect(listener.socket.io).toBe('native');
    const io = nativeUdpIo()!;
    const client = await UdpTestClient.open(listener.local, ALICE);
    cleanups.push(() => client.close());
    const before = io.counters();

    const binding = await client.transact(new MessageBuilder(Method.Binding, StunClass.Request));
    expect(binding.cls).toBe(StunClass.SuccessResponse);
    expect(readXorAddress(binding, AttributeType.XorMappedAddress)).toMatchObject({ address: HOST, port: client.socket.address().port });
    // The 401 and the signed Allocate: both reach the listener (the client has no socket of its own yet).
    await client.allocateRelay();
    const after = io.counters();
    // The Binding was answered in C (native/udp-binding.c): the listener's JS saw the 401's Allocate and the signed one.
    expect(listener.received).toBeGreaterThanOrEqual(2);
    expect(server.engine.counters.udpNativeBindings).toBe(1);
    expect(after.received - before.received).toBeGreaterThanOrEqual(3);
    expect(after.sent - before.sent).toBeGreaterThanOrEqual(3);
  });

  it('answers every request from the listening addr:port, the signed Allocate (made after awaits) too', async () => {
    const server = await startInProcessServer(cleanups);
    const local = server.udpAddresses[0]!;
    const client = await UdpTestClient.open(local, ALICE);
    cleanups.push(() => client.close());
    const seen: { address: string; port: number }[] = [];
    client.socket.prependListener('message', (_data, rinfo) => void seen.push({ address: rinfo.address, port: rinfo.port }));
    await client.allocateRelay();
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const from of seen) expect(from).toEqual({ address: local.address, port: local.port });
  });

  it('listens on listening-ip 0.0.0.0 too: a client that reached 127.0.0.1 gets its answers from there, and relays', async () => {
    const server = await startInProcessServer(cleanups, { listeningIps: ['0.0.0.0'] });
    const listener = server.listeners.udp[0]!;
    expect(listener.socket.io).toBe('native');
    const reached = { address: HOST, port: listener.local.port };
    const client = await UdpTestClient.open(reached, ALICE);
    cleanups.push(() => client.close());
    const seen: { address: string; port: number }[] = [];
    client.socket.prependListener('message', (_data, rinfo) => void seen.push({ address: rinfo.address, port: rinfo.port }));
    expect((await client.transact(new MessageBuilder(Method.Binding, StunClass.Request))).cls).toBe(StunClass.SuccessResponse);
    await client.allocateRelay();
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const from of seen) expect(from).toEqual(reached);
  });

  it('allocates once for a signed Allocate that comes twice in one batch (a retransmission queued while the server was busy)', async () => {
    const server = await startInProcessServer(cleanups);
    const local = server.udpAddresses[0]!;
    const client = await UdpTestClient.open(local, ALICE);
    cleanups.push(() => client.close());
    const transport = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
    client.auth.learn(await client.transact(transport(new MessageBuilder(Method.Allocate, StunClass.Request))));
    const answer = await client.auth.request(Method.Allocate, transport, (builder, sealed) => {
      const answered = client.transact(builder, sealed);
      // Sent in this turn too: both wait in the listener's queue for the server's next poll, one batch.
      client.sendRaw(sealed);
      return answered;
    }, true);
    expect(answer.cls).toBe(StunClass.SuccessResponse);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(server.engine.allocations.size).toBe(1);
  });

  it("refuses a port coturn's turnserver holds", async () => {
    const server = await startInProcessServer(cleanups);
    const port = await freeUdpPort(HOST);
    const coturn = await startCoturn(['--listening-ip', HOST, '--listening-port', String(port), '--no-tcp']);
    cleanups.push(() => coturn.stop());
    const attempt = UdpListener.listen(HOST, port, server.engine, silentLogger);
    await expect(attempt).rejects.toThrow(PortInUseError);
    await expect(attempt).rejects.toThrow(`UDP 127.0.0.1:${port} is already in use by another socket (EADDRINUSE)`);
  }, 20_000);

  it('refuses a port another SO_REUSEPORT socket holds (as a second server of the same user would)', async () => {
    const server = await startInProcessServer(cleanups);
    const holder = dgram.createSocket({ type: 'udp4', reusePort: true });
    cleanups.push(() => void holder.close());
    const busy = await bindUdpSocket(holder, HOST, 0);
    await expect(UdpListener.listen(HOST, busy, server.engine, silentLogger)).rejects.toThrow(PortInUseError);
  });
});
