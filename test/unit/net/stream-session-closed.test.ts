// A TCP client that leaves while its Allocate is being served: the connection reports that it
// closed and the engine, which owns the allocations, ends the one that completes afterwards
// and gives its quota lease back. Real TCP sockets on 127.0.0.1; the engine's relay binding
// is slowed (engineHarness' relayDelayMs) to hold the window open.
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamSession } from '../../../src/net/stream-session.js';
import { silentLogger } from '../../../src/log/logger-interface.js';
import { AttributeType, Method, StunClass, type MessageBuilder } from '../../../src/stun/index.js';
import { LocalLedger } from '../../../src/turn/ledger.js';
import { closeEngineHarnesses, engineHarness } from '../../support/engine-harness.js';
import { waitFor } from '../dtls/harness.js';

const sockets: net.Socket[] = [];
const servers: net.Server[] = [];
afterEach(() => {
  closeEngineHarnesses();
  sockets.splice(0).forEach((s) => s.destroy());
  servers.splice(0).forEach((s) => s.close());
});
const udp = (b: MessageBuilder) => b.addFirstByte(AttributeType.RequestedTransport, 17);
/**
 * The server side's close. Not events.once: the client leaves with the Allocate's answer
 * unread, its kernel resets the connection, and the 'error' (ECONNRESET) before 'close',
 * which the session handles, would reject once().
 */
const closed = (socket: net.Socket) => new Promise((resolve) => socket.once('close', resolve));

/** A StreamSession on the server side of a real TCP connection; the client's socket. */
async function tcpSession(t: Awaited<ReturnType<typeof engineHarness>>) {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  sockets.push(client);
  const [socket] = await accepted;
  sockets.push(socket);
  return { client, socket, session: new StreamSession('tcp', socket, t.engine, silentLogger, 60) };
}

describe('a stream session that closes', () => {
  it('during its Allocate: the allocation made afterwards is ended and its quota lease given back', async () => {
    const ledger = new LocalLedger();
    const t = await engineHarness({ relayDelayMs: 100, ledger, options: { userQuota: 1 } });
    await t.request(Method.Refresh); // learn a nonce for 127.0.0.1 (437: no allocation yet)
    const { client, socket } = await tcpSession(t);
    client.write(t.signed(Method.Allocate, udp));
    expect(await waitFor(() => t.engine.allocationsInFlight === 1)).toBe(true);
    client.destroy();
    await closed(socket);
    await t.settled();
    expect(t.engine.allocations.size).toBe(0);
    expect(t.engine.counters.allocationsReleased).toBe(1);
    expect(ledger.leases).toBe(0);
    // user-quota 1 is free again.
    expect((await t.request(Method.Allocate, udp)).cls).toBe(StunClass.SuccessResponse);
  });

  it('after allocating: the allocation ends with the connection', async () => {
    const ledger = new LocalLedger();
    const t = await engineHarness({ ledger });
    await t.request(Method.Refresh);
    const { client, socket } = await tcpSession(t);
    client.write(t.signed(Method.Allocate, udp));
    expect(await waitFor(() => t.engine.allocations.size === 1)).toBe(true);
    client.destroy();
    await closed(socket);
    expect(t.engine.allocations.size).toBe(0);
    expect(ledger.leases).toBe(0);
  });
});
