// Helpers for tests of relayThreads > 1 through the library API: a threaded server, an echo
// peer, and a client whose datagrams the kernel hands to a chosen worker.
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import { expect } from 'vitest';
import type { ServerOptions } from '../../src/config/server-options.js';
import type { Logger } from '../../src/log/logger-interface.js';
import { createTurnServer, type TurnServer } from '../../src/server.js';
import { AttributeType, Method, StunClass, decodeMessage, readBytes, readErrorCode, readXorAddress, type StunMessage, type TransportAddress } from '../../src/stun/index.js';
import { OpensslDtlsClient } from '../unit/dtls/openssl-dtls-client.js';
import { makeCertificate } from './certs.js';
import type { Cleanups } from './cleanups.js';
import { freePortRange } from './ports.js';
import { ALICE, testServerOptions } from './server-options.js';
import { PEER_HOST, UdpTestClient, type Credentials } from './turn-client.js';

// 50 relay ports a worker: room for all 40 clients of a test on one of them.
const RELAY_PORTS = 100;

/** Live threads of this process named as relay workers are (Linux thread names, /proc). */
export function relayWorkerThreads(): number {
  return readdirSync('/proc/self/task').filter((task) => {
    try {
      return readFileSync(`/proc/self/task/${task}/comm`, 'utf8').startsWith('relay-worker-');
    } catch {
      return false; // the thread ended while we looked
    }
  }).length;
}

/** Packets echoedThroughUdp sends. */
export const PACKETS = 5;

/**
 * Sends PACKETS Send indications through the client's relay to an echo peer; how many came back
 * within 2 s each. Anything else that reaches the client meanwhile (another client's answer, as
 * the server once misdirected) throws, saying what it was.
 */
export async function echoedThroughUdp(client: UdpTestClient, peer: TransportAddress): Promise<number> {
  let echoed = 0;
  for (let i = 0; i < PACKETS; i++) {
    const expected = `packet ${i}`;
    client.sendIndication(peer, Buffer.from(expected));
    const datagram = await client.nextDatagram(2000).catch(() => undefined);
    if (!datagram) continue;
    if (echoFrom(datagram.data, peer) !== expected) {
      throw new Error(`client ${client.socket.address().port} waiting for "${expected}" got from ${datagram.address}:${datagram.port} ${describeDatagram(datagram.data)}`);
    }
    echoed++;
  }
  return echoed;
}

/** The text a Data indication from `peer` carries, else undefined. */
function echoFrom(data: Buffer, peer: TransportAddress): string | undefined {
  try {
    const message = decodeMessage(data);
    const from = readXorAddress(message, AttributeType.XorPeerAddress);
    if (message.method !== Method.Data || from?.address !== peer.address || from.port !== peer.port) return undefined;
    return readBytes(message, AttributeType.Data)?.toString();
  } catch {
    return undefined;
  }
}

function describeDatagram(data: Buffer): string {
  try {
    const m = decodeMessage(data);
    const from = readXorAddress(m, AttributeType.XorPeerAddress);
    const carried = readBytes(m, AttributeType.Data);
    const error = readErrorCode(m, AttributeType.ErrorCode);
    return `STUN method 0x${m.method.toString(16)} class ${m.cls} txid ${m.transactionId.toString('hex')}` +
      (error ? ` error ${error.code} ${JSON.stringify(error.reason)}` : '') +
      (from ? ` from ${from.address}:${from.port}` : '') + (carried ? ` data ${JSON.stringify(carried.toString('latin1').slice(0, 40))}` : '');
  } catch {
    return `${data.length} bytes, not STUN: ${data.subarray(0, 16).toString('hex')}`;
  }
}

export function relayThreadHelpers(cleanups: Cleanups) {
  async function startThreaded(overrides: Partial<ServerOptions> = {}, logger?: Logger): Promise<TurnServer> {
    return (await startThreadedWithOptions(overrides, logger)).server;
  }

  /** startThreaded, and the options it was started with (to reconfigure it with changes). */
  async function startThreadedWithOptions(overrides: Partial<ServerOptions> = {}, logger?: Logger): Promise<{ server: TurnServer; options: ServerOptions }> {
    const first = await freePortRange('127.0.0.1', RELAY_PORTS);
    const options = await testServerOptions({ relayThreads: 2, noTcpRelay: true, minPort: first, maxPort: first + RELAY_PORTS - 1, ...overrides });
    const server = await createTurnServer(options, logger);
    cleanups.push(() => server.close());
    return { server, options };
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
   * A client whose Allocate the kernel handed to `worker`: found by allocating and seeing
   * whose count grew. Kept allocated when `keep`, else freed with a Refresh of lifetime 0.
   */
  async function findClient(server: TurnServer, worker: number, credentials: Credentials, keep: boolean): Promise<UdpTestClient> {
    for (let i = 0; i < 40; i++) {
      const client = await UdpTestClient.open(server.udpAddresses[0]!, credentials);
      cleanups.push(() => client.close());
      const before = await server.workerAllocationCounts();
      await client.allocateRelay();
      const after = await server.workerAllocationCounts();
      const found = after[worker]! > before[worker]!;
      if (found && keep) return client;
      expect((await client.refresh(0)).cls).toBe(StunClass.SuccessResponse);
      // The worker gives the quota back by a message on the channel the count answer takes
      // after it: once counted, main's ledger has it back and the client's next Allocate is free.
      await server.workerAllocationCounts();
      if (found) return client;
    }
    throw new Error(`no client of 40 reached relay worker ${worker}`);
  }

  /**
   * Allocations as `credentials`, each from a new socket, until both workers have allocated
   * one (at most 40 sockets): which worker each success landed on, and the error codes of the failures.
   */
  async function allocationsOnBothWorkers(server: TurnServer, credentials: Credentials): Promise<{ workers: Set<number>; failures: (number | undefined)[] }> {
    const workers = new Set<number>();
    const failures: (number | undefined)[] = [];
    for (let i = 0; i < 40 && workers.size < 2; i++) {
      const client = await UdpTestClient.open(server.udpAddresses[0]!, credentials);
      cleanups.push(() => client.close());
      const before = await server.workerAllocationCounts();
      const answer = await client.allocate();
      if (answer.cls !== StunClass.SuccessResponse) {
        failures.push(readErrorCode(answer, AttributeType.ErrorCode)?.code);
        continue;
      }
      const after = await server.workerAllocationCounts();
      after.forEach((n, w) => n > before[w]! && workers.add(w));
    }
    return { workers, failures };
  }

  /** A client holding no allocation whose datagrams the kernel hands to `worker`. */
  const clientOn = (server: TurnServer, worker: number, credentials: Credentials = ALICE) => findClient(server, worker, credentials, false);

  /** A client holding an allocation on `worker` (its own socket keeps it there whatever the workers do). */
  const allocatedOn = (server: TurnServer, worker: number, credentials: Credentials = ALICE) => findClient(server, worker, credentials, true);

  /**
   * relayThreads 2 serving DTLS, and at least `count` DTLS clients (openssl) that each hold an
   * allocation: more, one at a time (at most 24), until each worker holds one. The kernel spreads
   * client ports by hash, so `count` alone leave a worker without any once in 2^(count-1) runs.
   */
  async function dtlsClientsAllocated(count: number, logger?: Logger): Promise<{ server: TurnServer; clients: OpensslDtlsClient[]; answers: StunMessage[] }> {
    const certificate = makeCertificate();
    cleanups.push(() => certificate.remove());
    const base = await testServerOptions();
    const server = await startThreaded({ noDtls: false, tls: { ...base.tls, cert: certificate.cert, pkey: certificate.key } }, logger);
    const start = () => {
      const client = OpensslDtlsClient.start('127.0.0.1', server.udpAddresses[0]!.port, { credentials: ALICE });
      cleanups.push(() => client.kill());
      return client;
    };
    const allocate = (c: OpensslDtlsClient) => c.request(Method.Allocate, (b) => b.addFirstByte(AttributeType.RequestedTransport, 17));
    const clients = Array.from({ length: count }, start);
    const answers = await Promise.all(clients.map(allocate));
    for (let more = 0; more < 24 && (await server.workerAllocationCounts()).some((n) => n === 0); more++) {
      const client = start();
      clients.push(client);
      answers.push(await allocate(client));
    }
    return { server, clients, answers };
  }

  return { startThreaded, startThreadedWithOptions, echoPeer, clientOn, allocatedOn, allocationsOnBothWorkers, dtlsClientsAllocated };
}
