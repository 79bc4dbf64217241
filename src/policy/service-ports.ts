/**
 * The ports this server serves on (TURN listeners, TLS/DTLS, aux servers, metrics, admin,
 * self-test). With `allow-loopback-peers`, a loopback peer may be any local program except
 * these: a relay pointed at them would be the server talking to itself (or a client reaching
 * the admin and metrics interfaces from outside). Ports asked as 0 are added once bound.
 */
import type { ServerOptions } from '../config/server-options.js';

export class ServicePorts {
  private readonly ports = new Set<number>();

  constructor(ports: Iterable<number | undefined> = []) {
    this.add(ports);
  }

  /** Ports 0 (not bound yet) and undefined are skipped. */
  add(ports: Iterable<number | undefined>): void {
    for (const port of ports) if (port !== undefined && port > 0) this.ports.add(port);
  }

  has(port: number): boolean {
    return this.ports.has(port);
  }

  /** Sorted, for the start-up log. */
  list(): number[] {
    return [...this.ports].sort((a, b) => a - b);
  }
}

/** The ports the options name; those given as 0 are added by whoever binds them. */
export function configuredServicePorts(options: ServerOptions): (number | undefined)[] {
  return [
    options.listeningPort,
    options.tlsListeningPort,
    options.tcpProxyPort,
    ...options.auxServers.map((a) => a.port),
    options.metrics?.port,
    options.admin?.http?.port,
    options.selfTest?.port,
  ];
}
