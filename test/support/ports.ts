// Free ports, found by binding. Tests never use fixed ports: coturn binds with SO_REUSEPORT,
// so a second server on a busy port starts silently and the kernel splits traffic between them.
// Our probes bind WITHOUT SO_REUSEPORT, so a port held by such a server counts as busy.
// (There is an unavoidable window between probing and the real bind; it is small.)
import dgram from 'node:dgram';
import net from 'node:net';

function udpType(host: string): 'udp4' | 'udp6' {
  return net.isIPv6(host) ? 'udp6' : 'udp4';
}

/** Bind a UDP socket on host:port (0 = any); resolves to the bound socket, or null if busy. */
function bindUdp(host: string, port: number): Promise<dgram.Socket | null> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket({ type: udpType(host), reuseAddr: false });
    sock.once('error', () => {
      sock.close();
      resolve(null);
    });
    sock.bind({ address: host, port, exclusive: true }, () => resolve(sock));
  });
}

/** Listen on TCP host:port (0 = any); resolves to the server, or null if busy. */
function listenTcp(host: string, port: number): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ host, port, exclusive: true }, () => resolve(srv));
  });
}

const closeUdp = (s: dgram.Socket) => new Promise<void>((r) => s.close(() => r()));
const closeTcp = (s: net.Server) => new Promise<void>((r) => s.close(() => r()));

export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const sock = await bindUdp(host, 0);
  if (!sock) throw new Error(`cannot bind any UDP port on ${host}`);
  const { port } = sock.address();
  await closeUdp(sock);
  return port;
}

export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const srv = await listenTcp(host, 0);
  if (!srv) throw new Error(`cannot listen on any TCP port on ${host}`);
  const { port } = srv.address() as net.AddressInfo;
  await closeTcp(srv);
  return port;
}

/** A port free for both UDP and TCP on host (a server that listens on both needs that). */
export function freeUdpTcpPort(host = '127.0.0.1', tries = 50): Promise<number> {
  return freeUdpTcpPortOnAll([host], tries);
}

/** A port free for both UDP and TCP on every one of `hosts` (a server listening on them all). */
export function freeUdpTcpPortOnAll(hosts: readonly string[], tries = 50): Promise<number> {
  return freeUdpTcpPortsOnAll(hosts, 1, tries);
}

/**
 * The first of `count` consecutive ports free for UDP and TCP on every one of `hosts` (coturn
 * also listens on each listening port + 1, its RFC 5780 alternate port); from `span` if given,
 * else where the OS hands out ports.
 */
export async function freeUdpTcpPortsOnAll(hosts: readonly string[], count: number, tries = 50, span?: PortSpan): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const port = span ? span.from + Math.floor(Math.random() * (span.below - span.from - count)) : await freeUdpPort(hosts[0]);
    if (port + count - 1 > 65535) continue;
    let free = true;
    for (let p = port; free && p < port + count; p++) free = await isFreeOnAll(hosts, p);
    if (free) return port;
  }
  throw new Error(`no ${count} consecutive ports free for both UDP and TCP on ${hosts.join(' and ')} after ${tries} tries`);
}

/** A port free for UDP and TCP on every one of `hosts`, and the next one too (RFC 5780's alternative port is port + 1). */
export async function freePortPairOnAll(hosts: readonly string[], tries = 50): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const port = await freeUdpTcpPortOnAll(hosts, tries);
    if (port < 65535 && (await isFreeOnAll(hosts, port + 1))) return port;
  }
  throw new Error(`no two consecutive ports free for UDP and TCP on ${hosts.join(' and ')} after ${tries} tries`);
}

async function isFreeOnAll(hosts: readonly string[], port: number): Promise<boolean> {
  for (const host of hosts) {
    const udp = await bindUdp(host, port);
    if (!udp) return false;
    const tcp = await listenTcp(host, port);
    await closeUdp(udp);
    if (!tcp) return false;
    await closeTcp(tcp);
  }
  return true;
}

/** Where freePortRange looks: bases from `from` on, the whole range below `below`. */
export interface PortSpan {
  readonly from: number;
  readonly below: number;
}

/**
 * `count` consecutive ports, all free for UDP binding on host. Bases are random in the span
 * (default 20000..60000) so parallel runs rarely collide; the number of tries is bounded.
 * A span under the ephemeral range (32768 on Linux) keeps the range clear of the ports the
 * OS hands to sockets bound to port 0, such as thousands of client sockets.
 */
export async function freePortRange(host: string, count: number, tries = 50, span: PortSpan = { from: 20000, below: 60000 }): Promise<number> {
  const room = span.below - span.from;
  if (count < 1 || count > room) throw new Error(`bad port count ${count} (at most ${room} in ${span.from}..${span.below - 1})`);
  for (let i = 0; i < tries; i++) {
    const base = span.from + Math.floor(Math.random() * (room - count));
    const held: dgram.Socket[] = [];
    let ok = true;
    // Hold every port until the whole run is checked, then release them all.
    for (let p = base; p < base + count; p++) {
      const s = await bindUdp(host, p);
      if (!s) {
        ok = false;
        break;
      }
      held.push(s);
    }
    await Promise.all(held.map(closeUdp));
    if (ok) return base;
  }
  throw new Error(`no run of ${count} free UDP ports on ${host} after ${tries} tries`);
}
