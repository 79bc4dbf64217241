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

/**
 * Where a server's own ports are taken from: below the relay ranges of freePortRange and below
 * Linux's ephemeral range (32768..60999), which the OS hands to every client socket bound to
 * port 0 or connected: a port found free there can be taken by a test's client connection
 * between the probe and the server's bind (seen in CI as EADDRINUSE at a server's start).
 */
export const SERVER_PORT_SPAN: PortSpan = { from: 10000, below: 20000 };

/**
 * Server ports this process handed out lately. A probe finds a port free until its server binds
 * it, so two picks before the first server started could return the same port or overlapping
 * pairs: a coturn example script with several servers got EADDRINUSE at one's start (CI). Picks
 * from SERVER_PORT_SPAN skip them (a few per test; relay ranges, thousands of ports, are not kept).
 */
const handedOut = new Map<number, number>();
const HANDED_OUT_MS = 300_000;

function handedOutLately(first: number, count: number): boolean {
  const now = Date.now();
  for (let p = first; p < first + count; p++) {
    const at = handedOut.get(p);
    if (at !== undefined && now - at < HANDED_OUT_MS) return true;
  }
  return false;
}

/** Notes `count` ports from `first` as handed out; returns `first`. */
function handOut(first: number, count: number): number {
  const now = Date.now();
  for (let p = first; p < first + count; p++) handedOut.set(p, now);
  return first;
}

/** A port of SERVER_PORT_SPAN free for `probe` on host; `what` names it in the error. */
async function freeServerPort(host: string, what: string, probe: (port: number) => Promise<boolean>, tries = 50): Promise<number> {
  const { from, below } = SERVER_PORT_SPAN;
  for (let i = 0; i < tries; i++) {
    const port = from + Math.floor(Math.random() * (below - from));
    if (!handedOutLately(port, 1) && (await probe(port))) return handOut(port, 1);
  }
  throw new Error(`no free ${what} port on ${host} in ${from}..${below - 1} after ${tries} tries`);
}

export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return freeServerPort(host, 'UDP', async (port) => {
    const sock = await bindUdp(host, port);
    if (sock) await closeUdp(sock);
    return sock !== null;
  });
}

export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return freeServerPort(host, 'TCP', async (port) => {
    const srv = await listenTcp(host, port);
    if (srv) await closeTcp(srv);
    return srv !== null;
  });
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
 * also listens on each listening port + 1, its RFC 5780 alternate port); from `span`, by
 * default SERVER_PORT_SPAN.
 */
export async function freeUdpTcpPortsOnAll(hosts: readonly string[], count: number, tries = 50, span = SERVER_PORT_SPAN): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const port = span.from + Math.floor(Math.random() * (span.below - span.from - count));
    if (port + count - 1 > 65535 || handedOutLately(port, count)) continue;
    let free = true;
    for (let p = port; free && p < port + count; p++) free = await isFreeOnAll(hosts, p);
    if (free) return handOut(port, count);
  }
  throw new Error(`no ${count} consecutive ports free for both UDP and TCP on ${hosts.join(' and ')} after ${tries} tries`);
}

/** A port free for UDP and TCP on every one of `hosts`, and the next one too (RFC 5780's alternative port is port + 1). */
export async function freePortPairOnAll(hosts: readonly string[], tries = 50): Promise<number> {
  for (let i = 0; i < tries; i++) {
    const port = await freeUdpTcpPortOnAll(hosts, tries);
    if (port < 65535 && !handedOutLately(port + 1, 1) && (await isFreeOnAll(hosts, port + 1))) return handOut(port, 2);
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
 * Where relay ranges are taken from: above SERVER_PORT_SPAN and under Linux's ephemeral range
 * (32768 up), which the OS hands to every socket bound to port 0. A range in the ephemeral span
 * could lose a port to a test's own client socket between the probe and the server's bind: a
 * test that allocates its server's whole range then got 39 of 40 relays (seen under load).
 */
export const RELAY_PORT_SPAN: PortSpan = { from: 20000, below: 32768 };

/**
 * `count` consecutive ports, all free for UDP binding on host. Bases are random in the span
 * (default RELAY_PORT_SPAN) so parallel runs rarely collide; the number of tries is bounded.
 */
export async function freePortRange(host: string, count: number, tries = 50, span: PortSpan = RELAY_PORT_SPAN): Promise<number> {
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
