/**
 * SO_REUSEPORT groups only this server can start. A socket bound with `reusePort` silently
 * joins any group its user already holds on that addr:port (coturn binds so, and so would a
 * second Turnpike), and the kernel then splits the clients between the two servers. So the
 * FIRST socket of a group is bound only after a probe bind of the same addr:port without any
 * reuse flag succeeded: the probe fails with EADDRINUSE while anyone else holds the port.
 * Later members of the group (per-session sockets, relay workers) bind plainly, with
 * `reusePort`, to the port the first one holds. Never bind port 0 with `reusePort`: the
 * kernel may pick a port a group of the same user already holds, and join it.
 *
 * The race: the probe is closed and the first socket bound right after. For UDP both happen
 * in the same JavaScript turn (with udp-socket.ts's lookup the bind is synchronous), a few
 * microseconds apart; for TCP `listen` binds one tick later (its DNS step), before any I/O is
 * polled. Another process would have to bind that very port inside that window.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import type { IpFamily } from '../stun/ip.js';
import { formatTransportAddress, ipFamily } from '../stun/ip.js';

/**
 * A listening socket's place in its reuse group: `alone` (one event loop: UDP still heads a
 * group for its per-session sockets), `first` (relay worker 0: starts the group, probe and
 * all), `member` (the other relay workers: join the port the first one holds).
 */
export type GroupRole = 'alone' | 'first' | 'member';

/** Thrown when addr:port is held by another socket: a reuse group would have shared it. */
export class PortInUseError extends Error {
  readonly code = 'EADDRINUSE';
  constructor(transport: 'UDP' | 'TCP', address: string, port: number) {
    super(`${transport} ${formatTransportAddress({ address, port })} is already in use by another socket (EADDRINUSE)`);
  }
}

const familyOf = (address: string): IpFamily => ipFamily(address) ?? 4;

/** Binds `socket`, which must be created with `reusePort: true`; resolves to the bound port. */
export function bindUdpSocket(socket: Socket, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve(socket.address().port);
    });
  });
}

/**
 * Binds `socket` (created with `reusePort: true`) as the first of a reuse group on
 * address:port (0: a free port), or fails with PortInUseError when anyone holds that port.
 */
export function bindFirstUdpOfGroup(socket: Socket, address: string, port: number): Promise<number> {
  return afterUdpProbe(address, port, (probed) => bindUdpSocket(socket, address, probed));
}

/**
 * Calls `bind` with address:port (0: a free port) as soon as a probe bind of it without any
 * reuse flag succeeded and was closed, in the same turn: the first socket of a UDP reuse group,
 * whatever opens it (dgram or native-udp/). PortInUseError when anyone holds that port.
 */
export async function afterUdpProbe<T>(address: string, port: number, bind: (port: number) => T): Promise<Awaited<T>> {
  const probe = createSocket({ type: familyOf(address) === 6 ? 'udp6' : 'udp4', ipv6Only: familyOf(address) === 6 });
  const probed = await bindUdpSocket(probe, address, port).catch((error: NodeJS.ErrnoException) => {
    probe.close();
    throw error.code === 'EADDRINUSE' ? new PortInUseError('UDP', address, port) : error;
  });
  probe.close(); // frees the port at once: the fd is closed synchronously
  return await bind(probed);
}

/**
 * Listens on `server` with `reusePort` as the first of a reuse group on address:port (0: a
 * free port), or fails with PortInUseError when anyone holds that port.
 */
export async function listenFirstTcpOfGroup(server: Server, address: string, port: number): Promise<number> {
  return listenTcp(server, address, await probeTcpPort(address, port), true);
}

/**
 * The port (`port`, or a free one for 0) a TCP reuse group may start on: a plain listen there
 * succeeded and was closed again. PortInUseError when anyone holds it.
 */
export async function probeTcpPort(address: string, port: number): Promise<number> {
  const probe = createServer();
  const probed = await listenTcp(probe, address, port, false).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EADDRINUSE' ? new PortInUseError('TCP', address, port) : error;
  });
  probe.close(); // frees the port at once: the fd is closed synchronously
  return probed;
}

/** Listens on host:port (IPv6 only for an IPv6 host); resolves to the bound port. */
export function listenTcp(server: Server, host: string, port: number, reusePort: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true, ipv6Only: familyOf(host) === 6, reusePort }, () => {
      server.off('error', reject);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound ? bound.port : port);
    });
  });
}
