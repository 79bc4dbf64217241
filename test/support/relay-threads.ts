// Helpers for tests of relayThreads > 1 through the library API: a threaded server, an echo
// peer, and a client whose datagrams the kernel hands to a chosen worker.
import { createSocket, type Socket } from 'node:dgram';
import { expect } from 'vitest';
import type { ServerOptions } from '../../src/config/server-options.js';
import type { Logger } from '../../src/log/logger-interface.js';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import { StunClass, type TransportAddress } from '../../src/stun/index.js';
import type { Cleanups } from './cleanups.js';
import { freePortRange } from './ports.js';
import { ALICE, testServerOptions } from './server-options.js';
import { PEER_HOST, UdpTestClient } from './turn-client.js';

// 50 relay ports a worker: room for all 40 clients of a test on one of them.
const RELAY_PORTS = 100;

export function relayThreadHelpers(cleanups: Cleanups) {
  async function startThreaded(overrides: Partial<ServerOptions> = {}, logger?: Logger): Promise<TurnServer> {
    const first = await freePortRange('127.0.0.1', RELAY_PORTS);
    const server = await createTurnServer(
      await testServerOptions({ relayThreads: 2, noTcpRelay: true, minPort: first, maxPort: first + RELAY_PORTS - 1, ...overrides }),
      logger,
    );
    cleanups.push(() => server.close());
    return server;
  }

  /** A peer that sends every datagram back to where it came from (the relay). */
  async function echoPeer(): Promise<{ socket: Socket; address: TransportAddress }> {
    const socket = createSocket('udp4');
    socket.on('message', (data, rinfo) => socket.send(data, rinfo.port, rinfo.address));
    await new Promise<void>((r) => socket.bind(0, PEER_HOST, r));
    cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
    return { socket, address: { family: 4, address: PEER_HOST, port: socket.address().port } };
  }

  /**
   * A client (holding no allocation) whose datagrams the kernel hands to `worker`: found by
   * allocating and seeing whose count grew, then freed with a Refresh of lifetime 0.
   */
  async function clientOn(server: TurnServer, worker: number): Promise<UdpTestClient> {
    for (let i = 0; i < 40; i++) {
      const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
      cleanups.push(() => client.close());
      const before = await server.workerAllocationCounts();
      await client.allocateRelay();
      const after = await server.workerAllocationCounts();
      expect((await client.refresh(0)).cls).toBe(StunClass.SuccessResponse);
      // The worker gives the quota back by a message on the channel the count answer takes
      // after it: once counted, main's ledger has it back and the client's next Allocate is free.
      await server.workerAllocationCounts();
      if (after[worker]! > before[worker]!) return client;
    }
    throw new Error(`no client of 40 reached relay worker ${worker}`);
  }

  /**
   * A client holding an allocation on `worker`. Each allocated UDP client's own connected socket
   * joins the port's reuse group and changes which worker the kernel hashes unpinned clients
   * to, so a client found with clientOn may land elsewhere once other clients hold allocations;
   * an allocated client stays where its socket is.
   */
  async function allocatedOn(server: TurnServer, worker: number): Promise<UdpTestClient> {
    for (let i = 0; i < 40; i++) {
      const client = await UdpTestClient.open(server.udpAddresses[0]!, ALICE);
      cleanups.push(() => client.close());
      const before = await server.workerAllocationCounts();
      await client.allocateRelay();
      const after = await server.workerAllocationCounts();
      if (after[worker]! > before[worker]!) return client;
      expect((await client.refresh(0)).cls).toBe(StunClass.SuccessResponse);
    }
    throw new Error(`no client of 40 reached relay worker ${worker}`);
  }

  return { startThreaded, echoPeer, clientOn, allocatedOn };
}
