/** The messages of coturn's redis-statsdb, as coturn 4.6.1 formats them (ns_ioalib_engine_impl.c). */
import type { Allocation, TrafficCounters } from '../turn/allocation.js';
import type { ClientTransport } from '../turn/session.js';

export type Traffic = Readonly<TrafficCounters>;

/** coturn's socket_type_name(). */
const TYPE_NAMES: Record<ClientTransport, string> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS/TCP', dtls: 'DTLS' };

/** "new lifetime=600, type=UDP, local=127.0.0.1:3478, remote=127.0.0.1:40000, ssl=NONE, cipher=NONE". */
export function statusMessage(allocation: Allocation, lifetimeSeconds: number, refreshed: boolean): string {
  const { session } = allocation;
  // Turnpike does not keep the TLS version and cipher of a session: NONE, as coturn writes for plain transports.
  return `${refreshed ? 'refreshed' : 'new'} lifetime=${lifetimeSeconds}, type=${TYPE_NAMES[session.transport]}, ` +
    `local=${addressText(session.local)}, remote=${addressText(session.remote)}, ssl=NONE, cipher=NONE`;
}

/**
 * "rcvp=…, rcvb=…, sentp=…, sentb=…": for the client, what the server received from it and sent
 * to it; for the peer side ("peer"), what it received from peers and sent to them.
 */
export function trafficMessage(t: Traffic, side: 'client' | 'peer'): string {
  const [rcvp, rcvb, sentp, sentb] = side === 'client'
    ? [t.packetsFromClient, t.bytesFromClient, t.packetsToClient, t.bytesToClient]
    : [t.packetsToClient, t.bytesToClient, t.packetsFromClient, t.bytesFromClient];
  return `rcvp=${rcvp}, rcvb=${rcvb}, sentp=${sentp}, sentb=${sentb}`;
}

/** coturn's addr_to_string: IPv6 in brackets. */
function addressText(a: { address: string; port: number }): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}
