/**
 * RFC 5780 as coturn serves it: with two or more listening IPs, each one also listens on a
 * second port (`alt-listening-port`, `alt-tls-listening-port`; default the port + 1), and a
 * Binding answer names the OTHER-ADDRESS (the next listening IP of the same family, on the
 * other port of the pair), from which CHANGE-REQUEST has the answer sent.
 *
 * coturn takes the other IP after the first of the family, whichever was reached; this takes
 * the one after the IP reached, as RFC 5780 §7.4 asks. The two agree for the first IP, the
 * one clients are given.
 */
import type { DatagramSender } from './listener-socket.js';
import type { ServerOptions } from '../config/server-options.js';
import type { Logger } from '../log/logger-interface.js';
import { ipFamily, type TransportAddress } from '../stun/ip.js';
import type { AlternateAddresses } from '../turn/nat-discovery.js';

/** A listening port's place in its pair: the configured one or its alternative, plain or TLS. */
export interface PortRole {
  readonly tls: boolean;
  readonly alt: boolean;
}

/** The ports each listening IP binds: the configured pair, then (with RFC 5780) the alternative pair. */
export interface PortPair {
  readonly port: number;
  readonly tlsPort: number;
  readonly alt: boolean;
}

/** Whether RFC 5780 is served, as coturn decides it: two listening IPs, no external-ip, no `no-rfc5780`. */
export function rfc5780Wanted(options: ServerOptions, listeningIps: readonly string[]): boolean {
  return !options.noRfc5780 && listeningIps.length >= 2 && options.externalIps.size === 0;
}

/** Says once at start whether, and why not, NAT behaviour discovery is served. */
export function logRfc5780(options: ServerOptions, listeningIps: readonly string[], logger: Logger): void {
  if (rfc5780Wanted(options, listeningIps)) logger.info(`RFC 5780 NAT behaviour discovery on ${listeningIps.join(', ')}, ports ${portPairs(options, true).map((p) => `${p.port}/${p.tlsPort}`).join(' and ')}`);
  else if (options.noRfc5780) logger.info('RFC 5780 NAT behaviour discovery is off (no-rfc5780)');
  else if (options.externalIps.size > 0) logger.info('RFC 5780 NAT behaviour discovery is off: external-ip is set');
  else logger.info('RFC 5780 NAT behaviour discovery is off: it needs two listening IPs (listening-ip)');
}

/** coturn's alternative port: the configured one, or the port + 1 (any free port when the port is 0). */
function alternative(alt: number, port: number): number {
  return alt !== 0 ? alt : port === 0 ? 0 : port + 1;
}

export function portPairs(options: ServerOptions, rfc5780: boolean): PortPair[] {
  const main: PortPair = { port: options.listeningPort, tlsPort: options.tlsListeningPort, alt: false };
  if (!rfc5780) return [main];
  return [main, { port: alternative(options.altListeningPort, options.listeningPort), tlsPort: alternative(options.altTlsListeningPort, options.tlsListeningPort), alt: true }];
}

const at = (address: string, port: number): string => `${address}|${port}`;
const roleKey = (address: string, role: PortRole): string => `${address}|${role.tls ? 'tls' : 'plain'}|${role.alt ? 'alt' : 'main'}`;

export class AlternateEndpoints implements AlternateAddresses {
  private readonly roles = new Map<string, PortRole>();
  private readonly ports = new Map<string, number>();
  private readonly sockets = new Map<string, DatagramSender>();

  constructor(private readonly ips: readonly string[]) {}

  /** A bound listening port (UDP first: its port is the one a role is known by); `udp`: its socket, to answer from. */
  add(address: string, port: number, role: PortRole, udp?: DatagramSender): void {
    if (!this.roles.has(at(address, port))) this.roles.set(at(address, port), role);
    if (!this.ports.has(roleKey(address, role))) this.ports.set(roleKey(address, role), port);
    if (udp) this.sockets.set(at(address, port), udp);
  }

  otherAddress(local: TransportAddress): TransportAddress | undefined {
    return this.changed(local, true, true);
  }

  /**
   * The listening address that differs from `local` in its IP, its port or both: each IP's
   * own port of the role, so that it is bound even when the ports were asked as 0.
   */
  changed(local: TransportAddress, changeIp: boolean, changePort: boolean): TransportAddress | undefined {
    const role = this.roles.get(at(local.address, local.port));
    const ip = changeIp ? this.otherIp(local.address) : local.address;
    if (!role || ip === undefined) return undefined;
    const port = this.ports.get(roleKey(ip, { tls: role.tls, alt: changePort !== role.alt }));
    return port === undefined ? undefined : { family: local.family, address: ip, port };
  }

  sendFrom(origin: TransportAddress, destination: TransportAddress, data: Buffer): boolean {
    const socket = this.sockets.get(at(origin.address, origin.port));
    socket?.send(data, destination.port, destination.address);
    return socket !== undefined;
  }

  /** The next listening IP of the same family after `address`, round the list. */
  private otherIp(address: string): string | undefined {
    const index = this.ips.indexOf(address);
    const family = ipFamily(address);
    for (let step = 1; index >= 0 && step < this.ips.length; step++) {
      const ip = this.ips[(index + step) % this.ips.length]!;
      if (ipFamily(ip) === family && ip !== address) return ip;
    }
    return undefined;
  }
}
