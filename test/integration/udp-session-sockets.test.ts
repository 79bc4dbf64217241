// coturn's per-session sockets: an allocated UDP client gets a socket of its own on the
// listening addr:port, connected to it; the kernel delivers that client's datagrams there.
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { AttributeType, MessageBuilder, Method, StunClass, readUint32 } from '../../src/stun/index.js';
import { cleanupAfterEach } from '../support/cleanups.js';
import { procAddress, socketsOn } from '../support/proc-net-udp.js';
import { startInProcessServer } from '../support/in-process-server.js';
import { PEER_HOST, UdpTestClient, openPeerUntilCleanup } from '../support/turn-client.js';
import { freeUdpPort } from '../support/ports.js';
import { startProcess, stopAllProcesses } from '../support/processes.js';
import { ROOT, TURNPIKE_CLI } from '../support/turnpike-process.js';
import { startCoturn } from '../support/coturn-tools.js';
import { bindUdpSocket } from '../../src/net/reuse-port.js';
import { ALICE } from '../support/server-options.js';

const cleanups = cleanupAfterEach();
afterEach(() => stopAllProcesses());

describe.runIf(process.platform === 'linux')('per-session UDP sockets', () => {
  it('serve an allocated client on a socket of its own, until its allocation ends', async () => {
    const server = await startInProcessServer(cleanups);
    const local = server.udpAddresses[0]!;
    const listener = server.listeners.udp[0]!;
    const c = await UdpTestClient.open(local, ALICE);
    cleanups.push(() => c.close());
    const client = procAddress('127.0.0.1', c.socket.address().port);
    const p = await openPeerUntilCleanup(cleanups, PEER_HOST);
    expect(socketsOn(local)).toEqual(['00000000:0000']);

    const relay = await c.allocateRelay();
    expect(socketsOn(local).sort()).toEqual([client, '00000000:0000'].sort());
    const atListener = listener.received;

    expect((await c.channelBind(0x4001, p.address)).cls).toBe(StunClass.SuccessResponse);
    c.sendChannelData(0x4001, Buffer.from('to the peer'));
    expect((await p.next()).data.toString()).toBe('to the peer');
    p.socket.send('to the client', relay.port, relay.address);
    const back = await c.nextDatagram();
    expect(back.data.subarray(4).toString()).toBe('to the client');
    expect(back).toMatchObject({ address: local.address, port: local.port });
    expect(listener.received).toBe(atListener); // the kernel gave every one to the client's own socket

    expect(readUint32(await c.refresh(0), AttributeType.Lifetime)).toBe(0);
    expect(socketsOn(local)).toEqual(['00000000:0000']);
    const answeredInC = server.engine.counters.udpNativeBindings;
    const binding = await c.transact(new MessageBuilder(Method.Binding, StunClass.Request));
    expect(binding.cls).toBe(StunClass.SuccessResponse);
    // Back on the listener, the only socket that answers a Binding in C (native/udp-binding.c).
    expect(server.engine.counters.udpNativeBindings).toBe(answeredInC + 1);
    expect(listener.received).toBe(atListener);
  });

  it('are closed when the server stops', async () => {
    const server = await startInProcessServer(cleanups);
    const local = server.udpAddresses[0]!;
    const c = await UdpTestClient.open(local, ALICE);
    cleanups.push(() => c.close());
    await c.allocateRelay();
    expect(socketsOn(local).length).toBe(2);
    await server.close();
    expect(socketsOn(local)).toEqual([]);
  });
});

describe('a busy listening port', () => {
  /** The exit code, or 'still running' after 10 s (it started on the busy port). */
  const exitCode = async (p: ReturnType<typeof startProcess>) =>
    (await Promise.race([p.exited, new Promise<{ code: string }>((r) => setTimeout(() => r({ code: 'still running' }), 10_000))])).code;
  const startOn = (port: number) => startProcess(process.execPath, [TURNPIKE_CLI, 'serve', '-n', '--listening-ip', '127.0.0.1',
    '--listening-port', String(port), '--no-tcp', '--no-tls', '--no-dtls', '--no-cli'], { cwd: ROOT });

  it('stops Turnpike from starting when another socket holds it with SO_REUSEPORT', async () => {
    const holder = dgram.createSocket({ type: 'udp4', reusePort: true });
    cleanups.push(() => void holder.close());
    const port = await bindUdpSocket(holder, '127.0.0.1', 0);
    const turnpike = startOn(port);
    expect(await exitCode(turnpike)).toBe(1);
    expect(turnpike.output).toContain(`cannot start: UDP 127.0.0.1:${port} is already in use by another socket (EADDRINUSE)`);
  });

  it("stops Turnpike from starting when coturn's turnserver holds it", async () => {
    const port = await freeUdpPort('127.0.0.1');
    const coturn = await startCoturn(['--listening-ip', '127.0.0.1', '--listening-port', String(port), '--no-tcp']);
    cleanups.push(() => coturn.stop());
    const turnpike = startOn(port);
    expect(await exitCode(turnpike)).toBe(1);
    expect(turnpike.output).toContain(`UDP 127.0.0.1:${port} is already in use`);
  }, 20_000);
});
